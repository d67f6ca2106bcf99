"""Typed HTTP client shared by the CLI, the agent and the CNI plugin."""

from vfnet.client.client import Client
from vfnet.client.errors import error_from

__all__ = ["Client", "error_from"]

"""Typed HTTP client shared by the CLI, the agent and the CNI plugin."""

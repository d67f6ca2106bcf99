"""The Hypervisor seam: what the agent asks of libvirt, as a narrow protocol of ours.

One real implementation (``libvirt_hypervisor.LibvirtHypervisor``, the only module that
imports libvirt) and one in memory (``memory_hypervisor.MemoryHypervisor``) for tests of
the code above it. Domains are named, never looked up by id; device XML is what
``domain_xml.device_xml`` makes.

Errors, the same from both: ``NotFound("domain", name)`` for a domain that is not
defined, ``NotFound("device", ...)`` for detaching a device the domain lacks,
``Conflict`` for an operation the domain's state does not allow (starting a running
domain, resuming one with no saved image, attaching a device twice), ``ValidationError``
for XML the hypervisor refuses, ``DriverError`` for anything else it reports.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol


class DomainState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"  # vCPUs stopped, memory kept in the host
    SHUT_OFF = "shut off"
    SAVED = "saved"  # shut off with a managed save image: the next start resumes it
    OTHER = "other"  # crashed, shutting down, blocked: nothing vfnet acts on


class Plugged(StrEnum):
    """How far an attach or detach reached."""

    LIVE = "live"  # the running guest and the domain's configuration both have it
    # The configuration only: the guest sees the change when the domain next starts.
    # Either the domain is not running, or its driver cannot hot-plug.
    CONFIG = "config"


class Hypervisor(Protocol):
    def define(self, xml: str) -> str:
        """Define (or redefine) a persistent domain, its XML checked against the schema;
        returns its name."""
        ...

    def undefine(self, name: str) -> None:
        """Forget a shut-off domain, with its managed save image if it has one."""
        ...

    def names(self) -> list[str]:
        """Every defined domain's name, sorted."""
        ...

    def state(self, name: str) -> DomainState: ...

    def xml(self, name: str, *, inactive: bool = False) -> str:
        """The running domain's XML, or with ``inactive`` the one it next starts with."""
        ...

    def start(self, name: str) -> None:
        """Boot the domain, or resume it from its managed save image."""
        ...

    def destroy(self, name: str) -> None:
        """Stop the domain at once; a domain that is not running is left as it is."""
        ...

    def attach(self, name: str, device_xml: str) -> Plugged:
        """Add a device to the configuration, and to the guest when it is running."""
        ...

    def detach(self, name: str, device_xml: str) -> Plugged:
        """Remove the device with the same MAC (interface) or PCI address (hostdev)."""
        ...

    def suspend(self, name: str) -> None:
        """Save the running domain's memory to disk and stop it (libvirt's managed save)."""
        ...

    def resume(self, name: str) -> None:
        """Start a suspended domain from its saved image."""
        ...

    def pause(self, name: str) -> None:
        """Stop the vCPUs of a running domain, keeping its memory in the host."""
        ...

    def unpause(self, name: str) -> None: ...

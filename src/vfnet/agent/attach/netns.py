"""NamespaceOps: the narrow seam between container attachment and the kernel's namespaces.

A namespace is named as ``ip netns`` names it (a bind mount under ``/run/netns``) or
by an absolute path to a namespace file (``/proc/PID/ns/net``, as CNI runtimes pass
it); ``None`` is the namespace this process runs in, the host's. Links are named within
their namespace. Every call is one kernel operation, so the attach steps above it
can be reversed one by one and retried after a crash.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["Link", "NamespaceOps", "Route"]


@dataclass(frozen=True, slots=True)
class Link:
    """A network interface as one namespace shows it."""

    name: str
    index: int
    mac: str
    mtu: int
    up: bool
    alias: str | None = None  # IFLA_IFALIAS: kept by the kernel across namespace moves
    kind: str | None = None  # "veth", "bridge"...; None for a NIC's own netdev (a real VF)


@dataclass(frozen=True, slots=True)
class Route:
    """A route through one link: ``dst`` is a CIDR or ``default``; no gateway: on-link."""

    dst: str
    gateway: str | None = None


class NamespaceOps(Protocol):
    """Named network namespaces and the links, addresses and routes inside them.

    Every method raises ``DriverError`` with the kernel's reason when the kernel
    refuses, and ``NotFound`` when a named namespace or link is not there.
    """

    def exists(self, ns: str) -> bool: ...

    def release(self) -> None:
        """Lets go of every handle into a named namespace: a socket held in a container's
        namespace keeps it alive after its runtime deleted it, and the VF stuck in it."""
        ...

    def create(self, ns: str) -> None:
        """Makes namespace ``ns`` with its loopback up; nothing when it is there already."""
        ...

    def delete(self, ns: str) -> None:
        """Removes namespace ``ns``; nothing when it is gone. Virtual links in it die with
        it; a NIC's netdevs go back to the init namespace."""
        ...

    def links(self, ns: str | None) -> list[Link]: ...

    def move(self, ns: str | None, name: str, to_ns: str | None, new_name: str) -> None:
        """Moves link ``name`` into ``to_ns``, named ``new_name`` there (one kernel call,
        so it never clashes with a link of its old name in the target)."""
        ...

    def set_link(
        self,
        ns: str | None,
        name: str,
        *,
        new_name: str | None = None,
        mac: str | None = None,
        mtu: int | None = None,
        up: bool | None = None,
        alias: str | None = None,
    ) -> None:
        """Changes what is given; ``alias=""`` clears the alias. A rename needs the link down."""
        ...

    def addresses(self, ns: str | None, name: str) -> list[str]:
        """The link's addresses as CIDRs (``192.0.2.5/24``, ``2001:db8::5/64``)."""
        ...

    def add_address(self, ns: str | None, name: str, cidr: str) -> None: ...

    def delete_address(self, ns: str | None, name: str, cidr: str) -> None: ...

    def routes(self, ns: str | None, name: str) -> list[Route]:
        """Routes of the main table leaving through the link (connected ones included)."""
        ...

    def add_route(self, ns: str | None, name: str, route: Route) -> None: ...

    # Veth pairs and bridges, for ports that are not SR-IOV (a container on a host bridge).

    def add_veth(self, ns: str | None, name: str, peer_ns: str | None, peer: str) -> None:
        """Makes veth ``name`` in ``ns`` with its peer ``peer`` born in ``peer_ns``, both
        down, in one kernel call: the peer never takes a name in the wrong namespace."""
        ...

    def delete_link(self, ns: str | None, name: str) -> None:
        """Removes a virtual link; a veth takes its peer with it."""
        ...

    def set_master(self, ns: str | None, name: str, master: str | None) -> None:
        """Enslaves the link to bridge ``master`` of the same namespace; None frees it."""
        ...

    def bridge_ports(self, ns: str | None, bridge: str) -> list[str]:
        """The names of the links enslaved to ``bridge``."""
        ...

"""Normal ports of containers: a veth pair from the host's bridge into the container.

For each bridge port of a container instance the host end, ``vfb`` + 12 hex digits of
the port id, is enslaved to the physnet's bridge and up; its peer is born in the
container's namespace (``vfnet-c-<id>``) as the port's ``ifname``, with the port's MAC,
MTU, addresses and routes. Both ends carry the alias ``vfnet-port <port id>``, so a peer
is known as the port's wherever its name went. A host-end veth with the prefix that no
wanted port names any more is deleted, and its peer with it.

Every step first reads what the kernel has, so a pass after a crash, or a pass with
nothing to do, converges with no state of ours; an idle pass only reads.

Public API: BridgePlugger, veth_name, tap_name, BRIDGES_SECTION.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from vfnet.agent.attach.netns import Link, NamespaceOps
from vfnet.agent.attach.own import container_netns, create_container
from vfnet.agent.desired import BridgePort, DesiredState, InstanceSpec
from vfnet.errors import DriverError, VfnetError

if TYPE_CHECKING:
    from vfnet.agent.loop import Discovery

log = logging.getLogger("vfnet.agent")

VETH_PREFIX = "vfb"
TAP_PREFIX = "tap"
ALIAS_TAG = "vfnet-port "
# Where a host's physnet -> bridge entries live in its config file, named in errors.
BRIDGES_SECTION = "bridges"
_HEX = re.compile(r"[^0-9a-f]")

__all__ = ["BRIDGES_SECTION", "BridgePlugger", "tap_name", "veth_name"]


def _digits(port_id: str) -> str:
    """12 hex digits that name the port: its id's own (a UUID's first ones) when it has
    that many, so an operator can match them by eye; else a digest of the id."""
    digits = _HEX.sub("", port_id.lower())
    if len(digits) < 12:
        digits = hashlib.sha256(port_id.encode()).hexdigest()
    return digits[:12]


def veth_name(port_id: str) -> str:
    """The host end of a container's bridge port (15 characters, IFNAMSIZ - 1)."""
    return VETH_PREFIX + _digits(port_id)


def tap_name(port_id: str) -> str:
    """The tap libvirt makes for a VM's bridge port."""
    return TAP_PREFIX + _digits(port_id)


class BridgePlugger:
    """Plugs the bridge ports of the host's container instances; one ``sync`` a turn."""

    def __init__(self, ops: NamespaceOps, *, host_ns: str | None = None) -> None:
        self.ops = ops
        self.host_ns = host_ns  # where the bridges are: None, this host's own namespace

    def sync(self, desired: DesiredState, discovery: Discovery) -> Mapping[str, str]:
        """Plugs every wanted port and removes the veths of ports no longer wanted.

        Returns port id -> reason for each port it could not plug.
        """
        try:
            turn = _Turn(self.ops, self.host_ns, discovery.config.source)
            containers = _containers(desired)
            # Removed first: a gone port's peer may hold the name a new port takes.
            turn.remove_unwanted({veth_name(p.port_id) for c in containers for p in c.bridge_ports})
            for instance in containers:
                turn.plug_instance(instance)
        finally:
            self.ops.release()  # a handle held in a container's namespace keeps it alive
        return turn.problems


class _Turn:
    """One sync: the host's links read once, and what each port could not get."""

    def __init__(self, ops: NamespaceOps, host_ns: str | None, config_source: str) -> None:
        self.ops, self.host_ns = ops, host_ns
        self.config_source = config_source
        self.host = {link.name: link for link in ops.links(host_ns)}
        self.bridges = {name for name, link in self.host.items() if link.kind == "bridge"}
        self.members: dict[str, set[str]] = {}  # bridge -> its ports, read when first asked
        self.problems: dict[str, str] = {}

    def plug_instance(self, instance: InstanceSpec) -> None:
        try:
            ns = container_netns(instance.id)
            if not self.ops.exists(ns):  # create() brings lo up each time: a write
                create_container(self.ops, instance.id)
            inside = self.ops.links(ns)
        except VfnetError as error:
            for port in instance.bridge_ports:
                self._problem(instance, port, str(error))
            return
        for port in instance.bridge_ports:
            if port.bridge not in self.bridges:
                self._problem(
                    instance,
                    port,
                    f"bridge {port.bridge!r} is not on this host: create it, or correct the "
                    f"port's physnet under [{BRIDGES_SECTION}] in {self.config_source}",
                )
                continue
            try:
                self._plug(ns, port, inside)
            except VfnetError as error:
                self._problem(instance, port, str(error))

    def _problem(self, instance: InstanceSpec, port: BridgePort, reason: str) -> None:
        log.warning("bridge port %s of container %s: %s", port.port_id, instance.id, reason)
        self.problems[port.port_id] = f"container {instance.id}: {reason}"

    def _plug(self, ns: str, port: BridgePort, inside: list[Link]) -> None:
        name, tag = veth_name(port.port_id), ALIAS_TAG + port.port_id
        end = self.host.get(name)
        peer = next((link for link in inside if link.alias == tag), None)
        if end is not None and (peer is None or peer.name != port.ifname):
            # Half made, or the port's name in the container changed: make it again.
            self.ops.delete_link(self.host_ns, name)
            end = None
        if end is None or peer is None:
            end, peer = self._create(ns, port)
        elif name not in self._members(port.bridge):
            self.ops.set_master(self.host_ns, name, port.bridge)
        _set(self.ops, self.host_ns, end, mtu=port.mtu, up=True)
        _set(self.ops, ns, peer, mac=port.mac, mtu=port.mtu)
        _addresses(self.ops, ns, port)
        _set(self.ops, ns, peer, up=True)
        present = set(self.ops.routes(ns, port.ifname)) if port.routes else set()
        for route in port.routes:
            if route not in present:
                self.ops.add_route(ns, port.ifname, route)

    def _create(self, ns: str, port: BridgePort) -> tuple[Link, Link]:
        """The pair made, aliased and on its bridge, both ends down; as the kernel has them."""
        name, tag = veth_name(port.port_id), ALIAS_TAG + port.port_id
        self.ops.add_veth(self.host_ns, name, ns, port.ifname)
        self.ops.set_link(self.host_ns, name, alias=tag)
        self.ops.set_link(ns, port.ifname, alias=tag)
        self.ops.set_master(self.host_ns, name, port.bridge)
        log.info("bridge port %s: %s on %s, %s in %s", port.port_id, name, port.bridge,
                 port.ifname, ns)  # fmt: skip
        return _find(self.ops.links(self.host_ns), name), _find(self.ops.links(ns), port.ifname)

    def _members(self, bridge: str) -> set[str]:
        if bridge not in self.members:
            self.members[bridge] = set(self.ops.bridge_ports(self.host_ns, bridge))
        return self.members[bridge]

    def remove_unwanted(self, wanted: set[str]) -> None:
        for name, link in sorted(self.host.items()):
            if link.kind != "veth" or not name.startswith(VETH_PREFIX) or name in wanted:
                continue
            try:
                self.ops.delete_link(self.host_ns, name)
                log.info("bridge port %s removed (%s)", name, link.alias or "no alias")
            except VfnetError as error:
                log.warning("bridge port %s stays: %s", name, error)


def _containers(desired: DesiredState) -> list[InstanceSpec]:
    return [
        instance
        for _, instance in sorted(desired.instances.items())
        if instance.kind == "container" and instance.bridge_ports
    ]


def _find(links: list[Link], name: str) -> Link:
    found = next((link for link in links if link.name == name), None)
    if found is None:  # the kernel made it a moment ago: someone removed it since
        raise DriverError(f"{name} vanished right after it was made")
    return found


def _set(
    ops: NamespaceOps,
    ns: str | None,
    link: Link,
    *,
    mac: str | None = None,
    mtu: int | None = None,
    up: bool | None = None,
) -> None:
    """Only what differs from ``link`` as last read, so an idle pass writes nothing."""
    new_mac = mac.lower() if mac is not None and mac.lower() != link.mac else None
    new_mtu = mtu if mtu is not None and mtu != link.mtu else None
    new_up = up if up is not None and up != link.up else None
    if (new_mac, new_mtu, new_up) != (None, None, None):
        ops.set_link(ns, link.name, mac=new_mac, mtu=new_mtu, up=new_up)


def _addresses(ops: NamespaceOps, ns: str, port: BridgePort) -> None:
    wanted = [str(ipaddress.ip_interface(cidr)) for cidr in port.addresses]
    have = {str(ipaddress.ip_interface(cidr)) for cidr in ops.addresses(ns, port.ifname)}
    for extra in sorted(have - set(wanted)):
        if not ipaddress.ip_interface(extra).ip.is_link_local:  # the kernel's own
            ops.delete_address(ns, port.ifname, extra)
    for cidr in wanted:
        if cidr not in have:
            ops.add_address(ns, port.ifname, cidr)

"""Attaching a VF's netdev to a container's network namespace, and taking it back.

attach: record the VF's home (namespace, name, MAC, MTU) in the link's alias -> move it
into the container under a temporary name -> rename it (eth0, net1...) -> set MAC and
MTU -> addresses -> up -> routes. detach reverses each step. Both can run again at any
point, after a crash too, and end in the same state: every step first looks at what
the kernel has. The alias travels with the link across namespaces, so the VF is found,
and its home known, wherever it is, with no state of ours on disk.

When a container's namespace goes with a VF still inside, the kernel destroys virtual
links (a veth VF of the emulated switch dies with its representor: its switch makes it
again) and sends a NIC's netdev back to the init namespace, keeping its container name
or, when that is taken, ``devN``. detach finds it there by its alias and brings it home.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from vfnet.agent.attach.netns import Link, NamespaceOps, Route
from vfnet.errors import Conflict, NotFound, ValidationError

log = logging.getLogger(__name__)

ALIAS_TAG = "vfnet-vf "
IFNAMSIZ = 15

__all__ = [
    "Home",
    "Outcome",
    "attach",
    "detach",
    "find_vf",
    "remember_home",
    "remove_namespace",
]


class Outcome(StrEnum):
    """What detach found and did."""

    RETURNED = "returned"  # moved from the container back home
    RECOVERED = "recovered"  # its namespace had gone: found in the init namespace, brought home
    HOME = "home"  # already home (detached before, or never attached)
    GONE = "gone"  # destroyed with its namespace (a veth VF): its switch must make it again


@dataclass(frozen=True, slots=True)
class Home:
    """Where a VF's netdev lives when no container holds it, and how it looked there."""

    ns: str | None
    name: str
    mac: str
    mtu: int

    def alias(self) -> str:
        body = {"ns": self.ns, "name": self.name, "mac": self.mac, "mtu": self.mtu}
        return ALIAS_TAG + json.dumps(body, separators=(",", ":"))

    @classmethod
    def of(cls, alias: str | None) -> Home | None:
        if not alias or not alias.startswith(ALIAS_TAG):
            return None
        try:
            body = json.loads(alias.removeprefix(ALIAS_TAG))
            return cls(body["ns"], body["name"], body["mac"], int(body["mtu"]))
        except (ValueError, KeyError, TypeError):
            return None  # an alias someone else wrote

    def temporary_name(self) -> str:
        """A name no container or host uses, for the VF between two namespaces."""
        digest = hashlib.sha256(f"{self.ns}/{self.name}".encode()).hexdigest()
        return "vft" + digest[: IFNAMSIZ - 3]


def find_vf(ops: NamespaceOps, ns: str | None, home_ns: str | None, vf: str) -> Link | None:
    """The link in ``ns`` whose alias says it is VF netdev ``vf`` of namespace ``home_ns``."""
    for link in ops.links(ns):
        home = Home.of(link.alias)
        if home is not None and (home.ns, home.name) == (home_ns, vf):
            return link
    return None


def _lookup(ops: NamespaceOps, ns: str | None, name: str) -> Link | None:
    return next((link for link in ops.links(ns) if link.name == name), None)


def attach(
    ops: NamespaceOps,
    vf_netdev: str,
    host_ns: str | None,
    container_ns: str,
    *,
    ifname: str,
    mac: str | None = None,
    mtu: int | None = None,
    addresses: Sequence[str] = (),
    routes: Sequence[Route] = (),
) -> Link:
    """Puts VF netdev ``vf_netdev`` of ``host_ns`` into ``container_ns`` as ``ifname``, up,
    with ``mac``, ``mtu``, ``addresses`` (CIDRs) and ``routes``; returns the link."""
    wanted = [_interface(cidr) for cidr in addresses]
    try:
        _attach(ops, vf_netdev, host_ns, container_ns, ifname)
        _configure(ops, container_ns, ifname, mac, mtu, wanted, routes)
        found = _lookup(ops, container_ns, ifname)
    finally:
        ops.release()
    assert found is not None
    log.info("attached %s of %s to %s as %s", vf_netdev, host_ns or "host", container_ns, ifname)
    return found


def _attach(
    ops: NamespaceOps, vf_netdev: str, host_ns: str | None, container_ns: str, ifname: str
) -> Link:
    """The VF in the container under ``ifname`` (down if it had to be renamed)."""
    if not ops.exists(container_ns):
        raise NotFound("network namespace", container_ns)
    link = find_vf(ops, container_ns, host_ns, vf_netdev)
    if link is None:
        link = _move_in(ops, vf_netdev, host_ns, container_ns)
    if link.name != ifname:
        if _lookup(ops, container_ns, ifname) is not None:
            raise Conflict(f"namespace {container_ns} already has a link named {ifname}")
        if link.up:
            ops.set_link(container_ns, link.name, up=False)
        ops.set_link(container_ns, link.name, new_name=ifname)
    return link


def _interface(cidr: str) -> str:
    try:
        return str(ipaddress.ip_interface(cidr))
    except ValueError:
        raise ValidationError("addresses", f"{cidr!r} is not an address with a prefix") from None


def remember_home(ops: NamespaceOps, vf: str, host_ns: str | None) -> tuple[Link, Home]:
    """Writes the VF's home (name, MAC, MTU) into its alias, unless already there: called
    before anything changes its MAC, so that detach puts back the MAC it had."""
    at_home = find_vf(ops, host_ns, host_ns, vf) or _lookup(ops, host_ns, vf)
    if at_home is None:
        raise NotFound("VF netdev", f"{vf} in {host_ns or 'the host namespace'}")
    home = Home.of(at_home.alias)
    if home is None or (home.ns, home.name) != (host_ns, vf):
        home = Home(host_ns, vf, at_home.mac, at_home.mtu)
        ops.set_link(host_ns, at_home.name, alias=home.alias())
    return at_home, home


def _move_in(ops: NamespaceOps, vf: str, host_ns: str | None, container_ns: str) -> Link:
    at_home, home = remember_home(ops, vf, host_ns)
    ops.move(host_ns, at_home.name, container_ns, home.temporary_name())
    found = _lookup(ops, container_ns, home.temporary_name())
    assert found is not None
    return found


def _configure(
    ops: NamespaceOps,
    ns: str,
    ifname: str,
    mac: str | None,
    mtu: int | None,
    addresses: list[str],
    routes: Sequence[Route],
) -> None:
    link = _lookup(ops, ns, ifname)
    assert link is not None
    if mac is not None and link.mac != mac.lower():
        ops.set_link(ns, ifname, mac=mac.lower())
    if mtu is not None and link.mtu != mtu:
        ops.set_link(ns, ifname, mtu=mtu)
    have = {_interface(cidr) for cidr in ops.addresses(ns, ifname)}
    for extra in sorted(have - set(addresses)):
        if not ipaddress.ip_interface(extra).ip.is_link_local:
            ops.delete_address(ns, ifname, extra)
    for cidr in addresses:
        if cidr not in have:
            ops.add_address(ns, ifname, cidr)
    if not link.up:
        ops.set_link(ns, ifname, up=True)
    present = set(ops.routes(ns, ifname))
    for route in routes:
        if route not in present:
            ops.add_route(ns, ifname, route)


def detach(ops: NamespaceOps, vf_netdev: str, host_ns: str | None, container_ns: str) -> Outcome:
    """Brings VF netdev ``vf_netdev`` home to ``host_ns`` from ``container_ns`` (which may be
    gone) with its name, MAC and MTU of before, down and without its alias."""
    try:
        return _detach(ops, vf_netdev, host_ns, container_ns)
    finally:
        ops.release()


def _detach(ops: NamespaceOps, vf_netdev: str, host_ns: str | None, container_ns: str) -> Outcome:
    if ops.exists(container_ns):
        inside = find_vf(ops, container_ns, host_ns, vf_netdev)
        if inside is not None:
            _move_home(ops, container_ns, inside, host_ns)
            return Outcome.RETURNED
    at_home = find_vf(ops, host_ns, host_ns, vf_netdev) or _lookup(ops, host_ns, vf_netdev)
    if at_home is not None:
        # Under another name with its namespace gone: the kernel returned it (host_ns None).
        returned = at_home.name != vf_netdev and not ops.exists(container_ns)
        _restore(ops, host_ns, at_home)
        return Outcome.RECOVERED if returned else Outcome.HOME
    stray = find_vf(ops, None, host_ns, vf_netdev)
    if stray is not None:
        log.warning(
            "%s came back to the init namespace as %s: bringing it home", vf_netdev, stray.name
        )
        _move_home(ops, None, stray, host_ns)
        return Outcome.RECOVERED
    log.warning("%s of %s is gone with namespace %s", vf_netdev, host_ns or "host", container_ns)
    return Outcome.GONE


def _move_home(ops: NamespaceOps, ns: str | None, link: Link, host_ns: str | None) -> None:
    home = Home.of(link.alias)
    assert home is not None
    if link.up:
        ops.set_link(ns, link.name, up=False)
    if ns != host_ns:
        ops.move(ns, link.name, host_ns, home.temporary_name())
        link = _lookup(ops, host_ns, home.temporary_name()) or link
    _restore(ops, host_ns, link)


def _restore(ops: NamespaceOps, ns: str | None, link: Link) -> None:
    """The link, at home, back to its name, MAC and MTU of before; alias cleared last, so
    that a crash before it leaves the VF findable."""
    home = Home.of(link.alias)
    if home is None:
        return
    name = link.name
    if name != home.name:
        if _lookup(ops, ns, home.name) is not None:
            raise Conflict(f"cannot rename {name} back to {home.name}: the name is taken")
        if link.up:
            ops.set_link(ns, name, up=False)
        ops.set_link(ns, name, new_name=home.name)
        name = home.name
    if link.mac != home.mac:
        ops.set_link(ns, name, mac=home.mac)
    if link.mtu != home.mtu:
        ops.set_link(ns, name, mtu=home.mtu)
    ops.set_link(ns, name, alias="")


def remove_namespace(ops: NamespaceOps, ns: str) -> dict[str, Outcome]:
    """Sends every VF in ``ns`` home, then deletes it: a namespace deleted with a NIC's VF
    inside can hang the VF driver (igbvf spins in napi_disable), and a veth VF would die."""
    if not ops.exists(ns):
        return {}
    outcomes = {}
    for link in ops.links(ns):
        home = Home.of(link.alias)
        if home is not None:
            outcomes[home.name] = detach(ops, home.name, home.ns, ns)
    ops.delete(ns)
    return outcomes

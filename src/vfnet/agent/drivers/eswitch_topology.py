"""Building and removing one emulated host's software switch: namespaces, bridges, veths, nft.

A host is a namespace holding its PF and VF netdevs. Each (physnet, vlan) segment is a
bridge in it, created on demand, with an uplink veth to the same segment's bridge in one
fabric namespace shared by every host on the machine: the top-of-rack switch. Ports of
two hosts on one segment meet there; different segments never share a bridge.
"""

from __future__ import annotations

import errno
import logging
from dataclasses import dataclass

from vfnet.agent.drivers import eswitch_names as names
from vfnet.agent.drivers import eswitch_tc as tc
from vfnet.agent.drivers.eswitch_kernel import (
    Netns,
    create_netns,
    delete_netns,
    ignoring,
    kernel_errors,
    netns_exists,
)

log = logging.getLogger(__name__)

IFF_UP = 1

# Sets hold what a VF table has and a bridge port does not: a rule drops frames from a
# port in spoofchk_on whose source MAC is not the port's assigned one (ports without an
# assigned MAC are not checked: the VF picked its own, as a VF driver does).
NFT_TABLE_SCRIPT = f"""\
add table bridge {names.NFT_TABLE}
add set bridge {names.NFT_TABLE} spoofchk_on {{ type ifname; }}
add set bridge {names.NFT_TABLE} mac_assigned {{ type ifname; }}
add set bridge {names.NFT_TABLE} vf_mac {{ type ifname . ether_addr; }}
add set bridge {names.NFT_TABLE} trust_on {{ type ifname; }}
add set bridge {names.NFT_TABLE} link_auto {{ type ifname; }}
add set bridge {names.NFT_TABLE} vlan_qos {{ type ifname . mark; }}
add chain bridge {names.NFT_TABLE} prerouting \
{{ type filter hook prerouting priority 0; policy accept; }}
flush chain bridge {names.NFT_TABLE} prerouting
add rule bridge {names.NFT_TABLE} prerouting iifname @spoofchk_on iifname @mac_assigned \
iifname . ether saddr != @vf_mac counter drop
"""


@dataclass(frozen=True, slots=True)
class PfPorts:
    """One PF of an emulated host: its netdev, its physnet and its VF netdevs by VF index."""

    pf: str
    physnet: str
    vfs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class HostSwitch:
    """One emulated host's switch; ``fabric`` is the namespace its uplinks meet in."""

    host: str
    pfs: tuple[PfPorts, ...]
    fabric: str = names.FABRIC_NETNS

    @property
    def netns(self) -> str:
        return names.host_netns(self.host)

    def port(self, pf: str) -> PfPorts | None:
        return next((p for p in self.pfs if p.pf == pf), None)


class Segments:
    """Segment bridges of one host and their uplinks into the fabric, made on demand."""

    def __init__(self, switch: HostSwitch, host: Netns, fabric: Netns) -> None:
        self._switch = switch
        self._host = host
        self._fabric = fabric
        self._complete: dict[str, int] = {}  # bridges known uplinked: bridge name -> index

    def bridge(self, physnet: str, vlan: int) -> int:
        """The ifindex of segment (physnet, vlan)'s bridge, made and uplinked if missing."""
        name = names.bridge(physnet, vlan)
        index = self._host.index(name)
        if index is not None and self._complete.get(name) == index:
            return index
        if index is None:
            index = _add_bridge(self._host, name)
        self._uplink(physnet, vlan, index)
        self._complete[name] = index
        return index

    def _uplink(self, physnet: str, vlan: int, host_bridge: int) -> None:
        uplink = names.uplink(physnet, vlan)
        peer = names.fabric_port(self._switch.host, uplink)
        fabric_bridge = self._fabric.index(names.bridge(physnet, vlan))
        if fabric_bridge is None:
            fabric_bridge = _add_bridge(self._fabric, names.bridge(physnet, vlan))
        if self._host.index(uplink) is None:
            with ignoring():  # a crash may have left the fabric end alone: drop it
                self._fabric.ipr.link("del", ifname=peer)
            self._host.ipr.link(
                "add",
                ifname=uplink,
                kind="veth",
                peer={"ifname": peer, "net_ns_fd": self._switch.fabric},
                master=host_bridge,
                flags=IFF_UP,
                change=IFF_UP,
            )
        peer_index = self._fabric.index(peer)
        if peer_index is not None:
            self._fabric.ipr.link("set", index=peer_index, master=fabric_bridge, state="up")


def _add_bridge(ns: Netns, name: str) -> int:
    """The bridge, made unless another host's agent made it first (the fabric is shared)."""
    with ignoring(errno.EEXIST):
        ns.ipr.link("add", ifname=name, kind="bridge", flags=IFF_UP, change=IFF_UP)
    index = ns.index(name)
    assert index is not None
    return index


def open_switch(switch: HostSwitch) -> tuple[Netns, Netns]:
    """Handles on the host's and the fabric's namespaces, creating them when missing."""
    for name in (switch.fabric, switch.netns):
        if not netns_exists(name):
            create_netns(name)
    host, fabric = Netns(switch.netns), Netns(switch.fabric)
    for ns in (host, fabric):
        # A switch sends nothing of its own: no IPv6 router solicitations or MLD reports
        # from its bridges reaching the VFs.
        for scope in ("all", "default"):
            ns.sysctl(f"net.ipv6.conf.{scope}.disable_ipv6", "1")
        ns.ipr.link("set", index=ns.index("lo"), state="up")
    host.nft.run(NFT_TABLE_SCRIPT)
    return host, fabric


def ensure(switch: HostSwitch) -> None:
    """Makes the host's switch match ``switch``; running it twice leaves the same state.

    Raises:
        DriverError: the kernel refused a step (what was made stays; the next run goes on).
    """
    with kernel_errors(f"host {switch.host}: building its switch"):
        host, fabric = open_switch(switch)
        try:
            segments = Segments(switch, host, fabric)
            for pf in switch.pfs:
                _ensure_pf(host, segments, pf)
        finally:
            host.close()
            fabric.close()
    log.info("eswitch of %s: %d PFs ready", switch.host, len(switch.pfs))


def _ensure_pf(host: Netns, segments: Segments, pf: PfPorts) -> None:
    untagged = segments.bridge(pf.physnet, 0)
    peer = names.pf_peer(pf.pf)
    if host.index(pf.pf) is None:
        with ignoring():
            host.ipr.link("del", ifname=peer)
        host.ipr.link("add", ifname=peer, kind="veth", peer={"ifname": pf.pf})
    host.ipr.link("set", ifname=peer, master=untagged, state="up")
    host.ipr.link("set", ifname=pf.pf, state="up")
    present = {
        index
        for link in host.ipr.get_links()
        if (index := names.representor_index(pf.pf, link.get_attr("IFLA_IFNAME"))) is not None
    }
    added = [n for n in range(len(pf.vfs)) if n not in present]
    for n in added:
        host.ipr.link(
            "add",
            ifname=names.representor(pf.pf, n),
            kind="veth",
            peer={"ifname": pf.vfs[n]},
            master=untagged,
            flags=IFF_UP,
            change=IFF_UP,
        )
    if added:
        _reset(host, pf.pf, added)
    for n in range(len(pf.vfs)):
        rep = host.index(names.representor(pf.pf, n))
        assert rep is not None
        tc.add_rate_limiter(host, pf.pf, n, rep)
    for n in sorted(present - set(range(len(pf.vfs)))):
        _remove_vf(host, pf.pf, n)


def _reset(host: Netns, pf: str, vfs: list[int]) -> None:
    """New representors read as released VFs: spoofchk on, link state auto, nothing else.

    A representor made again (its VF died with a container's namespace, which took the
    veth pair along) must not inherit what the old one left in the sets or on its ifb.
    """
    reps = [names.representor(pf, n) for n in vfs]
    lines = _forget(host, reps)
    listed = ", ".join(reps)
    lines.append(f"add element bridge {names.NFT_TABLE} spoofchk_on {{ {listed} }}")
    lines.append(f"add element bridge {names.NFT_TABLE} link_auto {{ {listed} }}")
    host.nft.run("\n".join(lines))
    for n in vfs:
        limiter = host.index(names.rate_limiter(pf, n))
        if limiter is not None:
            with ignoring(errno.ENOENT, errno.EINVAL):
                host.ipr.tc("del", index=limiter, parent=tc.TC_H_ROOT)


def _forget(host: Netns, reps: list[str]) -> list[str]:
    """nft lines deleting every set element keyed by one of ``reps``."""
    wanted = set(reps)
    lines = []
    for item in host.nft.list_json(f"table bridge {names.NFT_TABLE}"):
        found = item.get("set", {})
        for element in found.get("elem", []):
            key = element["concat"] if isinstance(element, dict) else [element]
            if key[0] in wanted:
                value = " . ".join(str(k) for k in key)
                set_name = f"bridge {names.NFT_TABLE} {found['name']}"
                lines.append(f"delete element {set_name} {{ {value} }}")
    return lines


def _remove_vf(host: Netns, pf: str, n: int) -> None:
    """Drops VF ``n`` (fewer VFs wanted): its veth pair, its rate limiter, its set entries."""
    rep = names.representor(pf, n)
    for link in (rep, names.rate_limiter(pf, n)):
        with ignoring():
            host.ipr.link("del", ifname=link)
    lines = _forget(host, [rep])
    if lines:
        host.nft.run("\n".join(lines))


def teardown(switch: HostSwitch) -> None:
    """Removes what :func:`ensure` made for this host, and the fabric once no host uses it.

    Works on half-made state (a crash between steps): each part is checked, not assumed.
    """
    if netns_exists(switch.fabric) and netns_exists(switch.netns):
        host, fabric = Netns(switch.netns), Netns(switch.fabric)
        try:
            for link in host.ipr.get_links():
                name = link.get_attr("IFLA_IFNAME")
                if name.startswith("u-"):
                    with ignoring():
                        fabric.ipr.link("del", ifname=names.fabric_port(switch.host, name))
        finally:
            host.close()
            fabric.close()
    delete_netns(switch.netns)
    if netns_exists(switch.fabric):
        _drop_fabric_if_unused(switch.fabric)
    log.info("eswitch of %s removed", switch.host)


def _drop_fabric_if_unused(fabric_name: str) -> None:
    fabric = Netns(fabric_name)
    try:
        links = fabric.ipr.get_links()
        in_use = any(link.get_attr("IFLA_MASTER") for link in links)
    finally:
        fabric.close()
    if not in_use:
        delete_netns(fabric_name)

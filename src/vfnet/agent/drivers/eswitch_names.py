"""Names of the software eswitch's namespaces and links, all within the kernel's 15 characters.

Every name is derived, never stored: the driver finds a VF's representor, rate limiter
and segment bridge again from the PF name, the VF index and the segment alone, so its
state survives a restart of the agent.
"""

from __future__ import annotations

import hashlib
import re

IFNAMSIZ = 15  # usable characters of a Linux interface name
NETNS_PREFIX = "vfnet-"
FABRIC_NETNS = "vfnet-fabric"
NFT_TABLE = "vfnet"  # in the bridge family of each host's namespace

_PLAIN = re.compile(r"[A-Za-z0-9_]+")
_PHYSNET_CHARS = 8  # "b-" + 8 + "-" + 4 vlan digits = 15


def _digest(text: str, length: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def host_netns(host: str) -> str:
    """The namespace that holds one emulated host's PF and VF netdevs and its switch."""
    return f"{NETNS_PREFIX}{host}"


def physnet_tag(physnet: str) -> str:
    """The physnet as it appears in link names: itself when short and plain, else a hash."""
    if len(physnet) <= _PHYSNET_CHARS and _PLAIN.fullmatch(physnet):
        return physnet
    return _digest(physnet, _PHYSNET_CHARS)


def bridge(physnet: str, vlan: int) -> str:
    """The bridge of segment (physnet, vlan); vlan 0 is the untagged one the PF sits on."""
    return f"b-{physnet_tag(physnet)}-{vlan}"


def bridge_vlan(name: str) -> int | None:
    """The VLAN of a segment bridge named by :func:`bridge`, or None for any other link."""
    head, _, vlan = name.rpartition("-")
    if not head.startswith("b-") or not vlan.isdigit():
        return None
    return int(vlan)


def uplink(physnet: str, vlan: int) -> str:
    """The host end of a segment's veth to the fabric (like a PF's cable to the switch)."""
    return f"u-{physnet_tag(physnet)}-{vlan}"


def fabric_port(host: str, uplink_name: str) -> str:
    """The fabric end of a host's uplink: unique per host and segment on one machine."""
    return "f" + _digest(f"{host}/{uplink_name}", IFNAMSIZ - 1)


def _port(pf: str, kind: str, n: int) -> str:
    name = f"{pf}{kind}{n}"
    if len(name) <= IFNAMSIZ:
        return name
    # A long PF name (enp129s0f1np1) cannot take a suffix: use a hash of it instead.
    return f"x{_digest(pf, 8)}{kind}{n}"


def pf_peer(pf: str) -> str:
    """The switch end of the PF netdev's veth, a port of the untagged segment."""
    name = f"{pf}p"
    return name if len(name) <= IFNAMSIZ else f"x{_digest(pf, 8)}p"


def representor(pf: str, vf: int) -> str:
    """VF ``vf``'s switch port: the bridge port whose state and filters are the VF's."""
    return _port(pf, "r", vf)


def rate_limiter(pf: str, vf: int) -> str:
    """The ifb device whose tbf shapes what VF ``vf`` sends."""
    return _port(pf, "q", vf)


def representor_index(pf: str, name: str) -> int | None:
    """The VF index when ``name`` is one of ``pf``'s representors, else None."""
    for prefix in (f"{pf}r", f"x{_digest(pf, 8)}r"):
        tail = name.removeprefix(prefix)
        if tail != name and tail.isdigit() and representor(pf, int(tail)) == name:
            return int(tail)
    return None

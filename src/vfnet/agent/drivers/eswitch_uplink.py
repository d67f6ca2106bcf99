"""Link state ``auto`` on the eswitch: the VFs that follow their PF's link, kept in step.

A NIC keeps an ``auto`` VF's link in step with its port's physical link by itself. On
the emulated host, "the PF's link" is the PF netdev's carrier as the host sees it
(IFF_LOWER_UP): the PF is one end of a veth whose other end is its port on the
untagged segment bridge, its cable to the switch, so the carrier drops when the PF is
set down (``ip link set <pf> down``) or when its cable's switch end is. A segment's
uplink to the fabric is not it: one uplink serves every PF of a physnet, as a
top-of-rack switch serves many cables, and a PF keeps its link when another host's port
goes away.

Nothing tells the switch when that carrier changes, so :func:`follow` is called once a
turn: one link dump and one listing of the ``link_auto`` set, then each ``auto``
representor whose admin state differs from its PF's link is set down or up, all in one
rtnetlink batch.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import NamedTuple

from vfnet.agent.drivers import eswitch_names as names
from vfnet.agent.drivers.eswitch_kernel import Netns
from vfnet.agent.drivers.eswitch_topology import IFF_UP, HostSwitch
from vfnet.agent.drivers.netlink_messages import link_settings

IFF_LOWER_UP = 0x10000  # the driver signals carrier (set only while the link is up)

__all__ = ["UplinkFollowed", "auto_representors", "follow"]


class UplinkFollowed(NamedTuple):
    """An ``auto`` VF whose link was set to its PF's: ``up`` is the state it was set to."""

    pf: str
    vf: int
    up: bool


def auto_representors(host: Netns) -> set[str]:
    """The representors in the ``link_auto`` set, read now (another process may write it)."""
    listed = host.nft.list_json(f"set bridge {names.NFT_TABLE} link_auto")
    found = (item["set"] for item in listed if "set" in item)
    return {str(element) for got in found for element in got.get("elem", [])}


def follow(host: Netns, switch: HostSwitch, auto: Collection[str]) -> list[UplinkFollowed]:
    """Sets each representor in ``auto`` down or up to match its PF's link; what changed.

    Raises:
        DriverError: the kernel refused a change (the others were still made).
    """
    links = {name: (index, flags) for index, flags, name, _ in host.links()}
    followed: list[UplinkFollowed] = []
    requests: list[bytes] = []
    for ports in switch.pfs:
        pf = links.get(ports.pf)
        if pf is None:  # not built yet: ensure makes it, and the next turn follows
            continue
        up = bool(pf[1] & IFF_UP and pf[1] & IFF_LOWER_UP)
        for vf in range(len(ports.vfs)):
            rep = names.representor(ports.pf, vf)
            if rep not in auto or rep not in links:
                continue
            index, flags = links[rep]
            if bool(flags & IFF_UP) != up:
                requests.append(link_settings(index, up=up))
                followed.append(UplinkFollowed(ports.pf, vf, up))
    if requests:
        host.set_links(requests)
    return followed

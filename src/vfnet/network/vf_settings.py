"""What a VF looks like in its PF's VF table: the settings a port asks for and a NIC holds.

A PF's VF table is what ``ip link show <pf>`` prints as ``vf N ...`` lines: per VF a
MAC, a VLAN with its QoS priority and protocol, spoof checking, trust, min and max
transmit rates (Mbps) and a link state. The server derives these from a port (its
network's segment, port security, QoS policy, admin state) and publishes them; the
agent's drivers read and set them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

ZERO_MAC = "00:00:00:00:00:00"


class VfAttr(StrEnum):
    MAC = "mac"
    VLAN = "vlan"  # vlan, qos and vlan_proto, set together
    RATE = "rate"  # min_tx_rate and max_tx_rate, set together
    SPOOFCHK = "spoofchk"
    LINK_STATE = "link_state"
    TRUST = "trust"


# The kernel's order in do_setvfinfo (net/core/rtnetlink.c): MAC, VLAN, VLAN_LIST,
# TX_RATE, RATE, SPOOFCHK, LINK_STATE, RSS, TRUST. Drivers set attributes in this order.
APPLY_ORDER: tuple[VfAttr, ...] = (
    VfAttr.MAC,
    VfAttr.VLAN,
    VfAttr.RATE,
    VfAttr.SPOOFCHK,
    VfAttr.LINK_STATE,
    VfAttr.TRUST,
)


class LinkState(StrEnum):
    AUTO = "auto"  # follow the PF's uplink
    ENABLE = "enable"
    DISABLE = "disable"


@dataclass(frozen=True, slots=True)
class VfSettings:
    """The settable attributes of one VF, as the PF's VF table shows them.

    The defaults are a VF nobody uses: what a release resets it to.
    """

    mac: str = ZERO_MAC
    vlan: int = 0
    qos: int = 0
    vlan_proto: str = "802.1Q"
    spoofchk: bool = True
    trust: bool = False
    min_tx_rate: int = 0  # Mbps, 0: no guarantee
    max_tx_rate: int = 0  # Mbps, 0: unlimited
    link_state: LinkState = LinkState.AUTO

    def differs(self, other: VfSettings) -> tuple[VfAttr, ...]:
        """The attributes (in :data:`APPLY_ORDER`) on which ``other`` differs from this."""
        return tuple(attr for attr in APPLY_ORDER if _value(self, attr) != _value(other, attr))


RESET = VfSettings()


def _value(settings: VfSettings, attr: VfAttr) -> object:
    if attr is VfAttr.VLAN:
        return (settings.vlan, settings.qos, settings.vlan_proto)
    if attr is VfAttr.RATE:
        return (settings.min_tx_rate, settings.max_tx_rate)
    return getattr(settings, attr.value)

"""What a port needs its VF's NIC to set, and what a PF's refusal says about later ports.

An agent reports, per port in ERROR, the VF attributes the NIC refused (``VfAttr``
values, and ``mirror``). The server keeps them per PF, since a NIC does not learn,
and the scheduler keeps a port that needs one of them off that PF.

Rates are written as a pair (``IFLA_VF_RATE``), so an agent can only say ``rate``.
The port that met the refusal tells which half failed: one asking a guaranteed
minimum records ``min_tx_rate`` (the usual gap: NICs that cap a VF's rate but cannot
guarantee one), any other ``rate``. So a port with a minimum needs both, a port with
only a limit needs ``rate``, and limits still go to a PF that refused a minimum.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from vfnet.network.qos import BANDWIDTH_LIMIT, MINIMUM_BANDWIDTH, QosPolicy
from vfnet.network.vf_settings import VfAttr

MIN_TX_RATE = "min_tx_rate"
RATE = VfAttr.RATE.value
LINK_STATE = VfAttr.LINK_STATE.value
MIRROR = "mirror"

# Why a port needs each attribute, for the reason a refused placement gives.
NEEDED_FOR = {
    MIN_TX_RATE: "a minimum bandwidth rule",
    RATE: "a bandwidth rule",
    LINK_STATE: "propagate_uplink_status",
    MIRROR: "mirror_to",
}


def vf_needs(
    policy: QosPolicy | None, *, propagate_uplink_status: bool, mirror_to: str | None
) -> frozenset[str]:
    """The refusable VF attributes a port needs: ``policy`` is its effective QoS policy."""
    needs = set()
    if policy is not None and policy.rate(MINIMUM_BANDWIDTH):
        needs |= {MIN_TX_RATE, RATE}
    if policy is not None and policy.rate(BANDWIDTH_LIMIT):
        needs.add(RATE)
    if propagate_uplink_status:
        needs.add(LINK_STATE)
    if mirror_to is not None:
        needs.add(MIRROR)
    return frozenset(needs)


def recorded(refused: Iterable[str], needs: Collection[str]) -> frozenset[str]:
    """What one port's refusal says about its PF: ``rate`` refused to a port asking a
    minimum is ``min_tx_rate``; every other attribute is kept as the agent named it."""
    return frozenset(
        MIN_TX_RATE if attr == RATE and MIN_TX_RATE in needs else attr for attr in refused
    )

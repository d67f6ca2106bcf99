"""The VF settings a bound port asks for: the one place port, network and QoS become a VF row.

The server calls :func:`settings_for_port` when it publishes a host's desired state;
the agent only ever sees the resulting :class:`VfSettings`.
"""

from __future__ import annotations

from vfnet.network.networks import Network
from vfnet.network.ports import Port
from vfnet.network.qos import QosPolicy, vf_rates
from vfnet.network.vf_settings import LinkState, VfSettings

__all__ = ["settings_for_port"]


def settings_for_port(port: Port, network: Network, policy: QosPolicy | None) -> VfSettings:
    """What the VF of ``port`` (on ``network``) must hold.

    ``policy`` is the port's effective QoS policy (``qos.effective_policy``: the port's own,
    else its network's), ``None`` for none. The VLAN is the segment's (0 on a flat
    network); QoS priority and protocol stay at 0 and 802.1Q because a port has no field
    for them. Rates are always set as a pair: a policy with only a limit still writes a
    minimum of 0, so a guarantee left by an earlier policy does not survive.
    """
    rates = vf_rates(policy)
    return VfSettings(
        mac=port.mac_address.lower(),
        vlan=network.segment.vlan,
        spoofchk=port.spoofchk,
        trust=port.trusted,
        min_tx_rate=rates.min_tx_rate,
        max_tx_rate=rates.max_tx_rate,
        link_state=LinkState(port.link_state),
    )

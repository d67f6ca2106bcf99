"""VF settings from a port: MAC, segment VLAN, port security, trust, QoS rates, admin state."""

from __future__ import annotations

import pytest

from vfnet.network.networks import Network, NetworkType, Segment
from vfnet.network.ports import Port
from vfnet.network.qos import BANDWIDTH_LIMIT, MINIMUM_BANDWIDTH, QosPolicy, QosRule
from vfnet.network.vf_config import settings_for_port
from vfnet.network.vf_settings import LinkState, VfSettings
from vfnet.network.vnic_types import VnicType

VLAN100 = Network("net1", "p1", Segment(NetworkType.VLAN, "physnet1", 100), id="net-1")
FLAT = Network("flat", "p1", Segment(NetworkType.FLAT, "physnet1"), id="net-2")
MAC = "fa:16:3e:00:00:01"
LIMIT = QosPolicy("limit", (QosRule(BANDWIDTH_LIMIT, 10_000),))
BOTH = QosPolicy("both", (QosRule(BANDWIDTH_LIMIT, 10_000), QosRule(MINIMUM_BANDWIDTH, 1500)))
GUARANTEE = QosPolicy("guarantee", (QosRule(MINIMUM_BANDWIDTH, 400),))


def _port(**fields) -> Port:
    return Port("net-1", MAC, VnicType.DIRECT, **fields)


def test_a_plain_port_on_a_vlan_network_gets_its_mac_and_the_segment_vlan():
    assert settings_for_port(_port(), VLAN100, None) == VfSettings(
        mac=MAC, vlan=100, spoofchk=True, trust=False, link_state=LinkState.AUTO
    )


def test_a_port_on_a_flat_network_is_untagged():
    assert settings_for_port(_port(), FLAT, None).vlan == 0


def test_the_mac_is_written_in_lower_case_as_the_kernel_prints_it():
    port = Port("net-1", "FA:16:3E:0A:0B:0C", VnicType.DIRECT)
    assert settings_for_port(port, VLAN100, None).mac == "fa:16:3e:0a:0b:0c"


@pytest.mark.parametrize(
    ("fields", "spoofchk", "trust"),
    [
        ({}, True, False),
        ({"port_security_enabled": False}, False, False),
        ({"profile": {"trusted": True}}, True, True),
        ({"profile": {"trusted": False}}, True, False),
        ({"port_security_enabled": False, "profile": {"trusted": True}}, False, True),
    ],
)
def test_port_security_is_spoofchk_and_a_trusted_profile_is_trust(fields, spoofchk, trust):
    settings = settings_for_port(_port(**fields), VLAN100, None)
    assert (settings.spoofchk, settings.trust) == (spoofchk, trust)


@pytest.mark.parametrize(
    ("policy", "rates"),
    [
        (None, (0, 0)),
        (LIMIT, (0, 10)),
        (BOTH, (2, 10)),
        (GUARANTEE, (1, 0)),
    ],
)
def test_qos_rules_become_min_and_max_tx_rates_in_mbps_always_together(policy, rates):
    settings = settings_for_port(_port(), VLAN100, policy)
    assert (settings.min_tx_rate, settings.max_tx_rate) == rates


@pytest.mark.parametrize(
    ("fields", "link_state"),
    [
        ({}, LinkState.AUTO),
        ({"propagate_uplink_status": False}, LinkState.ENABLE),
        ({"admin_state_up": False}, LinkState.DISABLE),
        ({"admin_state_up": False, "propagate_uplink_status": False}, LinkState.DISABLE),
    ],
)
def test_admin_down_disables_the_vf_link_before_uplink_propagation_is_considered(
    fields, link_state
):
    assert settings_for_port(_port(**fields), VLAN100, None).link_state is link_state


def test_the_vlan_priority_and_protocol_stay_at_their_defaults():
    settings = settings_for_port(_port(), VLAN100, BOTH)
    assert (settings.qos, settings.vlan_proto) == (0, "802.1Q")

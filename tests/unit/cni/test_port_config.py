"""A bound port's JSON as the API serves it -> what its container's VF must hold."""

from __future__ import annotations

from typing import Any

import pytest

from vfnet.cni.port_config import PortConfig, policy_id_of, port_config
from vfnet.cni.protocol import CniError, Code, IpConfig
from vfnet.network.vf_settings import LinkState, VfSettings

MAC = "fa:16:3e:00:00:07"
PORT: dict[str, Any] = {
    "id": "p1", "network_id": "n1", "mac_address": MAC, "binding:vnic_type": "direct",
    "admin_state_up": True, "port_security_enabled": True, "propagate_uplink_status": True,
    "binding:profile": {"pci_slot": "0000:3b:10.2", "physical_network": "physnet1"},
    "qos_policy_id": None, "binding:host_id": "compute-1",
    "fixed_ips": [{"subnet_id": "s4", "ip_address": "192.0.2.20"},
                  {"subnet_id": "s6", "ip_address": "2001:db8::14"}],
}  # fmt: skip
NETWORK: dict[str, Any] = {
    "id": "n1", "name": "net", "project_id": "blue", "admin_state_up": True, "mtu": 9000,
    "provider:network_type": "vlan", "provider:physical_network": "physnet1",
    "provider:segmentation_id": 100, "qos_policy_id": None,
}  # fmt: skip
SUBNETS: dict[str, dict[str, Any]] = {
    "s4": {"id": "s4", "cidr": "192.0.2.0/24", "gateway_ip": "192.0.2.1"},
    "s6": {"id": "s6", "cidr": "2001:db8::/64", "gateway_ip": None},
}
LIMIT = {
    "id": "q1",
    "rules": [
        {"type": "bandwidth_limit", "max_kbps": 50000, "direction": "egress"},
        {"type": "minimum_bandwidth", "min_kbps": 999, "direction": "egress"},
    ],
}

CASES = [
    # (what, port changes, network changes, policy, the VF's settings)
    ("a VLAN port as created", {}, {}, None, VfSettings(mac=MAC, vlan=100)),
    ("a flat network is untagged",
     {}, {"provider:network_type": "flat", "provider:segmentation_id": None}, None,
     VfSettings(mac=MAC)),
    ("port security off is spoofchk off", {"port_security_enabled": False}, {}, None,
     VfSettings(mac=MAC, vlan=100, spoofchk=False)),
    ("a trusted profile is trust on",
     {"binding:profile": {"pci_slot": "0000:3b:10.2", "trusted": True}}, {}, None,
     VfSettings(mac=MAC, vlan=100, trust=True)),
    ("admin down is link disable", {"admin_state_up": False}, {}, None,
     VfSettings(mac=MAC, vlan=100, link_state=LinkState.DISABLE)),
    ("no uplink propagation is link enable", {"propagate_uplink_status": False}, {}, None,
     VfSettings(mac=MAC, vlan=100, link_state=LinkState.ENABLE)),
    ("a policy's kbps are Mbps, rounded as Neutron does", {}, {}, LIMIT,
     VfSettings(mac=MAC, vlan=100, min_tx_rate=1, max_tx_rate=50)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("port", "network", "policy", "settings"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_the_vf_holds_what_the_servers_desired_state_would(
    port: dict[str, Any],
    network: dict[str, Any],
    policy: dict[str, Any] | None,
    settings: VfSettings,
) -> None:
    found = port_config({**PORT, **port}, {**NETWORK, **network}, policy, SUBNETS)
    assert found.settings == settings


def test_the_container_gets_the_ports_mac_mtu_and_fixed_ips_with_their_gateways() -> None:
    assert port_config(PORT, NETWORK, None, SUBNETS) == PortConfig(
        port_id="p1",
        pci_slot="0000:3b:10.2",
        settings=VfSettings(mac=MAC, vlan=100),
        mac=MAC,
        mtu=9000,
        ips=(
            IpConfig("192.0.2.20/24", "192.0.2.1", 0),
            IpConfig("2001:db8::14/64", None, 0),
        ),
    )


def test_the_ports_own_policy_wins_over_its_networks() -> None:
    assert policy_id_of({**PORT, "qos_policy_id": "mine"}, {**NETWORK, "qos_policy_id": "net"}) == (
        "mine"
    )
    assert policy_id_of(PORT, {**NETWORK, "qos_policy_id": "net"}) == "net"
    assert policy_id_of(PORT, NETWORK) is None


def test_a_port_bound_without_a_vf_is_a_binding_failure() -> None:
    with pytest.raises(CniError) as refused:
        port_config({**PORT, "binding:profile": {}}, NETWORK, None, SUBNETS)
    assert refused.value.code == Code.BINDING_FAILED
    assert refused.value.msg == "port: p1 is bound on host compute-1 without a VF"


def test_a_port_the_plugin_cannot_read_is_a_decoding_failure() -> None:
    unreadable = {key: value for key, value in PORT.items() if key != "mac_address"}
    with pytest.raises(CniError) as refused:
        port_config(unreadable, NETWORK, None, SUBNETS)
    assert (refused.value.code, refused.value.msg.startswith("port p1: unreadable")) == (6, True)

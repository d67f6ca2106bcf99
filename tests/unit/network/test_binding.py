"""Binding: vif type and details per vnic type, device keys in the profile, reasons on failure."""

from __future__ import annotations

import pytest

from vfnet.network.binding import (
    Binding,
    BindingFailed,
    ClaimedDevice,
    HostNetworking,
    bind_port,
    reported,
    unbound_profile,
)
from vfnet.network.networks import Network, NetworkType, Segment
from vfnet.network.ports import Port, PortStatus
from vfnet.network.vnic_types import VnicType
from vfnet.pci.address import PciAddress
from vfnet.pci.devices import DeviceType, Netdev, PciDevice
from vfnet.pci.selection import SelectedDevice

VLAN100 = Network("net1", "p1", Segment(NetworkType.VLAN, "physnet1", 100), id="net-1")
FLAT = Network("flat", "p1", Segment(NetworkType.FLAT, "physnet1"), id="net-2")
VXLAN = Network("overlay", "p1", Segment(NetworkType.VXLAN, None, 5000), id="net-3")
PHYSNET9 = Network("far", "p1", Segment(NetworkType.VLAN, "physnet9", 9), id="net-4")
HOST = HostNetworking(
    "compute-2",
    physnets=frozenset({"physnet1", "physnet2"}),
    vnic_types=frozenset(
        {VnicType.NORMAL, VnicType.DIRECT, VnicType.MACVTAP, VnicType.DIRECT_PHYSICAL}
    ),
    bridges=frozenset({"physnet1"}),
)
VF = ClaimedDevice("0000:3b:02.1", "8086:154c", "physnet1")
PF = ClaimedDevice("0000:3b:00.0", "8086:1572", "physnet1", mac="3c:fd:fe:00:00:01")
MAC = "fa:16:3e:00:00:01"


def _port(vnic_type: VnicType, **fields) -> Port:
    return Port("net-1", MAC, vnic_type, **fields)


@pytest.mark.parametrize(
    ("vnic_type", "network", "device", "vif_type", "vlan"),
    [
        (VnicType.DIRECT, VLAN100, VF, "hw_veb", "100"),
        (VnicType.MACVTAP, VLAN100, VF, "hw_veb", "100"),
        (VnicType.DIRECT, FLAT, VF, "hw_veb", "0"),
        (VnicType.DIRECT_PHYSICAL, VLAN100, PF, "hostdev_physical", "100"),
        (VnicType.NORMAL, VLAN100, None, "bridge", "100"),
    ],
)
def test_a_port_binds_with_the_vif_type_and_vlan_of_its_kind(
    vnic_type, network, device, vif_type, vlan
):
    binding = bind_port(_port(vnic_type), network, HOST, device)
    assert isinstance(binding, Binding)
    assert binding.vif_type == vif_type
    assert binding.vif_details == {"port_filter": False, "connectivity": "l2", "vlan": vlan}
    assert binding.status is PortStatus.DOWN
    assert binding.host == "compute-2"


def test_a_vdpa_port_binds_as_vdpa_on_a_host_that_serves_it():
    host = HostNetworking("compute-3", frozenset({"physnet1"}), frozenset({VnicType.VDPA}))
    binding = bind_port(_port(VnicType.VDPA), VLAN100, host, VF)
    assert isinstance(binding, Binding)
    assert binding.vif_type == "vdpa"


def test_a_vf_port_profile_gets_the_claimed_device_keys_and_keeps_the_users():
    port = _port(VnicType.DIRECT, profile={"trusted": True})
    binding = bind_port(port, VLAN100, HOST, VF)
    assert isinstance(binding, Binding)
    assert binding.profile == {
        "trusted": True,
        "pci_slot": "0000:3b:02.1",
        "pci_vendor_info": "8086:154c",
        "physical_network": "physnet1",
    }
    assert binding.mac_address == MAC
    assert unbound_profile(binding.profile) == {"trusted": True}


def test_a_whole_pf_port_takes_the_pfs_mac():
    binding = bind_port(_port(VnicType.DIRECT_PHYSICAL), VLAN100, HOST, PF)
    assert isinstance(binding, Binding)
    assert binding.mac_address == "3c:fd:fe:00:00:01"
    assert binding.profile["device_mac_address"] == "3c:fd:fe:00:00:01"


@pytest.mark.parametrize(
    ("port", "network", "device", "reason"),
    [
        (
            _port(VnicType.DIRECT),
            PHYSNET9,
            VF,
            "host compute-2 has no physical network 'physnet9'; it has physnet1, physnet2",
        ),
        (
            _port(VnicType.DIRECT),
            VXLAN,
            VF,
            "network 'overlay' is a vxlan network; a direct port binds only on flat or vlan",
        ),
        (
            _port(VnicType.VDPA),
            VLAN100,
            VF,
            "host compute-2 does not serve vnic_type 'vdpa'; it serves direct, direct-physical",
        ),
        (
            _port(VnicType.NORMAL),
            Network("n", "p", Segment(NetworkType.VLAN, "physnet2", 5)),
            None,
            "no bridge on physical network 'physnet2'; it has bridges on physnet1",
        ),
        (_port(VnicType.DIRECT), VLAN100, None, "no device was claimed on host compute-2"),
        (
            _port(VnicType.DIRECT),
            VLAN100,
            ClaimedDevice("0000:3b:02.1", "8086:154c", "physnet2"),
            "device 0000:3b:02.1 on host compute-2 is on physical network 'physnet2'",
        ),
        (
            _port(VnicType.DIRECT, profile={"capabilities": ("switchdev",)}),
            VLAN100,
            VF,
            "'switchdev' capability needs an OVS/OVN hardware-offload control plane",
        ),
    ],
)
def test_a_port_that_cannot_bind_says_why_and_where(port, network, device, reason):
    result = bind_port(port, network, HOST, device)
    assert isinstance(result, BindingFailed)
    assert result.vif_type == "binding_failed"
    assert result.host == "compute-2"
    assert reason in result.reason


def test_a_macvtap_port_with_switchdev_capability_still_binds():
    port = _port(VnicType.MACVTAP, profile={"capabilities": ("switchdev",)})
    assert isinstance(bind_port(port, VLAN100, HOST, VF), Binding)


@pytest.mark.parametrize(
    ("applied", "admin_state_up", "status"),
    [
        (True, True, PortStatus.ACTIVE),
        (True, False, PortStatus.DOWN),
        (False, True, PortStatus.DOWN),
    ],
)
def test_a_port_goes_active_only_when_the_agent_reports_it_applied_and_up(
    applied, admin_state_up, status
):
    binding = bind_port(_port(VnicType.DIRECT), VLAN100, HOST, VF)
    assert isinstance(binding, Binding)
    assert reported(binding, applied=applied, admin_state_up=admin_state_up).status is status


def test_a_claimed_device_comes_from_a_selected_device_and_its_tags():
    pf = PciDevice(
        address=PciAddress.parse("0000:3b:00.0"),
        dev_type=DeviceType.PF,
        vendor_id="8086",
        product_id="1572",
        netdevs=(Netdev("ens1f0", "3c:fd:fe:00:00:01"),),
    )
    claimed = ClaimedDevice.from_selected(SelectedDevice(pf, {"physical_network": "physnet1"}))
    assert claimed == ClaimedDevice("0000:3b:00.0", "8086:1572", "physnet1", "3c:fd:fe:00:00:01")

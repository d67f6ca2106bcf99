"""Ports: vnic types, profile writes by role, security groups, mirror_to, VF settings."""

from __future__ import annotations

import pytest

from vfnet.errors import Conflict, Forbidden, ValidationError
from vfnet.network.networks import Network, NetworkType, Segment
from vfnet.network.ports import (
    Port,
    PortRequest,
    check_port_update,
    check_profile,
    validate_port,
)
from vfnet.network.vnic_types import VnicType, parse_vnic_type
from vfnet.scheduler.requests import request_for_port

PHYSNET1 = Network("net1", "p1", Segment(NetworkType.VLAN, "physnet1", 100), id="net-1")
PHYSNET2 = Network("net2", "p1", Segment(NetworkType.VLAN, "physnet2", 200), id="net-2")
MAC = "fa:16:3e:00:00:01"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, VnicType.NORMAL),
        ("normal", VnicType.NORMAL),
        ("direct", VnicType.DIRECT),
        ("macvtap", VnicType.MACVTAP),
        ("direct-physical", VnicType.DIRECT_PHYSICAL),
        ("vdpa", VnicType.VDPA),
    ],
)
def test_a_vnic_type_vfnet_serves_is_accepted(value, expected):
    assert parse_vnic_type(value) is expected


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("virtio-forwarder", "vhost-user relay"),
        ("remote-managed", "DPU"),
        ("baremetal", "Ironic"),
        ("smart-nic", "Ironic"),
        ("accelerator-direct", "Cyborg"),
        ("accelerator-direct-physical", "Cyborg"),
        ("sriov", "unknown vnic_type"),
    ],
)
def test_a_vnic_type_vfnet_cannot_serve_is_refused_with_why(value, words):
    with pytest.raises(ValidationError) as error:
        parse_vnic_type(value)
    assert error.value.field == "binding:vnic_type"
    assert words in error.value.reason


@pytest.mark.parametrize("vnic_type", ["normal", "direct", "macvtap", "direct-physical", "vdpa"])
def test_every_served_vnic_type_is_one_the_scheduler_can_request(vnic_type):
    request = request_for_port("port-1", vnic_type, "physnet1")
    assert (request is None) == (vnic_type == "normal")


def _port(**fields) -> Port:
    request = PortRequest("net-1", **fields)
    return validate_port(request, PHYSNET1, role="member", mac_address=MAC)


@pytest.mark.parametrize(
    ("admin_state_up", "propagate", "link_state"),
    [
        (False, True, "disable"),
        (False, False, "disable"),
        (True, True, "auto"),
        (True, False, "enable"),
    ],
)
def test_admin_down_always_disables_the_vf_link(admin_state_up, propagate, link_state):
    port = _port(admin_state_up=admin_state_up, propagate_uplink_status=propagate)
    assert port.link_state == link_state


@pytest.mark.parametrize("enabled", [True, False])
def test_port_security_drives_spoofchk(enabled):
    assert _port(vnic_type="direct", port_security_enabled=enabled).spoofchk is enabled


@pytest.mark.parametrize(
    ("vnic_type", "words"),
    [("direct", "NIC"), ("direct-physical", "NIC"), ("macvtap", "NIC"), (None, "bridge")],
)
def test_security_groups_on_a_port_are_refused_with_why(vnic_type, words):
    with pytest.raises(ValidationError) as error:
        _port(vnic_type=vnic_type, security_groups=["default"])
    assert error.value.field == "security_groups"
    assert words in error.value.reason


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        ({}, {}),
        ({"trusted": True}, {"trusted": True}),
        ({"trusted": "true"}, {"trusted": True}),
        ({"trusted": "False"}, {"trusted": False}),
        ({"capabilities": ["switchdev"]}, {"capabilities": ("switchdev",)}),
    ],
)
def test_an_admin_may_set_trusted_and_capabilities(profile, expected):
    assert check_profile(profile, "admin") == expected


@pytest.mark.parametrize(
    ("profile", "field"),
    [
        ({"pci_slot": "0000:3b:02.1"}, "binding:profile.pci_slot"),
        ({"pci_vendor_info": "8086:154c"}, "binding:profile.pci_vendor_info"),
        ({"physical_network": "physnet1"}, "binding:profile.physical_network"),
        ({"device_mac_address": MAC}, "binding:profile.device_mac_address"),
        ({"trusted": "maybe"}, "binding:profile.trusted"),
        ({"capabilities": "switchdev"}, "binding:profile.capabilities"),
        ({"colour": "blue"}, "binding:profile.colour"),
    ],
)
def test_an_admin_setting_a_device_key_or_a_bad_value_is_refused(profile, field):
    with pytest.raises(ValidationError) as error:
        check_profile(profile, "admin")
    assert error.value.field == field


@pytest.mark.parametrize("profile", [{"trusted": True}, {"pci_slot": "0000:3b:02.1"}])
def test_a_member_setting_any_profile_key_is_forbidden(profile):
    with pytest.raises(Forbidden, match="only an admin"):
        _port(profile=profile)


def _mirroring(target: Port, target_network: Network, *, vnic_type: str = "direct") -> Port:
    request = PortRequest("net-1", vnic_type=vnic_type, mirror_to=target.id, id="port-a")
    return validate_port(
        request, PHYSNET1, role="member", mac_address=MAC, mirror_target=(target, target_network)
    )


def test_mirror_to_a_vf_port_on_the_same_physnet_is_accepted():
    target = Port("net-1", "fa:16:3e:00:00:02", VnicType.DIRECT, id="port-b")
    assert _mirroring(target, PHYSNET1).mirror_to == "port-b"


@pytest.mark.parametrize(
    ("target", "target_network", "vnic_type", "words"),
    [
        (Port("net-1", MAC, VnicType.DIRECT, id="port-a"), PHYSNET1, "direct", "itself"),
        (Port("net-2", MAC, VnicType.DIRECT, id="port-b"), PHYSNET2, "direct", "'physnet2'"),
        (
            Port("net-1", MAC, VnicType.NORMAL, id="port-b"),
            PHYSNET1,
            "direct",
            "target port is normal",
        ),
        (
            Port("net-1", MAC, VnicType.DIRECT, id="port-b"),
            PHYSNET1,
            "direct-physical",
            "this port",
        ),
    ],
)
def test_mirror_to_itself_another_physnet_or_a_non_vf_port_is_refused(
    target, target_network, vnic_type, words
):
    with pytest.raises(ValidationError) as error:
        _mirroring(target, target_network, vnic_type=vnic_type)
    assert error.value.field == "mirror_to"
    assert words in error.value.reason


@pytest.mark.parametrize(
    ("changes", "bound", "refused"),
    [
        ({"binding:vnic_type": "macvtap"}, True, True),
        ({"mac_address": "fa:16:3e:00:00:09"}, True, True),
        ({"binding:vnic_type": "direct"}, True, False),
        ({"binding:vnic_type": "macvtap"}, False, False),
        ({"admin_state_up": False}, True, False),
    ],
)
def test_a_bound_port_keeps_its_vnic_type_and_mac(changes, bound, refused):
    port = _port(vnic_type="direct")
    if refused:
        with pytest.raises(Conflict, match="while the port is bound"):
            check_port_update(port, changes, bound=bound)
    else:
        check_port_update(port, changes, bound=bound)

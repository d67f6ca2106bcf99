"""Neutron's physical_device_mappings and exclude_devices: syntax, and what they do to a host."""

from __future__ import annotations

import pytest

from tests.unit.pci.hosts import host, plain_nic, two_port_x710
from vfnet.errors import InvalidHostConfig
from vfnet.pci.address import PciAddress
from vfnet.pci.sriov_nic import parse_sriov_nic


@pytest.mark.parametrize(
    ("raw", "physnets"),
    [
        ({"physical_device_mappings": "physnet1:ens1f0,physnet2:ens1f1"},
         {"ens1f0": "physnet1", "ens1f1": "physnet2"}),
        ({"physical_device_mappings": ["physnet1:ens1f0", "physnet1:ens1f1"]},
         {"ens1f0": "physnet1", "ens1f1": "physnet1"}),
        ({"physical_device_mappings": " physnet1 : ens1f0 ,, physnet1:ens1f0 "},
         {"ens1f0": "physnet1"}),
        ({}, {}),
    ],
)  # fmt: skip
def test_mappings_parse_as_neutron_reads_them(raw, physnets):
    assert dict(parse_sriov_nic(raw).physnets) == physnets


def test_device_mappings_list_the_pfs_of_each_physnet():
    config = parse_sriov_nic({"physical_device_mappings": "p1:ens1f0,p1:ens1f1,p2:ens2f0"})
    assert config.device_mappings == {"p1": ["ens1f0", "ens1f1"], "p2": ["ens2f0"]}


def test_exclude_devices_split_on_the_first_colon_and_on_semicolons():
    config = parse_sriov_nic(
        {
            "physical_device_mappings": "physnet1:ens1f0,physnet2:ens1f1",
            "exclude_devices": "ens1f0:0000:3b:02.0; 0000:3b:02.1;,ens1f1:",
        }
    )
    assert config.exclude == {
        "ens1f0": {PciAddress.parse("0000:3b:02.0"), PciAddress.parse("0000:3b:02.1")},
        "ens1f1": frozenset(),
    }


MAP = {"physical_device_mappings": "physnet1:ens1f0"}


@pytest.mark.parametrize(
    ("raw", "field", "reason"),
    [
        ({"physical_device_mappings": "physnet1"}, "physical_device_mappings",
         "'physnet1' is not physnet:pf_netdev"),
        ({"physical_device_mappings": "physnet1:"}, "physical_device_mappings",
         "is not physnet:pf_netdev"),
        ({"physical_device_mappings": ":ens1f0"}, "physical_device_mappings",
         "is not physnet:pf_netdev"),
        ({"physical_device_mappings": "a:b:c"}, "physical_device_mappings",
         "is not physnet:pf_netdev"),
        ({"physical_device_mappings": "p1:ens1f0,p2:ens1f0"}, "physical_device_mappings",
         "PF 'ens1f0' is mapped to both 'p1' and 'p2'"),
        ({"physical_device_mappings": 3}, "physical_device_mappings", "expected a comma-separated"),
        ({**MAP, "exclude_devices": "ens1f1:0000:3b:0a.0"}, "exclude_devices",
         "PF 'ens1f1' is not in physical_device_mappings"),
        ({**MAP, "exclude_devices": ":0000:3b:02.0"}, "exclude_devices", "names no PF"),
        ({**MAP, "exclude_devices": "ens1f0:0000:3b:02.0;0000:3b:02.0"}, "exclude_devices",
         "PF 'ens1f0': 0000:3b:02.0 is listed twice"),
        ({**MAP, "exclude_devices": ["ens1f0:", "ens1f0:0000:3b:02.0"]}, "exclude_devices",
         "PF 'ens1f0' is listed twice"),
        ({**MAP, "exclude_devices": "ens1f0:3b:02.0"}, "exclude_devices",
         "PF 'ens1f0': '3b:02.0': expected domain:bus:slot.function"),
        ({**MAP, "device_mappings": ""}, "device_mappings", "unknown key"),
    ],
)  # fmt: skip
def test_bad_neutron_settings_are_refused_naming_the_option(raw, field, reason):
    with pytest.raises(InvalidHostConfig) as caught:
        parse_sriov_nic(raw, entry="[sriov_nic]")
    assert (caught.value.entry, caught.value.field) == ("[sriov_nic]", field)
    assert reason in caught.value.reason


def test_a_mapped_pfs_vfs_get_its_physnet_and_the_pf_itself_none():
    on = two_port_x710(num_vfs=2)
    config = parse_sriov_nic({"physical_device_mappings": "physnet1:ens1f0"})
    tags = {str(d.address): config.tags_for(d, on) for d in on}
    assert tags == {
        "0000:3b:00.0": None,
        "0000:3b:00.1": None,
        "0000:3b:02.0": {"physical_network": "physnet1"},
        "0000:3b:02.1": {"physical_network": "physnet1"},
        "0000:3b:0a.0": None,
        "0000:3b:0a.1": None,
    }


@pytest.mark.parametrize(
    ("mappings", "reason"),
    [
        ("physnet1:ens9", "PF 'ens9' does not exist on this host"),
        ("physnet1:ens1f0v0", "PF 'ens1f0v0' does not exist on this host"),
        ("physnet1:eno1", "'eno1' is not an SR-IOV PF"),
    ],
)
def test_a_mapping_to_a_pf_the_host_lacks_is_refused_once_the_host_is_known(mappings, reason):
    on = host(*two_port_x710().devices.values(), plain_nic("0000:00:19.0", "eno1"))
    config = parse_sriov_nic({"physical_device_mappings": mappings})
    with pytest.raises(InvalidHostConfig) as caught:
        config.validate(on)
    assert (caught.value.field, caught.value.reason) == ("physical_device_mappings", reason)

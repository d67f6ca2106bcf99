"""Device-plugin resourceList: parsing, loud refusals, and which devices each pool gets."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from tests.unit.pci.hosts import addresses, host, plain_nic, sriov_nic, two_port_x710, with_vdpa
from vfnet.errors import InvalidSelector
from vfnet.pci.devices import HostDevices
from vfnet.pci.selectors import DeviceKind, parse_resource_list

ENS1F0_VFS = ["0000:3b:02.0", "0000:3b:02.1", "0000:3b:02.2", "0000:3b:02.3"]
ENS1F1_VFS = ["0000:3b:0a.0", "0000:3b:0a.1", "0000:3b:0a.2", "0000:3b:0a.3"]


def pools(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceList": list(entries)}


def one_pool(selectors: Any, **extra: Any) -> dict[str, Any]:
    return pools({"resourceName": "sriov_a", "selectors": selectors, **extra})


def selected_by(selectors: Any, on: HostDevices | None = None, **extra: Any) -> list[str]:
    resource_list = parse_resource_list(one_pool(selectors, **extra))
    return addresses(resource_list.select(on or two_port_x710()))


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ({"pfNames": ["ens1f0"]}, ENS1F0_VFS),
        ({"pfNames": ["ens1f0#0-1,3"]}, ["0000:3b:02.0", "0000:3b:02.1", "0000:3b:02.3"]),
        ({"pfNames": ["ENS1F1#2"]}, ["0000:3b:0a.2"]),
        ({"pfNames": ["ens1f0#3", "ens1f1#0"]}, ["0000:3b:02.3", "0000:3b:0a.0"]),
        ({"rootDevices": ["0000:3b:00.1#0-1"]}, ["0000:3b:0a.0", "0000:3b:0a.1"]),
        ({"rootDevices": ["0000:3b:00.0"]}, ENS1F0_VFS),
        ({"vendors": ["8086"], "devices": ["154C"]}, ENS1F0_VFS + ENS1F1_VFS),
        ({"devices": ["1572"]}, []),  # PFs with VFs are offered only through their VFs
        ({"drivers": ["iavf"], "pfNames": ["ens1f1"]}, ENS1F1_VFS),
        ({"drivers": ["vfio-pci"]}, []),
        ({"pciAddresses": ["0000:3b:02.1", "0000:3b:00.0"]}, ["0000:3b:02.1"]),
        ({"acpiIndexes": ["101"]}, []),
        ({"ddpProfiles": ["GTP"]}, []),
        ({"isRdma": True}, []),
        ({"isRdma": False, "pfNames": ["ens1f0#0"]}, ["0000:3b:02.0"]),
        ({"linkTypes": ["ether"], "pfNames": ["ens1f1"]}, ENS1F1_VFS),
        ({"linkTypes": ["infiniband"]}, []),
        ({"vendors": [], "pfNames": ["ens1f0#1"]}, ["0000:3b:02.1"]),
        ({}, ENS1F0_VFS + ENS1F1_VFS),
        ({"pfNames": ["ens9"]}, []),
        ({"pfNames": ["ens1f0v0"]}, []),  # a VF's own name is not a PF name
    ],
)
def test_a_selector_object_keeps_the_devices_every_one_of_its_keys_matches(selector, expected):
    assert selected_by([selector]) == expected


def test_a_single_selector_object_reads_like_a_list_of_one():
    assert selected_by({"pfNames": ["ens1f0#0"]}) == selected_by([{"pfNames": ["ens1f0#0"]}])


def test_absent_selectors_take_every_device_of_the_pool_class():
    resource_list = parse_resource_list(pools({"resourceName": "all"}))
    assert addresses(resource_list.select(two_port_x710())) == ENS1F0_VFS + ENS1F1_VFS


def test_json_text_parses_like_the_object():
    config = one_pool([{"pfNames": ["ens1f0#1-2"]}])
    on = two_port_x710()
    from_text = parse_resource_list(json.dumps(config)).select(on)
    assert from_text == parse_resource_list(config).select(on)
    assert addresses(from_text) == ["0000:3b:02.1", "0000:3b:02.2"]


def test_selected_devices_carry_the_prefixed_resource_name():
    config = pools(
        {"resourceName": "a", "selectors": [{"pfNames": ["ens1f0#0"]}]},
        {"resourceName": "b", "resourcePrefix": "nvidia.com", "selectors": {"pfNames": ["ens1f1"]}},
    )
    names = {item.resource_name for item in parse_resource_list(config).select(two_port_x710())}
    assert names == {"intel.com/a", "nvidia.com/b"}


def test_the_first_pool_to_claim_a_device_keeps_it():
    config = pools(
        {"resourceName": "first", "selectors": [{"pfNames": ["ens1f0#0-1"]}]},
        {"resourceName": "second", "selectors": [{"pfNames": ["ens1f0"]}]},
    )
    selected = parse_resource_list(config).select(two_port_x710())
    by_pool = {
        name: [str(s.device.address) for s in selected if s.resource_name == f"intel.com/{name}"]
        for name in ("first", "second")
    }
    assert by_pool == {"first": ENS1F0_VFS[:2], "second": ENS1F0_VFS[2:]}
    assert len(addresses(selected)) == len(set(addresses(selected)))


def test_need_vhost_net_marks_only_the_devices_its_own_selector_object_claimed():
    selectors = [
        {"pfNames": ["ens1f0#0"], "needVhostNet": True},
        {"pfNames": ["ens1f0"]},
    ]
    selected = parse_resource_list(one_pool(selectors)).select(two_port_x710())
    flagged = [str(s.device.address) for s in selected if s.tags.get("need_vhost_net")]
    assert flagged == ["0000:3b:02.0"]
    assert addresses(selected) == ENS1F0_VFS


def test_exclude_topology_is_carried_on_every_device_of_the_pool():
    selected = parse_resource_list(
        one_pool([{"pfNames": ["ens1f0"]}], excludeTopology=True)
    ).select(two_port_x710())
    assert all(item.tags == {"exclude_topology": True} for item in selected)


def test_a_pf_without_vfs_is_offered_whole_but_not_the_management_port_of_another_class():
    on = host(sriov_nic("0000:5e:00.0", "ens2f0", num_vfs=0), plain_nic("0000:00:19.0", "eno1"))
    assert selected_by([{"devices": ["1572"]}], on) == ["0000:5e:00.0"]
    assert selected_by([{"drivers": ["e1000e"]}], on) == ["0000:00:19.0"]


def test_a_vf_without_a_driver_is_not_offered():
    on = host(sriov_nic("0000:3b:00.0", "ens1f0", num_vfs=2, vf_driver=None))
    assert selected_by([{"pfNames": ["ens1f0"]}], on) == []


def test_vdpa_type_keeps_only_vfs_whose_vdpa_device_has_that_driver():
    pf, vf0, vf1, vf2 = sriov_nic("0000:3b:00.0", "ens1f0", num_vfs=3)
    on = host(pf, with_vdpa(vf0, "vhost_vdpa"), with_vdpa(vf1, "virtio_vdpa", "vdpa1"), vf2)
    assert selected_by([{"vdpaType": "vhost"}], on) == [str(vf0.address)]
    assert selected_by([{"vdpaType": "virtio"}], on) == [str(vf1.address)]


def test_an_accelerator_pool_scans_processing_accelerators_only():
    qat = sriov_nic(
        "0000:3d:00.0", None, num_vfs=2, pf_product="37c8", vf_product="37c9",
        pf_driver="c6xx", vf_driver="c6xxvf", class_code="120000",
    )  # fmt: skip
    on = host(qat, *two_port_x710().devices.values())
    config = pools({"resourceName": "qat", "deviceType": "accelerator"})
    assert addresses(parse_resource_list(config).select(on)) == ["0000:3d:02.0", "0000:3d:02.1"]
    assert parse_resource_list(config).pools[0].kind is DeviceKind.ACCELERATOR


def test_infiniband_controllers_have_link_type_infiniband():
    ib = sriov_nic(
        "0000:81:00.0", "ib0", num_vfs=2, vendor_id="15b3", offset=2, class_code="020700"
    )
    on = host(ib, *two_port_x710().devices.values())
    assert selected_by([{"linkTypes": ["infiniband"]}], on) == ["0000:81:00.2", "0000:81:00.3"]


def test_an_aux_net_device_pool_is_accepted_and_matches_nothing_yet():
    config = pools({"resourceName": "sf", "deviceType": "auxNetDevice", "selectors": [{}]})
    assert parse_resource_list(config).select(two_port_x710()) == []


@pytest.mark.parametrize(
    ("pf_name", "total_vfs", "expected_reason"),
    [
        ("ens1f0#0-8", 8,
         "VF index 8 in 'ens1f0#0-8' is out of bounds: PF 'ens1f0' supports VFs 0-7"),
        ("ens1f0#2,64", 64, "VF index 64 in 'ens1f0#2,64' is out of bounds"),
        ("0000:3b:00.0#9", 8, "VF index 9 in '0000:3b:00.0#9' is out of bounds"),
    ],
)  # fmt: skip
def test_a_vf_range_beyond_the_pfs_total_vfs_is_refused_when_the_host_is_known(
    pf_name, total_vfs, expected_reason
):
    key = "rootDevices" if pf_name[0].isdigit() else "pfNames"
    resource_list = parse_resource_list(one_pool([{"drivers": ["iavf"]}, {key: [pf_name]}]))
    with pytest.raises(InvalidSelector) as caught:
        resource_list.select(two_port_x710(total_vfs=total_vfs))
    assert caught.value.entry == "resourceList[0] 'sriov_a'"
    assert caught.value.field == f"selectors[1].{key}"
    assert caught.value.reason.startswith(expected_reason)


def test_a_vf_range_on_a_pf_this_host_lacks_is_no_error_so_one_config_serves_many_hosts():
    resource_list = parse_resource_list(one_pool([{"pfNames": ["ens9f0#0-200"]}]))
    assert resource_list.select(two_port_x710()) == []


def test_a_range_is_bounded_by_total_vfs_not_by_the_vfs_created_now():
    on = two_port_x710(num_vfs=2, total_vfs=8)
    assert selected_by([{"pfNames": ["ens1f0#1-7"]}], on) == ["0000:3b:02.1"]


def _pool(**fields: Any) -> dict[str, Any]:
    return pools({"resourceName": "sriov_a", **fields})


@pytest.mark.parametrize(
    ("config", "field", "reason"),
    [
        (one_pool([{"pfNames": ["ens1f0#7-3"]}]), "selectors[0].pfNames",
         "VF range '7-3' in 'ens1f0#7-3' is reversed (7 > 3)"),
        (one_pool([{"rootDevices": ["0000:3b:00.0#4-1"]}]), "selectors[0].rootDevices",
         "is reversed (4 > 1)"),
        (one_pool([{}, {"pfNames": ["ens1f0#a-b"]}]), "selectors[1].pfNames",
         "VF range 'a-b' in 'ens1f0#a-b' is not an index N or a range A-B"),
        (one_pool([{"pfNames": ["ens1f0#"]}]), "selectors[0].pfNames", "is not an index N"),
        (one_pool([{"pfNames": ["ens1f0#1,,2"]}]), "selectors[0].pfNames", "is not an index N"),
        (one_pool([{"pfNames": ["ens1f0#-1"]}]), "selectors[0].pfNames", "is not an index N"),
        (one_pool([{"pfNames": ["#0-3"]}]), "selectors[0].pfNames", "names no PF"),
        (one_pool([{"pfNames": "ens1f0"}]), "selectors[0].pfNames", "expected a list"),
        (one_pool([{"rootDevices": ["3b:00.0#0"]}]), "selectors[0].rootDevices",
         "'3b:00.0': expected domain:bus:slot.function"),
        (one_pool([{"vendor": ["8086"]}]), "selectors[0].vendor", "unknown key"),
        (one_pool([{"vendors": ["0x8086"]}]), "selectors[0].vendors",
         "'0x8086' is not a 4-digit hex id"),
        (one_pool([{"pciAddresses": ["0000:3b:02.8"]}]), "selectors[0].pciAddresses",
         "function 0x8 is greater than 7"),
        (one_pool([{"vdpaType": "vfio"}]), "selectors[0].vdpaType", "not one of vhost, virtio"),
        (one_pool([{"isRdma": "true"}]), "selectors[0].isRdma", "expected true or false"),
        (one_pool([{"needVhostNet": 1}]), "selectors[0].needVhostNet", "expected true or false"),
        (one_pool([{"isRdma": True, "vdpaType": "vhost"}]), "selectors[0].isRdma",
         "exclude each other"),
        (one_pool([{"auxTypes": ["sf"]}]), "selectors[0].auxTypes",
         "not allowed for deviceType netDevice"),
        (_pool(deviceType="accelerator", selectors=[{"pfNames": ["ens1f0"]}]),
         "selectors[0].pfNames", "not allowed for deviceType accelerator"),
        (one_pool([]), "selectors", "expected an object or a non-empty list"),
        (one_pool(["pfNames"]), "selectors[0]", "expected an object"),
        (_pool(deviceType="netdevice"), "deviceType", "'netdevice' is not one of netDevice"),
        (_pool(resourcePrefix="Intel_com"), "resourcePrefix", "is not a DNS subdomain"),
        (_pool(excludeTopology="yes"), "excludeTopology", "expected true or false"),
        (_pool(additionalInfo={"*": "x"}), "additionalInfo", "expected an object of objects"),
        (_pool(resoureName="typo"), "resoureName", "unknown key"),
    ],
)  # fmt: skip
def test_bad_selectors_are_refused_naming_pool_field_and_reason(config, field, reason):
    with pytest.raises(InvalidSelector) as caught:
        parse_resource_list(config)
    assert (caught.value.entry, caught.value.field) == ("resourceList[0] 'sriov_a'", field)
    assert reason in caught.value.reason


@pytest.mark.parametrize(
    ("config", "entry", "field", "reason"),
    [
        (pools({"resourceName": "intel.sriov"}), "resourceList[0]", "resourceName",
         "may use only A-Z a-z 0-9 _ -"),
        (pools({"selectors": {}}), "resourceList[0]", "resourceName", "is required"),
        (pools({"resourceName": "a"}, {"resourceName": "a"}), "resourceList[1] 'a'",
         "resourceName", "'intel.com/a' is already used by resourceList[0] 'a'"),
        (pools("a"), "resourceList[0]", None, "expected an object"),
        ({"resourceList": {}}, "config.json", "resourceList", "expected a list"),
        ({"resourceList": [], "logLevel": 3}, "config.json", "logLevel", "unknown key"),
        ('{"resourceList": [', "config.json", None, "not valid JSON"),
    ],
)  # fmt: skip
def test_bad_pool_lists_are_refused_naming_entry_field_and_reason(config, entry, field, reason):
    with pytest.raises(InvalidSelector) as caught:
        parse_resource_list(config)
    assert (caught.value.entry, caught.value.field) == (entry, field)
    assert reason in caught.value.reason


def test_one_name_under_two_prefixes_is_two_pools():
    config = pools(
        {"resourceName": "a", "selectors": [{"pfNames": ["ens1f0"]}]},
        {"resourceName": "a", "resourcePrefix": "example.org"},
    )
    names = [pool.resource_name for pool in parse_resource_list(config).pools]
    assert names == ["intel.com/a", "example.org/a"]


def test_a_switchdev_pf_is_named_by_its_uplink_not_its_representors():
    pf, vf0 = sriov_nic("0000:3b:00.0", "ens1f0", num_vfs=1)
    uplinks = (
        replace(pf.netdevs[0], name="ens1f0np0", phys_port_name="p0", phys_switch_id="ab"),
        replace(pf.netdevs[0], name="eth5", phys_port_name="pf0vf0", phys_switch_id="ab"),
    )
    on = host(replace(pf, netdevs=uplinks), vf0)
    assert selected_by([{"pfNames": ["ens1f0np0"]}], on) == [str(vf0.address)]
    assert selected_by([{"pfNames": ["eth5"]}], on) == []

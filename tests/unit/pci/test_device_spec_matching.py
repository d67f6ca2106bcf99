"""Matching a host's devices against [pci] device_spec: first match, PF rule, devname, VFs only."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.unit.pci.hosts import addresses, host, plain_nic, sriov_nic, two_port_x710, with_vdpa
from vfnet.errors import InvalidDeviceSpec
from vfnet.pci.address import PciAddress
from vfnet.pci.device_spec import parse_device_specs
from vfnet.pci.devices import HostDevices

PF0, PF1 = "0000:3b:00.0", "0000:3b:00.1"
PF0_VFS = ["0000:3b:02.0", "0000:3b:02.1", "0000:3b:02.2", "0000:3b:02.3"]
PF1_VFS = ["0000:3b:0a.0", "0000:3b:0a.1", "0000:3b:0a.2", "0000:3b:0a.3"]
EVERYTHING = sorted([PF0, PF1, *PF0_VFS, *PF1_VFS])


def selected(entries: list[str | dict[str, object]], on: HostDevices | None = None) -> list[str]:
    return addresses(parse_device_specs(entries).select(on or two_port_x710()))


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        # A PF's full address selects the PF and its VFs; the ids then pick among them.
        ({"address": PF0}, [PF0, *PF0_VFS]),
        ({"address": PF0, "vendor_id": "8086", "product_id": "154c"}, PF0_VFS),
        ({"address": PF0, "vendor_id": "8086", "product_id": "1572"}, [PF0]),
        ({"address": "0:3b:0.0"}, [PF0, *PF0_VFS]),
        (
            {"address": {"domain": "0000", "bus": "3b", "slot": "00", "function": "0"}},
            [PF0, *PF0_VFS],
        ),
        # Any wildcard, or a regex not in kernel form, turns the PF rule off.
        ({"address": "0000:3b:00.*"}, [PF0, PF1]),
        ({"address": "3b:00.0"}, [PF0]),
        ({"address": {"domain": "0", "bus": "3b", "slot": "00", "function": "0"}}, [PF0]),
        # Addresses of VFs select those VFs only.
        ({"address": "0000:3b:02.1"}, ["0000:3b:02.1"]),
        ({"address": "0000:3b:02.*"}, PF0_VFS),
        ({"address": {"bus": "3b", "slot": "0a"}}, PF1_VFS),
        ({"vendor_id": "8086", "product_id": "1572"}, [PF0, PF1]),
        ({"product_id": "154c"}, sorted(PF0_VFS + PF1_VFS)),
        ({"vendor_id": "15b3"}, []),
        ({}, EVERYTHING),
        ({"address": None}, EVERYTHING),
    ],
)
def test_a_spec_selects_exactly_these_devices_of_a_two_port_x710(entry, expected):
    assert selected([entry]) == expected


@pytest.mark.parametrize(
    ("devname", "expected"),
    [
        ("ens1f0", [PF0, *PF0_VFS]),  # a PF's netdev: the PF and its VFs
        ("ens1f1v2", ["0000:3b:0a.2"]),  # a VF's netdev: that VF only
        ("eth9", []),  # no such netdev: nothing, silently
        ("", EVERYTHING),  # an empty devname is ignored
    ],
)
def test_devname_resolves_to_a_pf_with_its_vfs_or_to_one_vf(devname, expected):
    assert selected([{"devname": devname}]) == expected


def test_a_pf_address_that_is_not_a_pf_on_this_host_selects_only_that_device():
    no_sriov = host(sriov_nic(PF0, "ens1f0", num_vfs=2, total_vfs=0))
    assert selected([{"address": PF0}], no_sriov) == [PF0]
    plain = host(plain_nic(PF0, "eno1"))
    assert selected([{"address": PF0}], plain) == [PF0]


def test_the_pf_rule_also_selects_vdpa_devices_on_the_pfs_vfs():
    pf, vf0, vf1 = sriov_nic(PF0, "ens1f0", num_vfs=2)
    vdpa_host = host(pf, with_vdpa(vf0, "vhost_vdpa"), vf1)
    assert selected([{"address": PF0, "product_id": "154c"}], vdpa_host) == PF0_VFS[:2]


def test_the_first_matching_spec_gives_the_tags():
    specs = parse_device_specs(
        [
            {"address": "0000:3b:02.1", "physical_network": "first"},
            {"devname": "ens1f0", "physical_network": "second"},
            {"physical_network": "last", "trusted": "true"},
        ]
    )
    tags = {str(s.device.address): dict(s.tags) for s in specs.select(two_port_x710())}
    assert tags["0000:3b:02.1"] == {"physical_network": "first"}
    assert tags["0000:3b:02.0"] == {"physical_network": "second"}
    assert tags[PF0] == {"physical_network": "second"}
    assert tags[PF1] == {"physical_network": "last", "trusted": "true"}


def test_a_device_no_spec_matches_is_not_selected():
    specs = parse_device_specs([{"devname": "ens1f1"}])
    x710 = two_port_x710()
    assert specs.match(x710[PciAddress.parse(PF0)], x710) is None
    assert addresses(specs.select(x710)) == [PF1, *PF1_VFS]


ENTRY_SETS = [
    [{"devname": "ens1f0", "physical_network": "a"}, {"vendor_id": "8086"}],
    [{"devname": "ens1f1v1"}, {"address": PF1, "product_id": "154c"}],
    [{"address": {"bus": "3b", "slot": "0[0-2]"}}, {"address": "*:3b:0a.3", "x": 1}],
    [{"devname": "nope"}, {"address": PF0, "product_id": "1572"}],
    [{"remote_managed": "true", "physical_network": "rm"}, {"physical_network": "rest"}],
]


@pytest.mark.parametrize("entries", ENTRY_SETS)
def test_matching_one_device_agrees_with_selecting_the_whole_host(entries):
    specs = parse_device_specs(entries)
    x710 = two_port_x710()
    one_by_one = {str(d.address): specs.match(d, x710) for d in x710}
    whole = {str(s.device.address): s.tags for s in specs.select(x710)}
    assert {a: t for a, t in one_by_one.items() if t is not None} == whole


def test_selection_is_in_address_order_whatever_order_the_host_lists_devices_in():
    x710 = two_port_x710()
    shuffled = HostDevices(dict(reversed(list(x710.devices.items()))))
    assert selected([{}], shuffled) == EVERYTHING


def test_device_ids_are_compared_verbatim():
    upper = host(replace(plain_nic(PF0, "eno1"), product_id="10D3"))
    assert selected([{"product_id": "10d3"}], upper) == []


# --- remote_managed ---------------------------------------------------------------------------


def test_a_remote_managed_spec_selects_vfs_and_vdpa_devices_but_never_a_pf_or_plain_device():
    pf, vf0, vf1 = sriov_nic(PF0, "ens1f0", num_vfs=2)
    mixed = host(pf, with_vdpa(vf0, None), vf1, plain_nic("0000:00:19.0", "eno1"))
    assert selected([{"remote_managed": "yes"}], mixed) == PF0_VFS[:2]
    assert selected([{"remote_managed": "no"}], mixed) == ["0000:00:19.0", PF0, *PF0_VFS[:2]]


@pytest.mark.parametrize(
    "entry",
    [
        {"address": PF0, "product_id": "154c", "remote_managed": "true"},
        {"address": PF0, "vendor_id": "8086", "product_id": "154c", "remote_managed": "true"},
        {"devname": "ens1f0", "product_id": "154c", "remote_managed": "true"},
        {"address": "0000:3b:02.0", "remote_managed": "true"},  # a VF address: no PF question
    ],
)
def test_a_remote_managed_spec_naming_its_pfs_vf_ids_is_accepted_and_selects_vfs(entry):
    specs = parse_device_specs([entry])
    specs.check(two_port_x710())
    chosen = addresses(specs.select(two_port_x710()))
    assert chosen
    assert set(chosen) <= set(PF0_VFS)


@pytest.mark.parametrize(
    ("entry", "field", "reason_part"),
    [
        ({"devname": "eth9", "remote_managed": "true"}, "devname", "no network interface 'eth9'"),
        ({"address": PF0, "remote_managed": "true"}, "remote_managed", "is a PF"),
        ({"address": "0:3b:0.0", "remote_managed": "1"}, "remote_managed", "is a PF"),
        ({"devname": "ens1f0", "remote_managed": "true"}, "remote_managed", "is a PF"),
        (
            {"address": PF0, "product_id": "1572", "remote_managed": "on"},
            "remote_managed",
            "is a PF",
        ),
        (
            {"address": PF0, "product_id": "1234", "remote_managed": "true"},
            "product_id",
            "expected VF IDs",
        ),
        (
            {"address": PF0, "vendor_id": "15b3", "product_id": "154c", "remote_managed": "true"},
            "product_id",
            "expected VF IDs 8086:154c",
        ),
    ],
)
def test_a_remote_managed_spec_that_could_select_a_pf_or_names_a_missing_netdev_is_refused(
    entry, field, reason_part
):
    specs = parse_device_specs([{"physical_network": "x"}, entry])
    with pytest.raises(InvalidDeviceSpec) as caught:
        specs.select(two_port_x710())
    assert (caught.value.entry, caught.value.field) == ("device_spec[1]", field)
    assert reason_part in caught.value.reason

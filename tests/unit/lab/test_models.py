"""NIC models, host specs and where a host's functions are placed."""

import pytest

from vfnet.errors import ValidationError
from vfnet.lab.hostspec import HostSpec
from vfnet.lab.layout import plan_host
from vfnet.lab.nics import NIC_MODELS, nic_model
from vfnet.lab.sysfs import generate_host


@pytest.mark.parametrize(
    ("name", "model", "pf", "vf", "drivers"),
    [
        ("82576", "82576", "10c9", "10ca", ("igb", "igbvf")),
        ("igb", "82576", "10c9", "10ca", ("igb", "igbvf")),
        ("i40e", "x710", "1572", "154c", ("i40e", "iavf")),
        ("ice", "e810", "1592", "1889", ("ice", "iavf")),
        ("mlx5", "cx6dx", "101d", "101e", ("mlx5_core", "mlx5_core")),
    ],
)
def test_a_model_is_found_by_its_name_or_its_driver(name, model, pf, vf, drivers):
    found = nic_model(name)
    assert (found.name, found.pf_device, found.vf_device) == (model, pf, vf)
    assert (found.pf_driver, found.vf_driver) == drivers
    assert NIC_MODELS[name] is found


def test_an_unknown_model_is_refused_with_the_known_ones():
    with pytest.raises(ValidationError) as caught:
        nic_model("foo")
    assert caught.value.field == "nic"
    assert caught.value.reason.startswith("unknown NIC model 'foo'; known: 82576, cx6dx")


@pytest.mark.parametrize(
    ("nic", "fn", "ports", "offset", "stride"),
    [
        ("82576", 0, 2, 128, 2),
        ("82576", 1, 2, 128, 2),
        ("x710", 0, 2, 16, 1),
        ("x710", 1, 2, 79, 1),  # fn1's VFs start at :0a.0
        ("cx6dx", 0, 2, 2, 1),
        ("cx6dx", 1, 2, 128, 1),  # after fn0's block of 127
        ("e810", 1, 2, 135, 1),
    ],
)
def test_vf_offsets_follow_each_cards_geometry(nic, fn, ports, offset, stride):
    model = nic_model(nic)
    assert (model.vf_offset(fn, ports), model.vf_stride) == (offset, stride)


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (dict(nic="82576", pfs=1, vfs=8), "vfs"),
        (dict(nic="x710", pfs=1, vfs=65), "vfs"),
        (dict(nic="e810", pfs=1, vfs=129), "vfs"),  # two ports share 256
        (dict(nic="x710", pfs=0, vfs=1), "pfs"),
        (dict(nic="x710", pfs=1, vfs=1, numa_nodes=0), "numa_nodes"),
        (dict(nic="x710", pfs=1, vfs=1, vdpa=True), "vdpa"),
        (dict(nic="82576", pfs=1, vfs=1, switchdev=True), "switchdev"),
        (dict(nic="x710", pfs=1, vfs=1, platform="qemu"), "platform"),
        (dict(nic="x710", pfs=1, vfs=1, platform="mainframe"), "platform"),
        (dict(nic="foo", pfs=1, vfs=1), "nic"),
        (dict(nic="x710", pfs=1, vfs=1, first_bus=1), "first_bus"),
        (dict(nic="e810", pfs=80, vfs=1, ports_per_card=1), "pfs"),
    ],
)
def test_a_host_spec_that_cannot_exist_is_refused_naming_the_field(spec, field):
    with pytest.raises(ValidationError) as caught:
        plan_host(HostSpec(**spec))
    assert caught.value.field == field


def test_a_single_port_e810_gets_the_whole_device_budget_of_256():
    assert HostSpec(nic="e810", pfs=8, vfs=256, ports_per_card=1).vfs == 256


def test_numa_nodes_take_whole_cards_in_order():
    layout = plan_host(HostSpec(nic="x710", pfs=8, vfs=1, numa_nodes=2))
    assert [pf.numa_node for pf in layout.pfs] == [0, 0, 0, 0, 1, 1, 1, 1]
    assert [str(pf.address) for pf in layout.pfs[:3]] == [
        "0000:3b:00.0",
        "0000:3b:00.1",
        "0000:3d:00.0",
    ]


@pytest.mark.parametrize(
    ("numa_nodes", "node", "cpulist", "cpumask"),
    [
        (1, 0, "0-15", "ffff"),
        (2, 1, "16-31", "ffff0000"),
        (4, 3, "48-63", "ffff0000,00000000"),
    ],
)
def test_local_cpus_is_the_nodes_cpulist_as_a_bitmap(numa_nodes, node, cpulist, cpumask):
    layout = plan_host(HostSpec(nic="x710", pfs=numa_nodes, vfs=0, numa_nodes=numa_nodes))
    assert (layout.cpulist(node), layout.cpumask(node)) == (cpulist, cpumask)


def test_a_host_spec_survives_its_marker_file():
    spec = HostSpec(nic="cx6dx", pfs=2, vfs=3, vdpa=True, hostname="compute-7")
    assert HostSpec.from_json(spec.to_json()) == spec


def test_a_host_is_not_generated_over_another(sysroot):
    generate_host(HostSpec(nic="x710", pfs=1, vfs=1), sysroot)
    with pytest.raises(ValidationError) as caught:
        generate_host(HostSpec(nic="x710", pfs=1, vfs=1), sysroot)
    assert caught.value.field == "root"

"""SysfsReader turns a sysfs tree into PFs, VFs, netdevs, representors and vDPA devices."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.discovery.sysfs_tree import SysfsTree
from vfnet.discovery.sysfs import SysfsReader
from vfnet.errors import SysfsError
from vfnet.pci.address import PciAddress
from vfnet.pci.devices import DeviceType, Netdev, PciDevice, SriovCapability, VdpaDevice

PF = "0000:3b:00.0"
VF0, VF1 = "0000:3b:10.0", "0000:3b:10.2"


def read_one(tree: SysfsTree, bdf: str) -> PciDevice:
    return SysfsReader(tree.root).read()[PciAddress.parse(bdf)]


def test_the_captured_igb_pf_has_its_four_vfs_in_virtfn_order(igb_capture: Path) -> None:
    host = SysfsReader(igb_capture).read()
    pf = host[PciAddress.parse("0000:01:00.0")]
    assert (pf.dev_type, pf.vendor_info, pf.driver, pf.ifname) == (
        DeviceType.PF,
        "8086:10c9",
        "igb",
        "eth0",
    )
    assert pf.sriov == SriovCapability(7, num_vfs=4, offset=128, stride=2, vf_device="10ca")
    vfs = host.vfs_of(pf.address)
    assert [str(vf.address) for vf in vfs] == [
        "0000:01:10.0",
        "0000:01:10.2",
        "0000:01:10.4",
        "0000:01:10.6",
    ]
    assert [vf.vf_index for vf in vfs] == [0, 1, 2, 3]
    assert {(vf.dev_type, vf.vendor_info, vf.driver) for vf in vfs} == {
        (DeviceType.VF, "8086:10ca", "igbvf")
    }
    assert [vf.ifname for vf in vfs] == ["eth2", "eth3", "eth4", "eth5"]
    assert all(not device.warnings for device in host)


def test_the_captured_igb_netdevs_keep_mac_link_and_mtu(igb_capture: Path) -> None:
    host = SysfsReader(igb_capture).read()
    uplink = host[PciAddress.parse("0000:01:00.0")].netdev
    assert uplink == Netdev("eth0", "52:54:00:00:01:00", "up", True, 1500, None, None)
    vf_netdev = host[PciAddress.parse("0000:01:10.0")].netdev
    assert vf_netdev is not None
    assert (vf_netdev.operstate, vf_netdev.mtu) == ("down", 1500)


@pytest.mark.parametrize(
    ("options", "field", "expected"),
    [
        ({}, "dev_type", DeviceType.PCI),
        ({"numa_node": "1"}, "numa_node", 1),
        ({"numa_node": "-1"}, "numa_node", None),
        ({"driver": None}, "driver", None),
        ({"driver": "vfio-pci"}, "driver", "vfio-pci"),
        ({"iommu_group": 45}, "iommu_group", 45),
        ({"vendor": "0x15b3"}, "vendor_id", "15b3"),
        ({"device": "0x1017"}, "product_id", "1017"),
        ({"subsystem": ("0x1af4", "0x1100")}, "subsystem_vendor_id", "1af4"),
        ({"subsystem": ("0x1af4", "0x1100")}, "subsystem_device_id", "1100"),
        ({"pci_class": "0x0c0330"}, "class_code", "0c0330"),
        ({"revision": "0x02"}, "revision", "02"),
    ],
)
def test_a_plain_function_reports_its_attributes(
    tree: SysfsTree, options: dict[str, object], field: str, expected: object
) -> None:
    tree.function("0000:00:03.0", **options)  # type: ignore[arg-type]
    device = read_one(tree, "0000:00:03.0")
    assert getattr(device, field) == expected
    assert device.warnings == ()


@pytest.mark.parametrize("missing", ["vendor", "device", "subsystem_vendor", "class"])
def test_ids_come_from_modalias_when_their_file_is_missing(tree: SysfsTree, missing: str) -> None:
    path = tree.function(
        "0000:00:03.0", vendor="0x1af4", device="0x1041", subsystem=("0x1af4", "0x1100")
    )
    (path / missing).unlink()
    device = read_one(tree, "0000:00:03.0")
    assert (device.vendor_info, device.subsystem_vendor_id, device.class_code) == (
        "1af4:1041",
        "1af4",
        "020000",
    )
    assert device.warnings == ()


def test_a_pf_with_zero_vfs_is_still_a_pf(tree: SysfsTree) -> None:
    tree.pf(PF, [])
    pf = read_one(tree, PF)
    assert pf.dev_type is DeviceType.PF
    assert pf.sriov is not None and (pf.sriov.num_vfs, pf.sriov.total_vfs) == (0, 7)


@pytest.mark.parametrize("vf_device", ["10ca", "0x10ca", "0x10CA"])
def test_sriov_vf_device_is_accepted_with_or_without_0x(tree: SysfsTree, vf_device: str) -> None:
    tree.pf(PF, [VF0], vf_device=vf_device)
    pf = read_one(tree, PF)
    assert pf.sriov is not None and pf.sriov.vf_device == "10ca"


def test_vfs_are_numbered_by_virtfn_link_not_by_name_order(tree: SysfsTree) -> None:
    vfs = [str(PciAddress.from_rid(0, 0x3B00 + 128 + n)) for n in range(12)]
    tree.pf(PF, vfs, total_vfs=63)
    host = SysfsReader(tree.root).read()
    listed = host.vfs_of(PciAddress.parse(PF))
    assert [str(vf.address) for vf in listed] == vfs
    assert [vf.vf_index for vf in listed] == list(range(12))
    assert host[PciAddress.parse(vfs[10])].vf_index == 10


def test_a_vf_knows_its_pf(tree: SysfsTree) -> None:
    tree.pf(PF, [VF0, VF1])
    vf = read_one(tree, VF1)
    assert (vf.dev_type, vf.parent_addr, vf.vf_index) == (DeviceType.VF, PciAddress.parse(PF), 1)


def test_switchdev_representors_are_found_for_their_vfs_and_the_uplink_is_the_pf_netdev(
    tree: SysfsTree,
) -> None:
    tree.pf(PF, [VF0, VF1], driver="mlx5_core", vf_driver="mlx5_core")
    switch = {"phys_switch_id": "c2cfc60003a1420c"}
    tree.netdev(PF, "ens1f0np0", phys_port_name="p0", **switch)
    tree.netdev(PF, "eth4", phys_port_name="pf0vf0", **switch)
    tree.netdev(PF, "eth5", phys_port_name="pf0vf1", **switch)
    tree.netdev(VF1, "ens1f0v1")
    host = SysfsReader(tree.root).read()
    pf = host[PciAddress.parse(PF)]
    assert [n.name for n in pf.netdevs] == ["ens1f0np0", "eth4", "eth5"]  # as net/ lists them
    assert pf.ifname == "ens1f0np0"
    vf0, vf1 = host.vfs_of(pf.address)
    assert (vf0.representor and vf0.representor.name, vf0.ifname) == ("eth4", None)
    assert (vf1.representor and vf1.representor.name, vf1.ifname) == ("eth5", "ens1f0v1")


def test_a_representor_of_a_missing_vf_stays_on_the_pf_with_a_warning(tree: SysfsTree) -> None:
    tree.pf(PF, [VF0])
    tree.netdev(PF, "eth9", phys_port_name="pf0vf5")
    pf = read_one(tree, PF)
    assert [n.name for n in pf.netdevs] == ["eth9"]
    assert pf.warnings == ("net/eth9: representor of missing VF 5",)


@pytest.mark.parametrize(
    ("driver", "chardev", "expected_chardev"),
    [
        ("vhost_vdpa", "vhost-vdpa-0", "/dev/vhost-vdpa-0"),
        ("virtio_vdpa", None, None),
        (None, None, None),
    ],
)
def test_a_vf_carrying_a_vdpa_device_is_of_type_vdpa(
    tree: SysfsTree, driver: str | None, chardev: str | None, expected_chardev: str | None
) -> None:
    tree.pf(PF, [VF0, VF1], driver="mlx5_core", vf_driver="mlx5_core")
    tree.vdpa(VF1, "vdpa0", driver, chardev)
    host = SysfsReader(tree.root).read()
    vf = host[PciAddress.parse(VF1)]
    assert vf.dev_type is DeviceType.VDPA
    assert vf.vdpa == VdpaDevice("vdpa0", PciAddress.parse(VF1), driver, expected_chardev)
    assert host[PciAddress.parse(VF0)].dev_type is DeviceType.VF


def test_a_vdpa_device_on_a_pf_is_ignored_with_a_warning(tree: SysfsTree) -> None:
    tree.pf(PF, [VF0])
    tree.vdpa(PF, "vdpa0", "vhost_vdpa", "vhost-vdpa-0")
    pf = read_one(tree, PF)
    assert (pf.dev_type, pf.vdpa) == (DeviceType.PF, None)
    assert pf.warnings == ("vdpa vdpa0: parent is not a VF (ignored)",)


def test_a_root_without_pci_devices_is_a_sysfs_error(tmp_path: Path) -> None:
    with pytest.raises(SysfsError, match="bus/pci/devices: cannot list PCI devices: missing"):
        SysfsReader(tmp_path / "nowhere").read()


def test_an_empty_pci_bus_is_an_empty_host(tree: SysfsTree) -> None:
    (tree.root / "bus/pci/devices").mkdir(parents=True)
    assert len(SysfsReader(tree.root).read()) == 0

"""A damaged or odd sysfs tree yields what could be read plus warnings, never a crash."""

from __future__ import annotations

import errno
import glob
import logging
import os
from pathlib import Path

import pytest

from tests.unit.discovery.sysfs_tree import SysfsTree
from vfnet.discovery.sysfs import SysfsReader
from vfnet.pci.address import PciAddress
from vfnet.pci.devices import DeviceType, HostDevices

PF = "0000:3b:00.0"
VF0, VF1 = "0000:3b:10.0", "0000:3b:10.2"


def real_sysfs_file(pattern: str, expected_errno: int) -> str:
    """A file of this machine's /sys whose read fails with ``expected_errno``."""
    for candidate in sorted(glob.glob(pattern)):
        try:
            with open(candidate, "rb") as file:
                file.read()
        except OSError as error:
            if error.errno == expected_errno:
                return candidate
    pytest.skip(f"no {pattern} fails with {errno.errorcode[expected_errno]} on this machine")


def read(tree: SysfsTree) -> HostDevices:
    return SysfsReader(tree.root).read()


def device(host: HostDevices, bdf: str) -> tuple[DeviceType, tuple[str, ...]]:
    found = host[PciAddress.parse(bdf)]
    return found.dev_type, found.warnings


def test_a_virtfn_pointing_nowhere_warns_on_the_pf_and_invents_no_vf(tree: SysfsTree) -> None:
    pf = tree.pf(PF, [VF0])
    (pf / "virtfn1").symlink_to("../0000:3b:10.2")
    (pf / "sriov_numvfs").write_text("2\n")
    host = read(tree)
    assert len(host) == 2
    assert device(host, PF) == (
        DeviceType.PF,
        (
            "virtfn1: points to '0000:3b:10.2', not a PCI function here",
            "sriov_numvfs: 2 VFs enabled but 1 virtfn links found",
        ),
    )


def test_more_vfs_enabled_than_virtfn_links_is_a_warning(tree: SysfsTree) -> None:
    pf = tree.pf(PF, [VF0, VF1])
    (pf / "sriov_numvfs").write_text("4\n")
    host = read(tree)
    assert device(host, PF)[1] == ("sriov_numvfs: 4 VFs enabled but 2 virtfn links found",)
    assert len(host.vfs_of(PciAddress.parse(PF))) == 2


def test_physfn_as_a_regular_file_is_ignored_and_the_pf_link_wins(tree: SysfsTree) -> None:
    tree.pf(PF, [VF0])
    physfn = tree.device_dir(VF0) / "physfn"
    physfn.unlink()
    physfn.write_text("0000:3b:00.0\n")
    host = read(tree)
    vf = host[PciAddress.parse(VF0)]
    assert (vf.dev_type, vf.parent_addr, vf.vf_index) == (DeviceType.VF, PciAddress.parse(PF), 0)
    assert vf.warnings == ("physfn: not a symlink (ignored)",)


def test_a_vf_whose_pf_has_no_virtfn_link_keeps_its_pf_without_an_index(tree: SysfsTree) -> None:
    pf = tree.pf(PF, [VF0])
    (pf / "virtfn0").unlink()
    (pf / "sriov_numvfs").write_text("0\n")
    vf = read(tree)[PciAddress.parse(VF0)]
    assert (vf.dev_type, vf.parent_addr, vf.vf_index) == (DeviceType.VF, PciAddress.parse(PF), None)
    assert vf.warnings == ("physfn: PF 0000:3b:00.0 has no virtfn link to this VF",)


def test_a_dangling_bus_link_is_skipped_and_the_rest_is_read(
    tree: SysfsTree, caplog: pytest.LogCaptureFixture
) -> None:
    tree.function("0000:00:03.0")
    (tree.root / "bus/pci/devices/0000:00:04.0").symlink_to("../../../devices/pci0000:00/gone")
    host = read(tree)
    assert [str(d.address) for d in host] == ["0000:00:03.0"]
    assert "0000:00:04.0: missing, skipped" in caplog.text


@pytest.mark.parametrize(
    ("attr", "warning"),
    [
        ("numa_node", "numa_node: missing"),
        ("revision", "revision: missing"),
        ("sriov_numvfs", "sriov_numvfs: missing"),
        ("sriov_vf_device", "sriov_vf_device: missing"),
    ],
)
def test_a_missing_file_is_a_warning_and_the_rest_is_reported(
    tree: SysfsTree, attr: str, warning: str
) -> None:
    pf = tree.pf(PF, [], numa_node="1")
    (pf / attr).unlink()
    found = read(tree)[PciAddress.parse(PF)]
    assert found.warnings == (warning,)
    assert (found.dev_type, found.vendor_info, found.driver) == (DeviceType.PF, "8086:10c9", "igb")


def test_ids_missing_everywhere_are_all_ones_with_warnings(tree: SysfsTree) -> None:
    path = tree.function("0000:00:03.0")
    for attr in ("vendor", "modalias"):
        (path / attr).unlink()
    found = read(tree)[PciAddress.parse("0000:00:03.0")]
    assert found.vendor_id == "ffff"
    assert found.product_id == "10c9"
    assert found.warnings == ("modalias: missing", "vendor: missing")


@pytest.mark.parametrize(
    ("content", "warning"),
    [("node", "numa_node: unparsable 'node'"), ("", "numa_node: unparsable ''")],
)
def test_garbage_in_a_file_is_a_warning(tree: SysfsTree, content: str, warning: str) -> None:
    path = tree.function("0000:00:03.0")
    (path / "numa_node").write_text(content)
    found = read(tree)[PciAddress.parse("0000:00:03.0")]
    assert (found.numa_node, found.warnings) == (None, (warning,))


@pytest.mark.parametrize(
    ("attr", "content", "warning"),
    [
        ("sriov_vf_device", "xyz", "sriov_vf_device: unparsable 'xyz'"),
        ("sriov_numvfs", "many", "sriov_numvfs: unparsable 'many'"),
        ("sriov_totalvfs", "-", "sriov_totalvfs: unparsable '-'"),
    ],
)
def test_a_garbled_sriov_file_is_a_warning_and_the_pf_stays_a_pf(
    tree: SysfsTree, attr: str, content: str, warning: str
) -> None:
    pf = tree.pf(PF, [])
    (pf / attr).write_text(content + "\n")
    assert device(read(tree), PF) == (DeviceType.PF, (warning,))


def test_an_unreadable_sriov_totalvfs_still_makes_a_pf(tree: SysfsTree) -> None:
    pf = tree.pf(PF, [])
    (pf / "sriov_totalvfs").unlink()
    (pf / "sriov_totalvfs").mkdir()
    assert device(read(tree), PF) == (
        DeviceType.PF,
        ("sriov_totalvfs: unreadable (Is a directory)",),
    )


def test_a_file_that_is_a_directory_is_unreadable(tree: SysfsTree) -> None:
    path = tree.function("0000:00:03.0")
    (path / "numa_node").unlink()
    (path / "numa_node").mkdir()
    found = read(tree)[PciAddress.parse("0000:00:03.0")]
    assert found.warnings == ("numa_node: unreadable (Is a directory)",)


def test_a_file_the_kernel_refuses_to_read_is_unreadable_permission_denied(
    tree: SysfsTree,
) -> None:
    refused = real_sysfs_file("/sys/bus/pci/rescan", errno.EACCES)
    path = tree.function("0000:00:03.0")
    (path / "numa_node").unlink()
    (path / "numa_node").symlink_to(refused)
    found = read(tree)[PciAddress.parse("0000:00:03.0")]
    assert found.warnings == ("numa_node: unreadable (Permission denied)",)


def test_carrier_of_an_admin_down_interface_is_unknown_not_a_warning(tree: SysfsTree) -> None:
    einval = real_sysfs_file("/sys/class/net/*/carrier", errno.EINVAL)
    tree.function("0000:00:03.0")
    netdir = tree.netdev("0000:00:03.0", "eth0", operstate="down")
    (netdir / "carrier").unlink()
    (netdir / "carrier").symlink_to(einval)
    found = read(tree)[PciAddress.parse("0000:00:03.0")]
    assert found.netdev is not None and found.netdev.carrier is None
    assert found.warnings == ()


def test_phys_port_name_unsupported_by_the_driver_is_none_not_a_warning(tree: SysfsTree) -> None:
    eopnotsupp = real_sysfs_file("/sys/class/net/*/phys_port_name", errno.EOPNOTSUPP)
    tree.function("0000:00:03.0")
    netdir = tree.netdev("0000:00:03.0", "eth0")
    (netdir / "phys_port_name").symlink_to(eopnotsupp)
    found = read(tree)[PciAddress.parse("0000:00:03.0")]
    assert found.netdev is not None and found.netdev.phys_port_name is None
    assert found.warnings == ()


def test_a_missing_netdev_attribute_is_a_warning(tree: SysfsTree) -> None:
    tree.function("0000:00:03.0")
    (tree.netdev("0000:00:03.0", "eth0") / "address").unlink()
    found = read(tree)[PciAddress.parse("0000:00:03.0")]
    assert (found.ifname, found.mac) == ("eth0", None)
    assert found.warnings == ("net/eth0/address: missing",)


def test_warnings_are_logged_with_the_device_address(
    tree: SysfsTree, caplog: pytest.LogCaptureFixture
) -> None:
    path = tree.function("0000:00:03.0")
    (path / "revision").unlink()
    with caplog.at_level(logging.WARNING, logger="vfnet.discovery"):
        read(tree)
    assert "0000:00:03.0: revision: missing" in caplog.text


def test_a_pci_devices_entry_that_is_not_an_address_is_skipped(tree: SysfsTree) -> None:
    tree.function("0000:00:03.0")
    os.symlink("../../../devices/pci0000:00", tree.root / "bus/pci/devices/junk")
    assert [str(d.address) for d in read(tree)] == ["0000:00:03.0"]


def test_a_broken_vdpa_link_is_skipped(tree: SysfsTree) -> None:
    tree.pf(PF, [VF0])
    tree.vdpa(VF0, "vdpa0", "vhost_vdpa", "vhost-vdpa-0")
    (tree.root / "bus/vdpa/devices/vdpa1").symlink_to(Path("../../../devices/nowhere/vdpa1"))
    host = read(tree)
    assert host[PciAddress.parse(VF0)].vdpa is not None

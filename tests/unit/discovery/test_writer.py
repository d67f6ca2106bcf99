"""KernelNumVfs writes sriov_numvfs and names every refusal by errno, with a hint."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from vfnet.discovery.writer import KernelNumVfs, NumVfsWriter, numvfs_error
from vfnet.errors import SriovNumVfsError, SysfsError
from vfnet.pci.address import PciAddress

PF = PciAddress.parse("0000:3b:00.0")


@pytest.fixture
def pf_dir(tmp_path: Path) -> Path:
    path = tmp_path / "sys/bus/pci/devices" / str(PF)
    path.mkdir(parents=True)
    (path / "sriov_numvfs").write_text("0\n")
    (path / "sriov_totalvfs").write_text("7\n")
    return path


def writer(pf_dir: Path) -> NumVfsWriter:
    return KernelNumVfs(pf_dir.parents[3])


def test_the_count_is_written_in_decimal_and_read_back(pf_dir: Path) -> None:
    numvfs = writer(pf_dir)
    numvfs.set_num_vfs(PF, 4)
    assert (pf_dir / "sriov_numvfs").read_text() == "4\n"
    assert numvfs.read_num_vfs(PF) == 4


@pytest.mark.parametrize("count", [-1, 0x10000])
def test_a_count_outside_u16_is_refused_before_writing(pf_dir: Path, count: int) -> None:
    with pytest.raises(SriovNumVfsError) as refused:
        writer(pf_dir).set_num_vfs(PF, count)
    assert (refused.value.errno_name, refused.value.requested) == ("EINVAL", count)
    assert (pf_dir / "sriov_numvfs").read_text() == "0\n"


def test_a_function_without_sriov_numvfs_is_not_an_sriov_pf(pf_dir: Path) -> None:
    with pytest.raises(SriovNumVfsError, match=r"0000:3b:00\.1: sriov_numvfs=2 refused \(ENOENT\)"):
        writer(pf_dir).set_num_vfs(PciAddress.parse("0000:3b:00.1"), 2)


def test_an_unwritable_sriov_numvfs_keeps_the_kernels_errno(pf_dir: Path) -> None:
    (pf_dir / "sriov_numvfs").unlink()
    (pf_dir / "sriov_numvfs").mkdir()
    with pytest.raises(SriovNumVfsError) as refused:
        writer(pf_dir).set_num_vfs(PF, 2)
    assert (refused.value.errno_name, refused.value.reason) == ("EISDIR", "Is a directory")


def test_a_read_only_kernel_attribute_is_refused_with_eacces(pf_dir: Path) -> None:
    vendor_files = sorted(Path("/sys/bus/pci/devices").glob("*/vendor"))
    if not vendor_files:
        pytest.skip("this machine shows no PCI devices")
    (pf_dir / "sriov_numvfs").unlink()
    (pf_dir / "sriov_numvfs").symlink_to(vendor_files[0])  # r--r--r--, no store method
    with pytest.raises(SriovNumVfsError) as refused:
        writer(pf_dir).set_num_vfs(PF, 2)
    assert refused.value.errno_name == "EACCES"


@pytest.mark.parametrize("content", ["", "four\n"])
def test_an_unreadable_count_is_a_sysfs_error(pf_dir: Path, content: str) -> None:
    (pf_dir / "sriov_numvfs").write_text(content)
    with pytest.raises(SysfsError, match="cannot read the VF count"):
        writer(pf_dir).read_num_vfs(PF)


@pytest.mark.parametrize(
    ("code", "total_vfs", "name", "hint"),
    [
        (errno.EBUSY, None, "EBUSY", "VFs are already enabled: write 0 first, then the new count"),
        (errno.ERANGE, 7, "ERANGE", "more VFs than sriov_totalvfs allows (7)"),
        (errno.ERANGE, None, "ERANGE", "more VFs than sriov_totalvfs allows"),
        (errno.EINVAL, None, "EINVAL", "not a VF count the kernel accepts (0..65535)"),
        (errno.ENOENT, None, "ENOENT", "no driver bound to the PF"),
        (errno.EPERM, None, "EPERM", "the PF driver refused, usually because VFs are assigned"),
        (errno.EIO, None, "EIO", "Input/output error"),
    ],
)
def test_each_refusal_is_named_by_errno_with_a_hint(
    code: int, total_vfs: int | None, name: str, hint: str
) -> None:
    error = numvfs_error(PF, 8, code, total_vfs)
    assert (error.pf, error.requested, error.errno_name) == ("0000:3b:00.0", 8, name)
    assert error.reason.startswith(hint)
    assert str(error).startswith(f"0000:3b:00.0: sriov_numvfs=8 refused ({name}): {hint}")


def test_the_kernel_writer_reads_the_count_an_emulated_host_set(tmp_path: Path) -> None:
    from vfnet.lab.numvfs import EmulatedNumVfs
    from vfnet.lab.sysfs import HostSpec, generate_host

    root = tmp_path / "sys"
    pf = generate_host(HostSpec(nic="x710", pfs=1, vfs=4), root).pfs()[0].address
    emulated = EmulatedNumVfs(root)
    emulated.set_num_vfs(pf, 0)
    emulated.set_num_vfs(pf, 2)
    writers: list[NumVfsWriter] = [KernelNumVfs(root), emulated]
    assert [writer.read_num_vfs(pf) for writer in writers] == [2, 2]

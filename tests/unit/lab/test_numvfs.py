"""Writes to sriov_numvfs on a generated host answer as the kernel's sriov_numvfs_store."""

import os
from pathlib import Path

import pytest

from vfnet.errors import NotFound, SriovNumVfsError
from vfnet.lab.numvfs import EmulatedNumVfs
from vfnet.lab.sysfs import HostSpec, generate_host
from vfnet.pci.address import PciAddress

PF = PciAddress.parse("0000:3b:00.0")
SPEC = HostSpec(nic="x710", pfs=2, vfs=4, switchdev=False)


@pytest.fixture
def host(sysroot: Path) -> Path:
    generate_host(SPEC, sysroot)
    return sysroot


def snapshot(root: Path) -> dict[str, object]:
    """Every entry of a tree: link targets, file bytes, directories."""
    found: dict[str, object] = {}
    for where, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(where, name)
            rel = os.path.relpath(path, root)
            if os.path.islink(path):
                found[rel] = os.readlink(path)
            elif os.path.isdir(path):
                found[rel] = "dir"
            else:
                found[rel] = Path(path).read_bytes()
    return found


@pytest.mark.parametrize(
    ("writes", "errno_name"),
    [
        ([65], "ERANGE"),  # sriov_totalvfs is 64
        ([-1], "EINVAL"),
        ([0x10000], "EINVAL"),
        ([8], "EBUSY"),  # 4 VFs exist: write 0 first
        ([0, 3, 5], "EBUSY"),
    ],
)
def test_a_refused_write_names_the_kernels_errno(host, writes, errno_name):
    numvfs = EmulatedNumVfs(host)
    *accepted, refused = writes
    for count in accepted:
        numvfs.set_num_vfs(PF, count)
    with pytest.raises(SriovNumVfsError) as caught:
        numvfs.set_num_vfs(PF, refused)
    assert (caught.value.errno_name, caught.value.pf, caught.value.requested) == (
        errno_name,
        str(PF),
        refused,
    )


@pytest.mark.parametrize(("text", "value"), [("0x10", 16), ("020", 16), ("7\n", 7), (" 0 ", 0)])
def test_a_raw_write_is_parsed_as_kstrtou16_with_base_0(host, text, value):
    numvfs = EmulatedNumVfs(host)
    numvfs.write(PF, "0")
    numvfs.write(PF, text)
    assert numvfs.read_num_vfs(PF) == value


@pytest.mark.parametrize("text", ["ten", "-3", "65536", ""])
def test_a_raw_write_that_is_not_a_u16_is_einval(host, text):
    with pytest.raises(SriovNumVfsError) as caught:
        EmulatedNumVfs(host).write(PF, text)
    assert caught.value.errno_name == "EINVAL"


def test_writing_the_current_value_changes_nothing(host):
    before = snapshot(host)
    EmulatedNumVfs(host).set_num_vfs(PF, 4)
    assert snapshot(host) == before


def test_a_pf_without_a_driver_cannot_change_its_vfs(host):
    (host / "bus/pci/devices" / str(PF) / "driver").unlink()
    numvfs = EmulatedNumVfs(host)
    with pytest.raises(SriovNumVfsError) as caught:
        numvfs.set_num_vfs(PF, 0)
    assert caught.value.errno_name == "ENOENT"
    numvfs.set_num_vfs(PF, 4)  # the same value is still a no-op, checked first


def test_an_address_that_is_not_a_pf_of_the_host_is_not_found(host):
    with pytest.raises(NotFound):
        EmulatedNumVfs(host).set_num_vfs(PciAddress.parse("0000:3b:02.0"), 0)


def test_writing_0_removes_every_trace_of_the_vfs(host):
    numvfs = EmulatedNumVfs(host)
    numvfs.set_num_vfs(PF, 0)
    tree = snapshot(host)
    vf_names = {f"0000:3b:02.{n}" for n in range(4)}
    assert not [path for path in tree if any(vf in path for vf in vf_names)]
    assert not [path for path in tree if "ens1f0v" in path]
    assert numvfs.read_num_vfs(PF) == 0
    groups = {int(p.rsplit("/", 1)[1]) for p in tree if p.count("/") == 2 and "groups/" in p}
    # host bridge 0, root port 1, PFs 2 and 3, the other PF's VFs from 4 + 64
    assert groups == {0, 1, 2, 3, 68, 69, 70, 71}


@pytest.mark.parametrize(
    "spec",
    [
        SPEC,
        HostSpec(nic="cx6dx", pfs=2, vfs=3, vdpa=True, switchdev=True, numa_nodes=2),
        HostSpec(nic="82576", pfs=2, vfs=7, platform="qemu"),
    ],
    ids=["x710", "cx6dx-vdpa-switchdev", "qemu-igb"],
)
def test_0_then_n_rebuilds_exactly_the_tree_generation_writes(sysroot, spec):
    generate_host(spec, sysroot / "a")
    generate_host(spec, sysroot / "b")
    numvfs = EmulatedNumVfs(sysroot / "a")
    for pf in (PciAddress.parse("0000:3b:00.0"), PciAddress.parse("0000:01:00.0")):
        if (sysroot / "a/bus/pci/devices" / str(pf)).exists():
            numvfs.set_num_vfs(pf, 0)
            numvfs.set_num_vfs(pf, spec.vfs)
    assert snapshot(sysroot / "a") == snapshot(sysroot / "b")


def test_the_pf_config_space_counts_the_vfs_it_enabled(host):
    numvfs = EmulatedNumVfs(host)
    config = host / "bus/pci/devices" / str(PF) / "config"
    numvfs.set_num_vfs(PF, 0)
    assert config.read_bytes()[0x170:0x172] == b"\x00\x00"  # SR-IOV NumVFs
    numvfs.set_num_vfs(PF, 9)
    assert config.read_bytes()[0x170:0x172] == b"\x09\x00"
    assert config.read_bytes()[0x168] & 0x09 == 0x09  # VF Enable and VF MSE

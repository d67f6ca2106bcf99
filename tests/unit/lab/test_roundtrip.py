"""Discovery reads back exactly the model the generator says it wrote, before and after
sriov_numvfs changes."""

from pathlib import Path

import pytest

from vfnet.discovery.sysfs import SysfsReader
from vfnet.lab.numvfs import EmulatedNumVfs
from vfnet.lab.sysfs import HostSpec, generate_host
from vfnet.pci.address import PciAddress

SHAPES = [
    HostSpec(nic="82576", pfs=1, vfs=4, platform="qemu"),
    HostSpec(nic="igb", pfs=3, vfs=7, numa_nodes=2),
    HostSpec(nic="x710", pfs=2, vfs=0),
    HostSpec(nic="x710", pfs=4, vfs=12, numa_nodes=2),
    HostSpec(nic="e810", pfs=2, vfs=130, ports_per_card=1, switchdev=True),
    HostSpec(nic="cx6dx", pfs=2, vfs=3, vdpa=True, switchdev=True),
    HostSpec(nic="mlx5", pfs=3, vfs=2, numa_nodes=2, vdpa=True),
]


@pytest.mark.parametrize("spec", SHAPES, ids=lambda s: f"{s.nic}-{s.pfs}x{s.vfs}")
def test_discovery_reads_back_the_generated_model(sysroot: Path, spec: HostSpec):
    written = generate_host(spec, sysroot)
    assert SysfsReader(sysroot).read() == written


@pytest.mark.parametrize("spec", SHAPES[1:], ids=lambda s: f"{s.nic}-{s.pfs}x{s.vfs}")
def test_discovery_after_numvfs_changes_matches_a_host_generated_that_way(
    sysroot: Path, spec: HostSpec
):
    generate_host(spec, sysroot)
    pf = PciAddress.parse("0000:3b:00.0")
    numvfs = EmulatedNumVfs(sysroot)
    numvfs.set_num_vfs(pf, 0)
    after_zero = SysfsReader(sysroot).read()
    assert after_zero.vfs_of(pf) == []
    assert after_zero[pf].sriov is not None and after_zero[pf].sriov.num_vfs == 0

    count = spec.model.total_vfs_for(spec.ports) if spec.vfs else 1
    numvfs.set_num_vfs(pf, count)
    back = SysfsReader(sysroot).read()
    assert len(back.vfs_of(pf)) == count
    assert [vf.vf_index for vf in back.vfs_of(pf)] == list(range(count))
    others = [d for d in back if d.address != pf and d.parent_addr != pf]
    fresh = generate_host(spec, sysroot.parent / "fresh")
    assert others == [d for d in fresh if d.address != pf and d.parent_addr != pf]

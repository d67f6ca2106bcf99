"""VF creation: the pure plan one case a row, then apply over a recording writer and real trees."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from vfnet.agent.numvfs import (
    NumVfsPlan,
    NumVfsResult,
    VfNetdevWait,
    apply_num_vfs,
    numvfs_writer,
    plan_num_vfs,
)
from vfnet.discovery.sysfs import SysfsReader
from vfnet.discovery.writer import KernelNumVfs
from vfnet.errors import SriovNumVfsError
from vfnet.lab.hostspec import HostSpec
from vfnet.lab.numvfs import EmulatedNumVfs
from vfnet.lab.sysfs import generate_host
from vfnet.pci.address import PciAddress
from vfnet.pci.devices import HostDevices

PLANS = [
    # (case, current, wanted, total, busy, plan)
    ("a PF already at its count is skipped", 4, 4, 64, frozenset({1}), NumVfsPlan()),
    ("creating VFs on a PF without any is one write", 0, 8, 64, None, NumVfsPlan(writes=(8,))),
    ("growing writes 0 then the count", 4, 8, 64, frozenset(), NumVfsPlan(writes=(0, 8))),
    ("shrinking writes 0 then the count", 8, 2, 64, frozenset(), NumVfsPlan(writes=(0, 2))),
    ("going to 0 is one write of 0", 8, 0, 64, frozenset(), NumVfsPlan(writes=(0,))),
    (
        "more than sriov_totalvfs is refused",
        0,
        65,
        64,
        frozenset(),
        NumVfsPlan(refusal="65 VFs is more than sriov_totalvfs (64)"),
    ),
    (
        "shrinking below a VF in use is refused, naming the VF",
        8,
        4,
        64,
        frozenset({1, 6}),
        NumVfsPlan(refusal="VF 6 is in use: 4 VFs would remove it"),
    ),
    (
        "growing past VFs in use is refused too, as 0 then N removes them",
        4,
        8,
        64,
        frozenset({1}),
        NumVfsPlan(refusal="VF 1 in use: changing the count removes every VF first (0, then 8)"),
    ),
    (
        "not knowing which VFs are in use keeps existing ones",
        4,
        8,
        64,
        None,
        NumVfsPlan(refusal="which of its 4 VFs are in use is unknown, so they are kept"),
    ),
]


@pytest.mark.parametrize(
    ("current", "wanted", "total", "busy", "plan"),
    [row[1:] for row in PLANS],
    ids=[row[0] for row in PLANS],
)
def test_num_vfs_plans(
    current: int, wanted: int, total: int, busy: frozenset[int] | None, plan: NumVfsPlan
) -> None:
    assert plan_num_vfs(current, wanted, total, busy) == plan


class RecordingWriter:
    """A NumVfsWriter that records writes and refuses the ones it is told to."""

    def __init__(self, refuse: dict[int, str] | None = None) -> None:
        self.writes: list[tuple[str, int]] = []
        self.refuse = refuse or {}

    def set_num_vfs(self, pf: PciAddress, count: int) -> None:
        if count in self.refuse:
            raise SriovNumVfsError(str(pf), count, self.refuse[count], "refused")
        self.writes.append((str(pf), count))

    def read_num_vfs(self, pf: PciAddress) -> int:
        raise AssertionError("apply plans from what discovery read")


def _no_wait(pf: PciAddress, count: int) -> str | None:
    return None


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> HostDevices:
    """Two X710 PFs: ens1f0 with 4 VFs, ens1f1 with 4."""
    root = tmp_path_factory.mktemp("numvfs") / "sys"
    return generate_host(HostSpec(nic="x710", pfs=2, vfs=4, numa_nodes=1), root)


def test_a_pf_named_in_the_config_that_does_not_exist_is_an_error_and_the_others_are_served(
    host: HostDevices,
) -> None:
    writer = RecordingWriter()
    results = apply_num_vfs({"ens9": 2, "ens1f1": 6}, host, writer, frozenset(), _no_wait)
    assert results == [
        NumVfsResult("ens9", error="num_vfs ens9: PF does not exist on this host"),
        NumVfsResult("ens1f1", written=True),
    ]
    assert writer.writes == [("0000:3b:00.1", 0), ("0000:3b:00.1", 6)]


def test_a_kernel_refusal_is_an_error_naming_the_pf(host: HostDevices) -> None:
    writer = RecordingWriter(refuse={0: "EBUSY"})
    [result] = apply_num_vfs({"ens1f0": 2}, host, writer, frozenset(), _no_wait)
    assert result.error is not None
    assert result.error.startswith("num_vfs ens1f0: 0000:3b:00.0: sriov_numvfs=0 refused (EBUSY)")
    assert not result.written


def test_a_vf_in_use_keeps_its_pf_as_it_is(host: HostDevices) -> None:
    writer = RecordingWriter()
    busy = frozenset({PciAddress.parse("0000:3b:02.3")})
    [result] = apply_num_vfs({"0000:3b:00.0": 2}, host, writer, busy, _no_wait)
    assert result.error == "num_vfs 0000:3b:00.0: VF 3 is in use: 2 VFs would remove it"
    assert writer.writes == []


def test_vfs_not_appearing_in_time_are_an_error(host: HostDevices) -> None:
    late = "0000:3b:00.0: 1 of 4 VFs appeared within 10s"
    [result] = apply_num_vfs({"ens1f0": 8}, host, RecordingWriter(), frozenset(), lambda p, n: late)
    assert result == NumVfsResult("ens1f0", written=True, error=f"num_vfs ens1f0: {late}")


def test_a_generated_host_is_written_the_emulated_way_and_a_real_root_the_kernels(
    tmp_path: Path,
) -> None:
    root = tmp_path / "sys"
    generate_host(HostSpec(nic="x710", pfs=1, vfs=0, numa_nodes=1), root)
    assert isinstance(numvfs_writer(root), EmulatedNumVfs)
    assert isinstance(numvfs_writer(Path("/sys")), KernelNumVfs)


def test_vf_creation_on_a_generated_host_waits_for_the_netdevs_and_discovery_sees_them(
    tmp_path: Path,
) -> None:
    root = tmp_path / "sys"
    host = generate_host(HostSpec(nic="x710", pfs=1, vfs=0, numa_nodes=1), root)
    wait = VfNetdevWait(root, timeout=0)
    results = apply_num_vfs({"ens1f0": 3}, host, numvfs_writer(root), None, wait)
    assert results == [NumVfsResult("ens1f0", written=True)]
    vfs = SysfsReader(root).read().vfs_of(PciAddress.parse("0000:3b:00.0"))
    assert [vf.ifname for vf in vfs] == ["ens1f0v0", "ens1f0v1", "ens1f0v2"]


def test_waiting_for_vfs_that_never_come_gives_up_after_the_timeout(tmp_path: Path) -> None:
    root = tmp_path / "sys"
    generate_host(HostSpec(nic="x710", pfs=1, vfs=2, numa_nodes=1), root)
    now = [0.0]
    wait = VfNetdevWait(root, timeout=5, poll=1, clock=lambda: now[0], sleep=_advance(now))
    assert (
        wait(PciAddress.parse("0000:3b:00.0"), 4) == "0000:3b:00.0: 2 of 4 VFs appeared within 5s"
    )
    assert now[0] == 5


def _advance(now: list[float]) -> Callable[[float], None]:
    def sleep(seconds: float) -> None:
        now[0] += seconds

    return sleep

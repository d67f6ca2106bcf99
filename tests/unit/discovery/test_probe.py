"""The cheap looks between full reads: a fingerprint that moves with what the agent reports."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from vfnet.discovery.probe import VfLink, fingerprint, vf_links
from vfnet.discovery.topology import numa_sockets
from vfnet.lab.hostspec import HostSpec
from vfnet.lab.numvfs import EmulatedNumVfs
from vfnet.lab.sysfs import generate_host
from vfnet.pci.address import PciAddress

PF = "0000:3b:00.0"
VF = "0000:3b:02.1"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    generate_host(HostSpec(nic="x710", pfs=1, vfs=2, numa_nodes=1), tmp_path / "sys")
    return tmp_path / "sys"


def _unbind(root: Path) -> None:
    os.unlink(root / "bus/pci/devices" / VF / "driver")
    os.unlink(root / "bus/pci/drivers/iavf" / VF)


def _carrier_lost(root: Path) -> None:
    (root / "bus/pci/devices" / PF / "net/ens1f0/carrier").write_text("0\n")


def _vfs_removed(root: Path) -> None:
    EmulatedNumVfs(root).set_num_vfs(PciAddress.parse(PF), 0)


@pytest.mark.parametrize(
    "change",
    [_unbind, _carrier_lost, _vfs_removed],
    ids=["a VF unbound", "a PF losing carrier", "VFs removed"],
)
def test_the_fingerprint_moves_when_the_host_does(
    root: Path, change: Callable[[Path], None]
) -> None:
    before = fingerprint(root, [PF])
    change(root)
    assert fingerprint(root, [PF]) != before


def test_the_fingerprint_of_an_idle_host_stays(root: Path) -> None:
    assert fingerprint(root, [PF]) == fingerprint(root, [PF])


def test_a_vanished_pf_is_in_the_fingerprint_not_an_error(root: Path) -> None:
    assert fingerprint(root, ["0000:99:00.0"])[-1] == (("gone",),)


def test_vf_links_give_each_vfs_driver_and_netdevs(root: Path) -> None:
    _unbind(root)
    assert vf_links(root, PF) == [
        VfLink(0, "iavf", ("ens1f0v0",)),
        VfLink(1, None, ("ens1f0v1",)),
    ]
    assert vf_links(root, "0000:99:00.0") == []


def test_numa_sockets_come_from_each_nodes_first_cpu(tmp_path: Path) -> None:
    # node2 has memory only: no CPUs, so no socket.
    for node, cpus in (("node0", "0-3"), ("node1", "4-7"), ("node2", "")):
        (tmp_path / "devices/system/node" / node).mkdir(parents=True)
        (tmp_path / "devices/system/node" / node / "cpulist").write_text(f"{cpus}\n")
    for cpu, package in ((0, "0"), (4, "1")):
        topology = tmp_path / f"devices/system/cpu/cpu{cpu}/topology"
        topology.mkdir(parents=True)
        (topology / "physical_package_id").write_text(f"{package}\n")
    assert numa_sockets(tmp_path) == {0: 0, 1: 1}


def test_a_tree_without_numa_topology_gives_no_sockets(root: Path) -> None:
    assert numa_sockets(root) == {}

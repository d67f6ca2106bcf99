"""Fixtures for discovery tests: a writable sysfs tree and the captured igb host."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from tests.unit.discovery.sysfs_tree import SysfsTree

# Captured from a QEMU 82576 guest (kernel 6.1): PF 0000:01:00.0 with VFs 01:10.0/.2/.4/.6.
CAPTURE = Path(__file__).parents[2] / "data" / "igb-sysfs-capture.tar.gz"


@pytest.fixture
def tree(tmp_path: Path) -> SysfsTree:
    return SysfsTree(tmp_path / "sys")


@pytest.fixture(scope="session")
def igb_capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sysfs root of a real 82576 PF with four igbvf VFs (kernel 6.1)."""
    target = tmp_path_factory.mktemp("igb")
    with tarfile.open(CAPTURE) as archive:
        archive.extractall(target, filter="tar")
    return target / "sys"

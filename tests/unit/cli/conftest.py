"""Fixtures for CLI tests: the captured igb host, and a runner for the vfnet group."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

CAPTURE = Path(__file__).parents[2] / "data" / "igb-sysfs-capture.tar.gz"


@pytest.fixture(scope="session")
def igb_sysfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 82576 PF (eth0) with four igbvf VFs (eth2..eth5), captured from kernel 6.1."""
    target = tmp_path_factory.mktemp("igb")
    with tarfile.open(CAPTURE) as archive:
        archive.extractall(target, filter="tar")
    return target / "sys"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()

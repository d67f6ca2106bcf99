"""Generated trees go to tmpfs when there is one: tens of thousands of small files."""

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

SHM = Path("/dev/shm")


@pytest.fixture
def sysroot(tmp_path: Path) -> Iterator[Path]:
    """An empty directory to play ``/sys``."""
    if not SHM.is_dir():
        yield tmp_path / "sys"
        return
    base = Path(tempfile.mkdtemp(prefix="vfnet-sys-", dir=SHM))
    try:
        yield base / "sys"
    finally:
        shutil.rmtree(base, ignore_errors=True)

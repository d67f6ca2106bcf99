"""NUMA nodes and the CPU sockets they sit on, from ``devices/system/node`` and CPU topology."""

from __future__ import annotations

import os
from pathlib import Path


def numa_sockets(root: Path = Path("/sys")) -> dict[int, int]:
    """NUMA node -> ``physical_package_id`` of its first CPU; {} when sysfs does not say.

    A node without CPUs (memory only) has no socket and is left out, as is every node
    of a tree without ``devices/system`` (a generated host).
    """
    base = f"{root}/devices/system/node"
    try:
        names = os.listdir(base)
    except OSError:
        return {}
    sockets: dict[int, int] = {}
    for name in names:
        if not (name.startswith("node") and name[4:].isdigit()):
            continue
        cpu = _first_cpu(_read(f"{base}/{name}/cpulist"))
        if cpu is None:
            continue
        package = _read(f"{root}/devices/system/cpu/cpu{cpu}/topology/physical_package_id")
        if package is not None and package.isdigit():
            sockets[int(name[4:])] = int(package)
    return sockets


def _first_cpu(cpulist: str | None) -> int | None:
    """``0-15,32-47`` -> 0; an empty list (a memory-only node) -> None."""
    first = (cpulist or "").split(",")[0].split("-")[0].strip()
    return int(first) if first.isdigit() else None


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii") as file:
            return file.read().strip()
    except (OSError, UnicodeDecodeError):
        return None

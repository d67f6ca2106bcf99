"""Discovery speed: SysfsReader(root).read() over generated hosts; one JSON line per host.

Targets: 4 PF x 64 VF (X710) in 30 ms, 8 PF x 256 VF (single-port E810) in 250 ms.
Trees are written to tmpfs when there is one, so the figure is the reader's, not the disk's.
Also prints how long generation took and the syscalls per device the reader made.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from vfnet.discovery.sysfs import SysfsReader
from vfnet.lab.sysfs import HostSpec, generate_host

HOSTS = [
    ("x710-4x64", HostSpec(nic="x710", pfs=4, vfs=64, numa_nodes=2), 30.0),
    ("e810-8x256", HostSpec(nic="e810", pfs=8, vfs=256, ports_per_card=1, numa_nodes=2), 250.0),
]
RUNS = 7


class SyscallCount:
    """Counts the reader's opens and directory listings (audit events) and readlinks."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.active = False
        sys.addaudithook(self._audit)

    def _audit(self, event: str, args: tuple[object, ...]) -> None:
        if self.active and event in ("open", "os.listdir", "os.scandir"):
            self.counts[event] += 1

    def per_device(self, root: Path, devices: int) -> dict[str, float]:
        real_readlink = os.readlink

        def readlink(*args: object, **kwargs: object) -> str:
            self.counts["readlink"] += 1
            return real_readlink(*args, **kwargs)  # type: ignore[arg-type]

        self.counts.clear()
        os.readlink = readlink  # type: ignore[assignment]
        self.active = True
        try:
            SysfsReader(root).read()
        finally:
            self.active = False
            os.readlink = real_readlink
        return {name: round(n / devices, 1) for name, n in sorted(self.counts.items())}


def bench(name: str, spec: HostSpec, target_ms: float, base: Path) -> dict[str, object]:
    root = base / name
    started = time.perf_counter()
    host = generate_host(spec, root)
    generate_ms = (time.perf_counter() - started) * 1000
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        read = SysfsReader(root).read()
        times.append((time.perf_counter() - started) * 1000)
    assert read == host, "discovery disagrees with the generated model"
    return {
        "bench": "discovery",
        "host": name,
        "devices": len(host),
        "read_ms_median": round(statistics.median(times), 1),
        "read_ms_min": round(min(times), 1),
        "target_ms": target_ms,
        "generate_ms": round(generate_ms, 1),
        "per_device": None,
    }


def main() -> None:
    shm = Path("/dev/shm")
    base = Path(tempfile.mkdtemp(prefix="vfnet-bench-", dir=shm if shm.is_dir() else None))
    try:
        counter = SyscallCount()
        for name, spec, target in HOSTS:
            result = bench(name, spec, target, base)
            devices = result["devices"]
            assert isinstance(devices, int)
            result["per_device"] = counter.per_device(base / name, devices)
            print(json.dumps(result), flush=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()

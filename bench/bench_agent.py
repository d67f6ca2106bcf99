"""Agent pass cost on an 8 PF x 256 VF host: idle (fingerprint only) and full; JSON lines.

Target (issue 5): an idle pass at most 50 ms of CPU. The full pass (discover, select,
tag, health, report body) is what any change costs, printed for comparison. The server
is an in-process stand-in that takes reports, so HTTP is not in either figure.
"""

from __future__ import annotations

import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from vfnet.agent.loop import Agent
from vfnet.agent.settings import AgentSettings
from vfnet.lab.sysfs import HostSpec, generate_host

SPEC = HostSpec(nic="e810", pfs=8, vfs=256, ports_per_card=1, numa_nodes=2)
RUNS = 15


class TakingServer:
    """Takes every registration and report; nothing is in use."""

    def register_host(self, name: str, **facts: Any) -> dict[str, Any]:
        return {"report_generation": 0}

    def report_inventory(
        self,
        host: str,
        report_generation: int,
        devices: Iterable[Mapping[str, Any]],
        problems: Iterable[str] | None = None,
    ) -> dict[str, Any]:
        return {"applied": True, "report_generation": report_generation, "added": [],
                "removed": [], "vanished": []}  # fmt: skip

    def list_host_devices(self, host: str) -> list[dict[str, Any]]:
        return []


def _config(path: Path, root: Path, pfs: list[str]) -> None:
    mappings = ",".join(f"physnet{n % 2 + 1}:{pf}" for n, pf in enumerate(pfs))
    path.write_text(
        f'[host]\nname = "bench"\nsysfs_root = "{root}"\n\n'
        f'[sriov_nic]\nphysical_device_mappings = "{mappings}"\n'
    )


def _cpu_ms(agent: Agent, *, force_full: bool) -> float:
    if force_full:
        agent._fingerprint = None  # what any change on the host does to the next pass
    started = time.process_time()
    agent.run_pass()
    return (time.process_time() - started) * 1000


def main() -> None:
    shm = Path("/dev/shm")
    base = Path(tempfile.mkdtemp(prefix="vfnet-bench-", dir=shm if shm.is_dir() else None))
    try:
        root = base / "sys"
        host = generate_host(SPEC, root)
        config = base / "host.toml"
        _config(config, root, [pf.ifname or str(pf.address) for pf in host.pfs()])
        settings = AgentSettings(config, "http://unused", "token", resync=1e9)
        agent = Agent(settings, TakingServer(), in_use=frozenset)
        agent.start()
        agent.run_pass()
        agent.run_pass()  # the first pass saw no PFs to fingerprint yet
        for kind, full in (("idle", False), ("full", True)):
            times = [_cpu_ms(agent, force_full=full) for _ in range(RUNS)]
            print(json.dumps({
                "bench": "agent_pass", "pass": kind, "host": "e810-8x256",
                "devices": len(host), "cpu_ms_median": round(statistics.median(times), 1),
                "cpu_ms_max": round(max(times), 1), "target_ms": 50.0 if kind == "idle" else None,
            }), flush=True)  # fmt: skip
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Agents as processes against a real vfnet-server: generated hosts, commands, bounded waits.

Each host is generated under a name of its own, so tests share one server and never see
each other's devices. Looping agents are waited on with a bounded poll of what the
server shows, never a timed assertion.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from vfnet.client import Client
from vfnet.lab.hostspec import HostSpec
from vfnet.lab.server import LabServer
from vfnet.lab.sysfs import generate_host

PATIENCE = 30.0  # seconds a looping agent gets to show a change; passes take milliseconds


def agent_command() -> list[str]:
    beside = Path(sys.executable).parent / "vfnet-agent"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("vfnet-agent")
    return [found] if found else [sys.executable, "-m", "vfnet.agent.main"]


@dataclass
class Host:
    name: str
    root: Path
    config: Path
    url: str
    token: str
    admin: Client

    def write_config(self, mappings: str, num_vfs: dict[str, int]) -> None:
        counts = "".join(f'"{pf}" = {n}\n' for pf, n in num_vfs.items())
        text = (
            f'[host]\nname = "{self.name}"\nsysfs_root = "{self.root}"\n\n'
            f'[sriov_nic]\nphysical_device_mappings = "{mappings}"\n\n[num_vfs]\n{counts}'
        )
        # Written aside and renamed, as an operator's tools do, so no pass reads half a file.
        staged = self.config.with_suffix(".new")
        staged.write_text(text)
        os.replace(staged, self.config)

    def run_once(self, *extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.command(), "--once", *extra], capture_output=True, text=True, timeout=120
        )

    def command(self, driver: str = "memory") -> list[str]:
        return [
            *agent_command(), "--config", str(self.config), "--server", self.url,
            "--token", self.token, "--driver", driver,
        ]  # fmt: skip

    def devices(self) -> dict[str, dict[str, Any]]:
        return {d["address"]: d for d in self.admin.list_devices(host=self.name)}

    def device_dir(self, address: str) -> Path:
        return (self.root / "bus/pci/devices" / address).resolve()


class Running:
    """A looping ``vfnet-agent`` process and its log file."""

    def __init__(
        self, host: Host, log_path: Path, driver: str = "memory", extra: Sequence[str] = ()
    ) -> None:
        self.log_path = log_path
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*host.command(driver), "--interval", "0.2", *extra],
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def log(self) -> str:
        return self.log_path.read_text()

    def stop(self) -> int:
        self.process.terminate()
        return self.process.wait(timeout=10)


def eventually(check: Callable[[], bool], log_path: Path) -> None:
    deadline = time.monotonic() + PATIENCE
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"not seen within {PATIENCE:g}s; agent log:\n{log_path.read_text()}")
        time.sleep(0.1)


def make_host(lab: LabServer, admin: Client, where: Path, prefix: str = "agent") -> Host:
    """A generated host (two X710 PFs, no VFs yet) with its agent token and a config
    asking for four VFs on ens1f0 (physnet1)."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    root = where / "sys"
    generate_host(HostSpec(nic="x710", pfs=2, vfs=0, numa_nodes=1), root)
    token = admin.create_token("agent", host=name, name=name)["token"]
    made = Host(name, root.resolve(), where / "host.toml", lab.url, token, admin)
    made.write_config("physnet1:ens1f0", {"ens1f0": 4})
    return made

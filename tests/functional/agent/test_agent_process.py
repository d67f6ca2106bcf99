"""vfnet-agent as a process against a real vfnet-server, on generated hosts, memory driver.

Each test generates its own host (two X710 PFs without VFs) under a name of its own, so
tests share one server and never see each other's devices. Looping agents are waited
on with a bounded poll of what the server shows, never a timed assertion.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from vfnet.client import Client
from vfnet.lab.hostspec import HostSpec
from vfnet.lab.numvfs import EmulatedNumVfs
from vfnet.lab.server import LabServer
from vfnet.lab.sysfs import generate_host
from vfnet.pci.address import PciAddress

PF0 = PciAddress.parse("0000:3b:00.0")
VF1 = "0000:3b:02.1"
PATIENCE = 30.0  # seconds a looping agent gets to show a change; passes take milliseconds


def agent_command() -> list[str]:
    beside = Path(sys.executable).parent / "vfnet-agent"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("vfnet-agent")
    return [found] if found else [sys.executable, "-m", "vfnet.agent.main"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LabServer, Client]]:
    lab = LabServer(tmp_path_factory.mktemp("agent-server"))
    with lab, Client(lab.url, lab.admin_token()) as admin:
        yield lab, admin


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

    def command(self) -> list[str]:
        return [
            *agent_command(), "--config", str(self.config), "--server", self.url,
            "--token", self.token, "--driver", "memory",
        ]  # fmt: skip

    def devices(self) -> dict[str, dict[str, Any]]:
        return {d["address"]: d for d in self.admin.list_devices(host=self.name)}

    def device_dir(self, address: str) -> Path:
        return (self.root / "bus/pci/devices" / address).resolve()


@pytest.fixture
def host(server: tuple[LabServer, Client], tmp_path: Path) -> Host:
    lab, admin = server
    name = f"agent-{uuid.uuid4().hex[:8]}"
    root = tmp_path / "sys"
    generate_host(HostSpec(nic="x710", pfs=2, vfs=0, numa_nodes=1), root)
    token = admin.create_token("agent", host=name, name=name)["token"]
    made = Host(name, root.resolve(), tmp_path / "host.toml", lab.url, token, admin)
    made.write_config("physnet1:ens1f0", {"ens1f0": 4})
    return made


@pytest.fixture
def looping(host: Host, tmp_path: Path) -> Iterator[Path]:
    """A looping agent on ``host``; yields its log file."""
    log_path = tmp_path / "agent.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*host.command(), "--interval", "0.2"], stdout=log, stderr=subprocess.STDOUT
        )
    try:
        eventually(lambda: len(host.devices()) == 4, log_path)
        yield log_path
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process.returncode == 0, log_path.read_text()


def eventually(check: Callable[[], bool], log_path: Path) -> None:
    deadline = time.monotonic() + PATIENCE
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"not seen within {PATIENCE:g}s; agent log:\n{log_path.read_text()}")
        time.sleep(0.1)


def test_one_pass_registers_the_host_creates_the_vfs_and_reports_them(host: Host) -> None:
    done = host.run_once()
    assert done.returncode == 0, done.stderr
    assert EmulatedNumVfs(host.root).read_num_vfs(PF0) == 4
    registered = host.admin.get_host(host.name)
    assert registered["physnets"] == ["physnet1"]
    assert registered["report_generation"] >= 1
    devices = host.devices()
    assert sorted(devices) == ["0000:3b:02.0", "0000:3b:02.1", "0000:3b:02.2", "0000:3b:02.3"]
    assert {(d["physnet"], d["healthy"], d["ifname"][:7]) for d in devices.values()} == {
        ("physnet1", True, "ens1f0v")
    }
    for step in ("discover:", "num_vfs ens1f0: writing", "select:", "tag:", "health:", "report:"):
        assert step in done.stderr


def test_a_restarted_agent_counts_report_generations_on_from_the_servers(host: Host) -> None:
    assert host.run_once().returncode == 0
    first = host.admin.get_host(host.name)["report_generation"]
    host.write_config("physnet1:ens1f0,physnet2:ens1f1", {"ens1f0": 4, "ens1f1": 1})
    assert host.run_once().returncode == 0
    assert host.admin.get_host(host.name)["report_generation"] > first
    assert "0000:3b:0a.0" in host.devices()


def test_a_pf_named_in_the_config_that_does_not_exist_is_reported_and_the_rest_served(
    host: Host,
) -> None:
    host.write_config("physnet1:ens1f0,physnet2:ens9", {"ens1f0": 4, "ens9": 2})
    done = host.run_once()
    assert done.returncode == 1
    assert "num_vfs ens9: PF does not exist on this host" in done.stderr
    assert "physical_device_mappings physnet2:ens9: PF does not exist on this host" in done.stderr
    assert len(host.devices()) == 4


def test_a_bad_config_at_start_is_one_line_and_exit_status_2(host: Host) -> None:
    host.config.write_text('[host]\nname = "x"\ncolour = "blue"\n')
    done = host.run_once()
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert "colour" in line and "unknown key" in line


def test_an_unbound_vf_is_reported_unhealthy_within_a_pass(host: Host, looping: Path) -> None:
    vf = host.device_dir(VF1)
    (vf / "driver").unlink()
    (host.root / "bus/pci/drivers/iavf" / VF1).unlink()
    eventually(lambda: host.devices()[VF1]["health_reasons"] == ["driver unbound"], looping)
    assert not host.devices()[VF1]["healthy"]


def test_a_pf_losing_carrier_makes_its_vfs_unhealthy(host: Host, looping: Path) -> None:
    netdev = host.device_dir(str(PF0)) / "net/ens1f0"
    (netdev / "carrier").write_text("0\n")
    (netdev / "operstate").write_text("down\n")
    eventually(
        lambda: all(
            d["health_reasons"] == ["pf ens1f0: no carrier"] for d in host.devices().values()
        ),
        looping,
    )


def test_vfs_removed_behind_the_agents_back_are_created_again(host: Host, looping: Path) -> None:
    EmulatedNumVfs(host.root).set_num_vfs(PF0, 0)
    eventually(lambda: EmulatedNumVfs(host.root).read_num_vfs(PF0) == 4, looping)
    assert all(d["healthy"] for d in host.devices().values())


def test_a_config_change_is_picked_up_without_a_restart(host: Host, looping: Path) -> None:
    host.write_config("physnet1:ens1f0,physnet2:ens1f1", {"ens1f0": 4, "ens1f1": 2})
    eventually(lambda: len(host.devices()) == 6, looping)
    assert host.admin.get_host(host.name)["physnets"] == ["physnet1", "physnet2"]
    physnets = {d["address"]: d["physnet"] for d in host.devices().values()}
    assert physnets["0000:3b:0a.1"] == "physnet2"


def test_a_bad_new_config_is_logged_and_the_old_one_kept(host: Host, looping: Path) -> None:
    host.config.write_text(host.config.read_text().replace('"ens1f0" = 4', '"ens1f0" = -1'))
    eventually(lambda: "keeping the previous config" in looping.read_text(), looping)
    # Still serving with the old config: a change on the host still shows.
    (host.device_dir(VF1) / "driver").unlink()
    (host.root / "bus/pci/drivers/iavf" / VF1).unlink()
    eventually(lambda: not host.devices()[VF1]["healthy"], looping)
    [line] = [ln for ln in looping.read_text().splitlines() if "keeping the previous" in ln]
    assert "[num_vfs]: ens1f0: expected a whole number >= 0, not -1" in line

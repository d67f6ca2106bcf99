"""``vfnet lab up/status/down`` end to end with the memory driver: real processes, real HTTP.

The lab runs detached from the command that started it; each test checks what a user
sees (the command's output, ``status --json``) and what is left on the machine after
``down``: no process of the lab, no file of the lab.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vfnet.lab.processes import ProcessRecord, is_running

VFNET = str(Path(sys.executable).parent / "vfnet")


def vfnet(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [VFNET, *argv], capture_output=True, text=True, timeout=180, check=False,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def recorded(lab: Path) -> list[ProcessRecord]:
    state = json.loads((lab / "lab.json").read_text())
    found = [state["server"], *(host["agent"] for host in state["hosts"])]
    return [ProcessRecord.from_json(p) for p in found if p]


def status(lab: Path) -> dict[str, Any]:
    done = vfnet("lab", "status", "--dir", str(lab), "--json")
    found: dict[str, Any] = json.loads(done.stdout)
    return found


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Path]:
    """A lab folder; whatever a failed test left running there is taken down."""
    where = tmp_path / "lab"
    yield where
    if (where / "lab.json").exists():
        vfnet("lab", "down", "--dir", str(where))


def up(lab: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    done = vfnet("lab", "up", "--dir", str(lab), "--driver", "memory", *extra)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """One lab brought up for the tests that only look at it; its ``up`` output."""
    where = tmp_path_factory.mktemp("running") / "lab"
    try:
        yield where, up(where).stdout
    finally:
        vfnet("lab", "down", "--dir", str(where))


def test_up_starts_a_server_and_agents_that_report_and_says_what_to_do_next(
    running: tuple[Path, str],
) -> None:
    lab, out = running
    assert "host-1: agent pid" in out and "host-2: agent pid" in out
    assert f"VFNET_TOKEN=$(cat {lab.resolve()}/admin.token)" in out
    found = status(lab)
    assert found["healthy"] is True
    assert [(h["host"], h["alive"], h["driver"]) for h in found["hosts"]] == [
        ("host-1", True, "memory"), ("host-2", True, "memory"),
    ]  # fmt: skip
    assert all(h["devices"] > 0 for h in found["hosts"])
    # The next steps work as printed: the CLI reaches the lab's server with its token.
    token = (lab / "admin.token").read_text().strip()
    env = {"VFNET_URL": found["url"], "VFNET_TOKEN": token}
    made = vfnet("network", "create", "--provider-network-type", "vlan",
                 "--provider-physical-network", "physnet1", "--provider-segment", "100",
                 "net1", env=env)  # fmt: skip
    assert made.returncode == 0, made.stderr


def test_up_again_on_a_healthy_lab_changes_nothing(running: tuple[Path, str]) -> None:
    lab, _ = running
    before = (lab / "lab.json").read_text()
    again = up(lab)
    assert "already up" in again.stdout
    assert (lab / "lab.json").read_text() == before
    assert all(is_running(p) for p in recorded(lab))


def test_down_stops_every_process_and_removes_the_folder_it_made(lab: Path) -> None:
    up(lab, "--hosts", "3", "--nic", "e810", "--pfs", "1", "--vfs", "2")
    processes = recorded(lab)
    assert len(processes) == 4
    done = vfnet("lab", "down", "--dir", str(lab))
    assert done.returncode == 0, done.stdout + done.stderr
    assert not any(is_running(p) for p in processes)
    assert not lab.exists()
    again = vfnet("lab", "down", "--dir", str(lab))
    assert (again.returncode, again.stdout.strip()) == (0, f"No lab in {lab}: nothing to do.")


def test_down_leaves_a_folder_the_user_made_and_what_they_put_in_it(lab: Path) -> None:
    lab.mkdir()
    (lab / "notes.txt").write_text("mine")
    up(lab)
    assert vfnet("lab", "down", "--dir", str(lab)).returncode == 0
    assert [p.name for p in lab.iterdir()] == ["notes.txt"]


def test_down_after_every_lab_process_was_killed_cleans_up(lab: Path) -> None:
    up(lab)
    processes = recorded(lab)
    for process in processes:
        os.kill(process.pid, signal.SIGKILL)
    unhealthy = vfnet("lab", "status", "--dir", str(lab))
    assert unhealthy.returncode == 1
    assert "not healthy" in unhealthy.stderr
    done = vfnet("lab", "down", "--dir", str(lab))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "not running" in done.stdout
    assert not lab.exists()


def test_up_over_a_stale_lab_removes_it_and_starts_afresh(lab: Path) -> None:
    up(lab)
    old = recorded(lab)
    for process in old:
        os.kill(process.pid, signal.SIGKILL)
    done = up(lab)
    assert "is not running: removing what is left of it" in done.stdout
    new = recorded(lab)
    assert {p.pid for p in new}.isdisjoint({p.pid for p in old})
    assert all(is_running(p) for p in new)


def test_status_without_a_lab_says_how_to_start_one(lab: Path) -> None:
    done = vfnet("lab", "status", "--dir", str(lab))
    assert done.returncode == 1
    assert done.stderr.strip() == f"error: no lab in {lab} (start one: vfnet lab up --dir {lab})"


def test_a_lab_of_one_host_is_refused_before_anything_is_made(lab: Path) -> None:
    done = vfnet("lab", "up", "--dir", str(lab), "--hosts", "1")
    assert done.returncode == 2
    assert "--hosts" in done.stderr
    assert not lab.exists()


def without_switch_capabilities() -> list[str]:
    """A prefix running the command as the same root, without any capability (else as is)."""
    return ["setpriv", "--bounding-set=-all", "--inh-caps=-all"] if os.geteuid() == 0 else []


def test_without_the_capabilities_up_uses_the_memory_driver_and_says_so(lab: Path) -> None:
    done = subprocess.run(
        [*without_switch_capabilities(), VFNET, "lab", "up", "--dir", str(lab)],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    [said] = [line for line in done.stdout.splitlines() if line.startswith("Not root")]
    assert said == "Not root: the agents use the memory driver (VF settings recorded, no packets)."
    assert {h["driver"] for h in status(lab)["hosts"]} == {"memory"}


def test_the_eswitch_without_the_capabilities_is_refused_naming_the_memory_driver(
    lab: Path,
) -> None:
    done = subprocess.run(
        [*without_switch_capabilities(), VFNET, "lab", "up", "--dir", str(lab),
         "--driver", "eswitch"],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert "--driver" in line and "needs root" in line and "--driver memory" in line
    assert not lab.exists()

"""``vfnet lab demo`` end to end: generated hosts, a real server process, real HTTP."""

import sqlite3
import subprocess
import sys
from pathlib import Path

VFNET = str(Path(sys.executable).parent / "vfnet")


def test_the_lab_demo_walks_every_step_and_exits_zero(tmp_path):
    lab = tmp_path / "lab"
    done = subprocess.run(
        [VFNET, "lab", "demo", "--dir", str(lab)],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "[FAILED]" not in out
    assert "All 5 checks held." in out
    assert "the HA pair's VFs sit on different PFs" in out
    assert "refused: no host has 1 free VF on physnet 'physnet9'" in out
    # The lab keeps its hosts, configs, database and server log for the user to inspect.
    for made in ("hosts/host-1/host.toml", "hosts/host-2/sys/bus/pci/devices", "vfnet.db"):
        assert (lab / made).exists(), made
    assert "Application startup complete" in (lab / "server.log").read_text()


def test_running_the_demo_twice_starts_from_fresh_hosts(tmp_path):
    lab = tmp_path / "lab"
    for _ in range(2):
        done = subprocess.run(
            [VFNET, "lab", "demo", "--dir", str(lab)],
            capture_output=True, text=True, timeout=180, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
    # The second run started from an empty database: one admin and two agent tokens, not six.
    with sqlite3.connect(lab / "vfnet.db") as db:
        assert db.execute("select count(*) from tokens").fetchone() == (3,)

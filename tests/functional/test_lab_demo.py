"""``vfnet lab demo`` without the switch capabilities: the memory driver, said so, walked to
the end with the packet checks skipped (not passed), the lab taken down, exit 0; and a
demo that cannot start exits 1 naming why, leaving nothing behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

VFNET = str(Path(sys.executable).parent / "vfnet")
RESET_VF = (
    "link/ether 00:00:00:00:00:00 brd ff:ff:ff:ff:ff:ff, spoof checking on, "
    "link-state auto, trust off"
)
CHECKS = (
    "both hosts reported VF pools",
    "a flat and a VLAN network, each with a subnet",
    "direct ports got a MAC and a fixed IP",
    "containers ACTIVE, c1 on host-1 and c2 on host-2",
    "the VM ACTIVE with its direct and macvtap",
    "the trusted port's VF shows trust on",
    "c1's VF shows max_tx_rate 10Mbps",
    "c2 live-migrated to host-1 keeping its MAC and IP",
    "every device is free on the server again",
    "every VF is reset: the VF tables read as before the demo",
    "the walk reached its end",
    "the lab is down: none of its processes, namespaces or files is left",
)
PACKET_CHECKS = (
    "c1 (host-1) and c2 (host-2) ping each other over their VFs",
    "c3 on VLAN 200 does not reach c1 on VLAN 100",
    "the sink counts copies of c1's pings",
    "c1 and c2 ping each other again after the migration",
)


def without_switch_capabilities() -> list[str]:
    """A prefix running the command as the same root, without any capability (else as is)."""
    return ["setpriv", "--bounding-set=-all", "--inh-caps=-all"] if os.geteuid() == 0 else []


def demo(lab: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*without_switch_capabilities(), VFNET, "lab", "demo", "--dir", str(lab), *options],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def summary(out: str) -> dict[str, str]:
    """Each summary line's check (its start) -> its verdict."""
    lines = out.split("== Summary", 1)[1].strip().splitlines()
    found = {}
    for line in lines[:-1]:
        verdict, _, what = line.strip().partition("  ")
        found[what] = verdict
    return found


def verdict(found: dict[str, str], check: str) -> str:
    [hit] = [v for what, v in found.items() if what.startswith(check)]
    return hit


Walked = tuple[Path, subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def walked(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    lab = tmp_path_factory.mktemp("demo") / "lab"
    return lab, demo(lab)


def test_without_root_the_demo_says_it_uses_the_memory_driver_and_exits_zero(
    walked: Walked,
) -> None:
    _, done = walked
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Not root: the agents use the memory driver" in done.stdout
    assert "FAIL" not in done.stdout


def test_every_check_but_the_packet_ones_passes_and_those_are_skipped_with_why(
    walked: Walked,
) -> None:
    _, done = walked
    found = summary(done.stdout)
    for check in CHECKS:
        assert verdict(found, check) == "PASS", check
    for check in PACKET_CHECKS:
        assert verdict(found, check) == "SKIP", check
        [line] = [line for line in done.stdout.splitlines() if check in line]
        assert "no packets flow" in line
    assert done.stdout.rstrip().splitlines()[-1].startswith(f"{len(found)} checks: ")


def test_the_vf_tables_read_as_ip_link_show_prints_them_before_and_after(walked: Walked) -> None:
    _, done = walked
    before = done.stdout.split("== VF tables before", 1)[1].split("== Networks", 1)[0]
    after = done.stdout.split("== Release", 1)[1].split("== Down", 1)[0]
    for tables in (before, after):
        assert "ens1f0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500" in tables
        vfs = [line.strip() for line in tables.splitlines() if line.strip().startswith("vf ")]
        assert len(vfs) == 2 * 8 + 2 * 4  # host-1's 2 PFs of 8 VFs, host-2's 2 PFs of 4
        assert all(line.endswith(RESET_VF) for line in vfs)
    middle = done.stdout.split("== A trusted port", 1)[1].split("== Mirroring", 1)[0]
    assert any("max_tx_rate 10Mbps" in line and "vlan 100" in line for line in middle.splitlines())
    assert any(line.rstrip().endswith("trust on") for line in middle.splitlines())


def test_the_demo_takes_its_lab_down_at_the_end(walked: Walked) -> None:
    lab, done = walked
    assert f"The lab in {lab} is down" in done.stdout
    assert not lab.exists()


def test_a_lab_left_by_an_earlier_run_is_taken_down_first(tmp_path: Path) -> None:
    lab = tmp_path / "lab"
    up = subprocess.run(
        [VFNET, "lab", "up", "--driver", "memory", "--dir", str(lab)],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert up.returncode == 0, up.stdout + up.stderr
    done = demo(lab)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"A lab is left in {lab} from an earlier run: taking it down first." in done.stdout
    assert not lab.exists()


def test_a_demo_that_cannot_start_its_lab_exits_one_naming_why_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    lab = tmp_path / "lab"
    done = demo(lab, "--driver", "eswitch")  # refused without the capabilities
    assert done.returncode == 1, done.stdout + done.stderr
    found = summary(done.stdout)
    assert verdict(found, "the walk reached its end") == "FAIL"
    [line] = [line for line in done.stdout.splitlines() if "FAIL  the walk" in line]
    assert "--driver" in line and "needs root" in line
    assert "some checks failed" in done.stderr
    assert not lab.exists()

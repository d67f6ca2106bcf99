"""``vfnet lab demo`` as root: the whole walk on the software eswitch, real packets, exit 0,
and the machine left as it was, after a full walk and after Ctrl-C half way."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.privileged

VFNET = str(Path(sys.executable).parent / "vfnet")
PACKET_CHECKS = (
    "c1 (host-1) and c2 (host-2) ping each other over their VFs",
    "c3 on VLAN 200 does not reach c1 on VLAN 100",
    "the sink counts copies of c1's pings",
    "c1 and c2 ping each other again after the migration",
)


def namespaces() -> list[str]:
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True)
    return sorted(line.split()[0] for line in listed.stdout.splitlines())


def left_over(out: str) -> list[str]:
    """The namespaces the demo made (its hosts' switches, the containers it names) that
    are still there. Only these: other tests on the machine make namespaces of their own."""
    made = {"vfnet-host-1", "vfnet-host-2", *re.findall(r"vfnet-c-[0-9a-f-]{36}", out)}
    return sorted(made & set(namespaces()))


def processes_of(lab: Path) -> list[str]:
    """Command lines naming the lab's folder: its server, agents, anything it started."""
    listed = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True)
    return [line for line in listed.stdout.splitlines() if str(lab) in line]


def summary(out: str) -> dict[str, str]:
    lines = out.split("== Summary", 1)[1].strip().splitlines()[:-1]
    return {line.strip().partition("  ")[2]: line.split()[0] for line in lines}


def test_the_full_walk_passes_on_the_eswitch_and_leaves_the_machine_as_it_was(
    tmp_path: Path,
) -> None:
    lab = tmp_path / "lab"
    done = subprocess.run(
        [VFNET, "lab", "demo", "--dir", str(lab)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    found = summary(done.stdout)
    assert "FAIL" not in found.values(), done.stdout
    for check in PACKET_CHECKS:
        [verdict] = [v for what, v in found.items() if what.startswith(check)]
        assert verdict == "PASS", check
    assert "reply" in done.stdout and "no reply, as it should be" in done.stdout
    assert left_over(done.stdout) == []
    assert processes_of(lab) == []
    assert not lab.exists()


def test_ctrl_c_half_way_takes_the_lab_down_all_the_same(tmp_path: Path) -> None:
    lab = tmp_path / "lab"
    demo = subprocess.Popen(
        [VFNET, "lab", "demo", "--dir", str(lab)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert demo.stdout is not None
    seen = []
    for line in demo.stdout:
        seen.append(line)
        if line.startswith("== A VM with"):  # containers made, their namespaces named
            break
    demo.send_signal(signal.SIGINT)
    rest, _ = demo.communicate(timeout=120)
    out = "".join(seen) + rest
    assert demo.returncode != 0, out
    assert f"The lab in {lab} is down" in out
    assert left_over(out) == []
    assert processes_of(lab) == []
    assert not lab.exists()

"""Lab processes are found again by pid and start time, and only those are ever signalled."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from vfnet.lab.processes import (
    ProcessRecord,
    is_running,
    log_tail,
    read_stat,
    spawn,
    start_time,
    stop,
)

# /proc/PID/stat as the kernel writes it; the command name may hold spaces and ')'.
STAT = (
    "{pid} (vfnet agent) x) {state} 1 {pid} {pid} 0 -1 4194560 "
    + " ".join(["0"] * 8)
    + (" 20 0 1 0 {start} 12345 678 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0")
)


def fake_proc(tmp_path: Path, pid: int, state: str, start: int) -> Path:
    (tmp_path / str(pid)).mkdir()
    (tmp_path / str(pid) / "stat").write_text(STAT.format(pid=pid, state=state, start=start))
    return tmp_path


@pytest.fixture
def sleeper(tmp_path: Path) -> Iterator[ProcessRecord]:
    record, process = spawn(["sleep", "300"], tmp_path / "sleep.log")
    try:
        yield record
    finally:
        process.kill()
        process.wait()


def test_the_start_time_is_read_past_a_command_name_with_spaces_and_parentheses(
    tmp_path: Path,
) -> None:
    proc = fake_proc(tmp_path, 4242, "S", 987654)
    assert read_stat(4242, proc) == ("S", 987654)
    assert start_time(4242, proc) == 987654


def test_a_pid_that_is_gone_has_no_start_time(tmp_path: Path) -> None:
    assert start_time(4242, tmp_path) is None


def test_a_zombie_is_not_running(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, 4242, "Z", 100)
    assert not is_running(ProcessRecord(4242, 100, ("x",), "log"), proc)


def test_a_pid_with_another_start_time_is_someone_else(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, 4242, "S", 100)
    assert is_running(ProcessRecord(4242, 100, ("x",), "log"), proc)
    assert not is_running(ProcessRecord(4242, 99, ("x",), "log"), proc)


def test_a_spawned_process_runs_in_a_session_of_its_own(sleeper: ProcessRecord) -> None:
    assert is_running(sleeper)
    assert os.getsid(sleeper.pid) == sleeper.pid
    assert sleeper.argv == ("sleep", "300")


def test_stopping_ends_the_process_with_sigterm(sleeper: ProcessRecord) -> None:
    assert stop(sleeper) == "stopped"
    assert not is_running(sleeper)


def test_a_process_that_ignores_sigterm_is_killed_after_the_grace(tmp_path: Path) -> None:
    ignoring = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); " \
        "print('ready', flush=True); time.sleep(300)"  # fmt: skip
    record, process = spawn([sys.executable, "-c", ignoring], tmp_path / "log")
    try:
        while "ready" not in Path(record.log).read_text():
            assert process.poll() is None
            time.sleep(0.01)
        assert stop(record, grace=0.5) == "killed"
        assert process.wait(timeout=5) == -9
    finally:
        process.kill()
        process.wait()


def test_a_recycled_pid_is_never_signalled(sleeper: ProcessRecord) -> None:
    someone_else = replace(sleeper, start_time=sleeper.start_time + 1)
    assert stop(someone_else) == "not running"
    assert is_running(sleeper)


def test_stopping_a_process_already_gone_says_so(tmp_path: Path) -> None:
    record, process = spawn(["true"], tmp_path / "log")
    process.wait()
    assert stop(record) == "not running"


def test_the_log_tail_is_the_last_lines(tmp_path: Path) -> None:
    log = tmp_path / "agent.log"
    log.write_text("".join(f"line {n}\n" for n in range(40)))
    assert log_tail(log, 3) == "line 37\nline 38\nline 39"
    assert log_tail(tmp_path / "none.log") == f"(no log at {tmp_path / 'none.log'})"

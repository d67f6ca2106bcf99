"""The lab's processes: started detached with a log, known again by pid and start time, stopped.

A pid alone names a process only while it lives: after it dies the kernel hands the
number to someone else. The lab keeps each pid with the process's start time (field 22
of ``/proc/PID/stat``, clock ticks since boot) and signals only a process that still
has both, through a pidfd opened after the check, so a recycled pid is never signalled.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vfnet.errors import VfnetError

PROC = Path("/proc")
STOP_GRACE = 5.0  # seconds between SIGTERM and SIGKILL


@dataclass(frozen=True, slots=True)
class ProcessRecord:
    """One process the lab started: enough to find it again after a crash, and its log."""

    pid: int
    start_time: int
    argv: tuple[str, ...]
    log: str

    def to_json(self) -> dict[str, Any]:
        return {"pid": self.pid, "start_time": self.start_time, "argv": list(self.argv),
                "log": self.log}  # fmt: skip

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProcessRecord:
        return cls(int(data["pid"]), int(data["start_time"]), tuple(data["argv"]), data["log"])


def installed_command(name: str) -> str:
    """The console script ``name`` beside this Python, else on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise VfnetError(f"{name} is not installed next to vfnet (run scripts/bootstrap)")
    return found


def read_stat(pid: int, proc: Path = PROC) -> tuple[str, int] | None:
    """The process's state letter and start time, or None when there is no such pid."""
    try:
        text = (proc / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name (field 2) is in parentheses and may hold spaces or ')'.
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[19])


def start_time(pid: int, proc: Path = PROC) -> int | None:
    stat = read_stat(pid, proc)
    return None if stat is None else stat[1]


def is_running(record: ProcessRecord, proc: Path = PROC) -> bool:
    """Whether the recorded process still runs: same pid, same start time, not a zombie."""
    stat = read_stat(record.pid, proc)
    return stat is not None and stat[1] == record.start_time and stat[0] not in ("Z", "X")


def spawn(
    argv: Sequence[str], log_path: Path, env: Mapping[str, str] | None = None
) -> tuple[ProcessRecord, subprocess.Popen[bytes]]:
    """Starts ``argv`` in a session of its own (no terminal, no signals from it), output to
    ``log_path``; the record and the handle, whose exit code tells an early death."""
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            list(argv), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, env=None if env is None else dict(env),
        )  # fmt: skip
    started = start_time(process.pid)
    if started is None:  # reaped already: only possible if something else waited on it
        raise VfnetError(f"{argv[0]} vanished at start; see {log_path}")
    return ProcessRecord(process.pid, started, tuple(argv), str(log_path)), process


def _signal(record: ProcessRecord, signum: int) -> bool:
    """Sends ``signum`` if the recorded process still runs; False if it did not."""
    try:
        pidfd = os.pidfd_open(record.pid)
    except ProcessLookupError:
        return False
    try:
        # Checked after the pidfd is held: the pid cannot be handed on while it is open.
        if not is_running(record):
            return False
        signal.pidfd_send_signal(pidfd, signum)
        return True
    except ProcessLookupError:
        return False
    finally:
        os.close(pidfd)


def _wait_gone(record: ProcessRecord, seconds: float, sleep: Callable[[float], None]) -> bool:
    deadline = time.monotonic() + seconds
    while is_running(record):
        if time.monotonic() > deadline:
            return False
        sleep(0.05)
    return True


def stop(
    record: ProcessRecord,
    grace: float = STOP_GRACE,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """SIGTERM, then SIGKILL after ``grace`` seconds: "stopped", "killed" or "not running"."""
    return stop_all([record], grace, sleep)[0]


def stop_all(
    records: Sequence[ProcessRecord],
    grace: float = STOP_GRACE,
    sleep: Callable[[float], None] = time.sleep,
) -> list[str]:
    """:func:`stop` for several processes at once, so their graces run side by side."""
    outcomes = ["stopped" if _signal(r, signal.SIGTERM) else "not running" for r in records]
    deadline = time.monotonic() + grace
    for n, record in enumerate(records):
        if outcomes[n] == "stopped" and not _wait_gone(record, deadline - time.monotonic(), sleep):
            _signal(record, signal.SIGKILL)
            if not _wait_gone(record, grace, sleep):
                raise VfnetError(f"pid {record.pid} ({record.argv[0]}) outlived SIGKILL")
            outcomes[n] = "killed"
    return outcomes


def log_tail(path: str | Path, lines: int = 15) -> str:
    """The last lines of a log, for a failure message."""
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])

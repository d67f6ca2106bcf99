"""vfnet's own containers: a network namespace ``vfnet-c-<id>``, optionally running a command."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path

from vfnet.agent.attach.containers import Outcome, remove_namespace
from vfnet.agent.attach.netns import NamespaceOps
from vfnet.errors import DriverError, ValidationError

CONTAINER_PREFIX = "vfnet-c-"
AGENT_COMMAND = "vfnet-agent"
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")

__all__ = ["container_netns", "create_container", "delete_container", "run_in_container"]


def container_netns(container_id: str) -> str:
    """The namespace of vfnet container ``container_id``."""
    if not _ID.fullmatch(container_id):
        raise ValidationError(
            "container_id", f"{container_id!r}: 1-64 of letters, digits, '_', '.', '-'"
        )
    return CONTAINER_PREFIX + container_id


def create_container(ops: NamespaceOps, container_id: str) -> str:
    """Makes the container's namespace (its loopback up); returns its name. Idempotent."""
    ns = container_netns(container_id)
    ops.create(ns)
    return ns


def run_in_container(
    container_id: str, argv: Sequence[str], *, log_path: str | None = None
) -> subprocess.Popen[bytes]:
    """Starts ``argv`` inside the container's namespace, detached from ours; output to
    ``log_path`` (or nowhere)."""
    ns = container_netns(container_id)
    output = open(log_path or os.devnull, "ab")  # noqa: SIM115 - handed to the child
    try:
        return subprocess.Popen(
            ["ip", "netns", "exec", ns, *argv],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        output.close()


def delete_container(ops: NamespaceOps, container_id: str) -> dict[str, Outcome]:
    """Stops what runs in the container, sends its VFs home, then removes its namespace."""
    ns = container_netns(container_id)
    if not ops.exists(ns):
        return {}
    for pid in _pids(ns):
        with contextlib.suppress(ProcessLookupError):  # it ended by itself meanwhile
            os.kill(pid, signal.SIGKILL)
    return remove_namespace(ops, ns)


def _pids(ns: str) -> list[int]:
    """What runs in the container, less any vfnet agent passing through it: an agent
    works inside a namespace for a moment (on a shared kernel, another host's too), and
    killing it would leave that host unserved."""
    done = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise DriverError(f"ip netns pids {ns}: {done.stderr.strip() or done.returncode}")
    pids = [int(pid) for pid in done.stdout.split()]
    return [pid for pid in pids if pid != os.getpid() and not _is_agent(pid)]


def _is_agent(pid: int) -> bool:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:  # it ended meanwhile
        return False
    return any(Path(arg.decode(errors="replace")).name == AGENT_COMMAND for arg in argv[:2])

"""Named network namespaces as ``ip netns`` keeps them: looked up, emptied and removed.

The lab builds no namespace itself (its agents do); it only checks that the names it
will use are free, and removes its container instances' namespaces on the way down.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from vfnet.errors import VfnetError

NETNS_RUN_DIR = Path("/run/netns")


def netns_exists(name: str, run_dir: Path = NETNS_RUN_DIR) -> bool:
    return (run_dir / name).exists()


def list_netns(run_dir: Path = NETNS_RUN_DIR) -> list[str]:
    try:
        return sorted(entry.name for entry in run_dir.iterdir())
    except FileNotFoundError:
        return []


def _ip(*argv: str) -> str:
    try:
        done = subprocess.run(["ip", *argv], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise VfnetError("ip (iproute2) is not installed") from None
    if done.returncode != 0:
        raise VfnetError(f"ip {' '.join(argv)}: {done.stderr.strip() or done.returncode}")
    return done.stdout


def delete_container_netns(name: str) -> int:
    """Kills what runs in the namespace (a container's command), then removes it; returns
    how many processes were killed. A namespace already gone is not an error."""
    if not netns_exists(name):
        return 0
    killed = 0
    for pid in _ip("netns", "pids", name).split():
        try:
            os.kill(int(pid), signal.SIGKILL)
            killed += 1
        except ProcessLookupError:
            continue
    _ip("netns", "delete", name)
    return killed

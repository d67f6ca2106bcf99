"""Delegating addresses to the IPAM plugin the config names, as every CNI plugin does.

The IPAM plugin is an executable called ``ipam.type`` found on ``CNI_PATH``, run with
the same environment and network config; it answers a result (ADD) or nothing (DEL,
CHECK), or a CNI error that is passed on with its own code.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from vfnet.cni.protocol import CniError, Code, Result

__all__ = ["delegate"]

TIMEOUT = 60.0  # seconds: an IPAM plugin that hangs must not hang the runtime


def delegate(
    ipam_type: str, command: str, config: bytes, environ: Mapping[str, str], path: tuple[str, ...]
) -> Result | None:
    """Runs IPAM plugin ``ipam_type`` for ``command``; its result for ADD, else None."""
    plugin = _find(ipam_type, path)
    env = {**environ, "CNI_COMMAND": command}
    try:
        done = subprocess.run(
            [str(plugin)], input=config, env=env, capture_output=True, timeout=TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise CniError(Code.IPAM_FAILED, f"ipam {ipam_type}: {error}") from None
    if done.returncode != 0:
        raise _plugin_error(ipam_type, done.stdout, done.stderr)
    if command != "ADD":
        return None
    try:
        document = json.loads(done.stdout)
    except ValueError:
        raise CniError(
            Code.IPAM_FAILED,
            f"ipam {ipam_type}: answered no JSON",
            done.stdout.decode(errors="replace"),
        ) from None
    return Result.parse(document, f"ipam {ipam_type}")


def _find(ipam_type: str, path: tuple[str, ...]) -> Path:
    if "/" in ipam_type or not ipam_type:
        raise CniError(Code.INVALID_CONFIG, f"ipam.type: {ipam_type!r} is not a plugin name")
    for folder in path:
        candidate = Path(folder) / ipam_type
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise CniError(
        Code.INVALID_CONFIG, f"ipam.type: no plugin {ipam_type!r} on CNI_PATH {':'.join(path)!r}"
    )


def _plugin_error(ipam_type: str, stdout: bytes, stderr: bytes) -> CniError:
    try:
        error = json.loads(stdout)
        return CniError(
            int(error["code"]), f"ipam {ipam_type}: {error['msg']}", str(error.get("details", ""))
        )
    except (ValueError, KeyError, TypeError):
        text = (stderr or stdout).decode(errors="replace").strip()
        return CniError(Code.IPAM_FAILED, f"ipam {ipam_type} failed", text)

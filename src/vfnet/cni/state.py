"""What the plugin keeps between ADD and DEL on disk, as sriov-cni keeps it.

``<dir>/<containerID>-<ifname>.json``: the attachment (the VF, where it went, the VF's
settings before ADD, which attributes ADD set, the result); kept until a DEL has given
everything back, so a failed DEL can be retried. ``<dir>/pci/<address>``: the sandbox
namespace holding the VF, the allocation marker that stops a second ADD from taking a
VF a live sandbox holds. ``<dir>/pci/vf_lock/<address>.lock``: serialises calls on one VF.
For vfnet ports: ``<dir>/port/lock/<port id>.lock`` serialises calls on one port, and
``<dir>/port/unbind/<port id>.json`` is an unbind a DEL could not make on the server
(unreachable, the token refused), retried by the next call that reaches it.
Directories are 0700 and files 0600: they name sandboxes.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vfnet.cni.protocol import CniError, Code

LOCK_TIMEOUT = 60.0  # seconds, as sriov-cni waits
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,254}")

__all__ = ["StateDir"]


class StateDir:
    """The plugin's state directory (``stateDir`` in the config)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _dir(self, path: Path) -> Path:
        try:
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as error:
            raise CniError(Code.IO_FAILURE, f"stateDir: cannot make {path}: {error}") from None
        return path

    def _attachment(self, container_id: str, ifname: str) -> Path:
        return self.root / f"{container_id}-{ifname}.json"

    def load(self, container_id: str, ifname: str) -> dict[str, Any] | None:
        path = self._attachment(container_id, ifname)
        try:
            loaded: dict[str, Any] = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            raise CniError(Code.IO_FAILURE, f"{path}: unreadable state: {error}") from None
        return loaded

    def save(self, container_id: str, ifname: str, record: dict[str, Any]) -> None:
        self._dir(self.root)
        _write(self._attachment(container_id, ifname), json.dumps(record, indent=1))

    def forget(self, container_id: str, ifname: str) -> None:
        self._attachment(container_id, ifname).unlink(missing_ok=True)

    def holder(self, device_id: str) -> str | None:
        """The namespace path the allocation marker names, or None."""
        try:
            return (self.root / "pci" / device_id).read_text().strip() or None
        except FileNotFoundError:
            return None

    def mark(self, device_id: str, netns: str) -> None:
        _write(self._dir(self.root / "pci") / device_id, netns)

    def unmark(self, device_id: str) -> None:
        (self.root / "pci" / device_id).unlink(missing_ok=True)

    def locked(
        self, device_id: str, timeout: float = LOCK_TIMEOUT
    ) -> contextlib.AbstractContextManager[None]:
        """Holds the VF's lock (flock) for the duration; code 11 after ``timeout``."""
        path = self._dir(self.root / "pci" / "vf_lock") / f"{device_id}.lock"
        return _locked(path, f"VF {device_id}", timeout)

    def port_locked(
        self, port_id: str, timeout: float = LOCK_TIMEOUT
    ) -> contextlib.AbstractContextManager[None]:
        """Holds the port's lock for the duration; code 11 after ``timeout``."""
        path = self._dir(self.root / "port" / "lock") / f"{_file_name(port_id)}.lock"
        return _locked(path, f"port {port_id}", timeout)

    def defer_unbind(self, port_id: str, entry: dict[str, Any]) -> None:
        """Keeps an unbind for the next call that reaches the server."""
        path = self._dir(self.root / "port" / "unbind") / f"{_file_name(port_id)}.json"
        _write(path, json.dumps(entry))

    def deferred_unbinds(self) -> dict[str, dict[str, Any]]:
        """The unbinds kept, by port id (an unreadable one is skipped: it is rewritten
        whole or not at all, so only a stranger's file reads so)."""
        found = {}
        for path in sorted((self.root / "port" / "unbind").glob("*.json")):
            try:
                found[path.stem] = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
        return found

    def drop_unbind(self, port_id: str) -> None:
        (self.root / "port" / "unbind" / f"{_file_name(port_id)}.json").unlink(missing_ok=True)


def _file_name(port_id: str) -> str:
    if not _SAFE_NAME.fullmatch(port_id):
        raise CniError(Code.DECODING_FAILURE, f"port: id {port_id!r} cannot name a state file")
    return port_id


@contextlib.contextmanager
def _locked(path: Path, what: str, timeout: float) -> Iterator[None]:
    """Holds ``path``'s flock for the duration; code 11 naming ``what`` after ``timeout``."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise CniError(
                        Code.TRY_AGAIN_LATER, f"{what} is busy: its lock is held"
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)


def _write(path: Path, text: str) -> None:
    """Written whole or not at all: a crash leaves the old file or the new one."""
    partial = path.with_name(path.name + ".tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(text)
    os.replace(partial, path)

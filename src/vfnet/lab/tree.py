"""Writing a sysfs-shaped tree: files, empty or sized files, empty dirs and relative links."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Link:
    """A symlink to ``target`` (a path below the sysfs root), written relative like sysfs."""

    target: str


@dataclass(frozen=True, slots=True)
class Sized:
    """A file with no readable content: ``size`` bytes of hole (BARs) and a mode."""

    size: int = 0
    mode: int = 0o644


class EmptyDir:
    """Marker for a directory with nothing in it (``msi_irqs/``, ``queues/rx-0``)."""


DIR = EmptyDir()
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
WRITE_ONLY = Sized(0, 0o200)

Entry = bytes | Link | Sized | EmptyDir


def kernfs_target(link_dir: str, target: str) -> str:
    """The relative target sysfs writes: climb from the link's directory until reaching an
    ancestor of the target's parent, then descend (``net/eth0/device`` is
    ``../../../0000:01:00.0``, not ``../..``). Both paths are relative to the sysfs root."""
    target_parent = target.rpartition("/")[0]
    base, up = link_dir, 0
    while base and not (target_parent == base or target_parent.startswith(base + "/")):
        base = base.rpartition("/")[0]
        up += 1
    return "../" * up + (target[len(base) + 1 :] if base else target)


class Tree:
    """The sysfs root being written; every path given to it is relative to the root."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._base = str(self.root)

    def abspath(self, rel: str) -> str:
        return f"{self._base}/{rel}"

    def write(self, where: str, entries: Mapping[str, Entry]) -> None:
        """Create the directory ``where`` and, inside it, every entry (names may nest).

        Entries are created relative to an open directory so the kernel walks the long
        device path once, not once per file.
        """
        base = self.abspath(where)
        os.makedirs(base, exist_ok=True)
        dir_fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY)
        try:
            made = {""}
            for name, entry in entries.items():
                parent = name.rpartition("/")[0]
                if parent not in made:
                    os.makedirs(f"{base}/{parent}", exist_ok=True)
                    made.add(parent)
                self._write_one(dir_fd, base, name, entry)
        finally:
            os.close(dir_fd)

    def _write_one(self, dir_fd: int, base: str, name: str, entry: Entry) -> None:
        if isinstance(entry, bytes):
            fd = os.open(name, _CREATE, 0o644, dir_fd=dir_fd)
            try:
                os.write(fd, entry)
            finally:
                os.close(fd)
        elif isinstance(entry, Link):
            here = f"{base}/{name}".rpartition("/")[0][len(self._base) + 1 :]
            os.symlink(kernfs_target(here, entry.target), name, dir_fd=dir_fd)
        elif isinstance(entry, Sized):
            fd = os.open(name, _CREATE, entry.mode, dir_fd=dir_fd)
            try:
                if entry.size:
                    os.ftruncate(fd, entry.size)
            finally:
                os.close(fd)
        else:
            os.makedirs(f"{base}/{name}", exist_ok=True)

    def link(self, rel: str, target: str) -> None:
        where, _, name = rel.rpartition("/")
        self.write(where, {name: Link(target)})

    def put(self, rel: str, data: bytes) -> None:
        with open(self.abspath(rel), "wb") as f:
            f.write(data)

    def read(self, rel: str) -> bytes:
        with open(self.abspath(rel), "rb") as f:
            return f.read()

    def exists(self, rel: str) -> bool:
        return os.path.lexists(self.abspath(rel))

    def names(self, rel: str) -> list[str]:
        try:
            return os.listdir(self.abspath(rel))
        except FileNotFoundError:
            return []

    def remove(self, rel: str) -> None:
        """Remove a link, file or whole directory; gone already is fine."""
        path = self.abspath(rel)
        if os.path.islink(path) or os.path.isfile(path):
            os.unlink(path)
        elif os.path.isdir(path):
            shutil.rmtree(path)

"""Small sysfs attribute files and links, read relative to an open directory.

Opening each device directory once and reading its files with ``dir_fd`` spares the
kernel a walk through ``bus/pci/devices/<bdf>`` and its ``../../../devices/...`` link for
every file, which is most of the cost of discovering a few thousand functions.
"""

from __future__ import annotations

import errno
import os
from types import TracebackType

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_CLOEXEC
# sysfs attributes are at most one page; the ones we read are a few bytes.
_PAGE = 4096


class AttrDir:
    """An open sysfs directory; every method raises OSError as the kernel reports it."""

    __slots__ = ("fd", "path")
    fd: int
    path: str

    def __init__(self, path: str, parent: AttrDir | None = None) -> None:
        self.path = path if parent is None else f"{parent.path}/{path}"
        self.fd = os.open(path, _DIR_FLAGS, dir_fd=None if parent is None else parent.fd)

    def __enter__(self) -> AttrDir:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        os.close(self.fd)

    def sub(self, name: str) -> AttrDir:
        return AttrDir(name, self)

    def text(self, name: str) -> str:
        """The file's content without the kernel's trailing newline."""
        fd = os.open(name, _FILE_FLAGS, dir_fd=self.fd)
        try:
            return os.read(fd, _PAGE).decode("ascii", "replace").strip()
        finally:
            os.close(fd)

    def link(self, name: str) -> str:
        """Where a symlink points (EINVAL when ``name`` is not a symlink)."""
        return os.readlink(name, dir_fd=self.fd)

    def link_name(self, name: str) -> str | None:
        """The last component of a symlink's target; None when there is no such link."""
        try:
            return os.path.basename(os.readlink(name, dir_fd=self.fd))
        except FileNotFoundError:
            return None

    def names(self, name: str | None = None) -> list[str]:
        """Entries of this directory (or of a subdirectory); [] when it does not exist."""
        try:
            if name is None:
                return os.listdir(self.fd)
            with AttrDir(name, self) as sub:
                return os.listdir(sub.fd)
        except (FileNotFoundError, NotADirectoryError):
            return []


def describe(error: OSError) -> str:
    """How an unreadable attribute is reported: ``missing`` or ``unreadable (<strerror>)``."""
    if error.errno == errno.ENOENT:
        return "missing"
    return f"unreadable ({error.strerror or errno.errorcode.get(error.errno or 0, '?')})"

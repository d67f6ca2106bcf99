"""Writing ``sriov_numvfs``: the kernel's VF count, with its refusals turned into domain errors."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Protocol

from vfnet.errors import SriovNumVfsError, SysfsError
from vfnet.pci.address import PciAddress

# What each refusal means for an operator (sriov_numvfs_store in drivers/pci/iov.c).
_HINTS = {
    errno.EBUSY: "VFs are already enabled: write 0 first, then the new count",
    errno.ERANGE: "more VFs than sriov_totalvfs allows",
    errno.EINVAL: "not a VF count the kernel accepts (0..65535)",
    errno.ENOENT: "no driver bound to the PF, or its driver cannot create VFs",
    errno.EPERM: "the PF driver refused, usually because VFs are assigned to guests",
    errno.EACCES: "permission denied: writing sriov_numvfs needs root",
}


class NumVfsWriter(Protocol):
    """Sets and reads how many VFs a PF has enabled."""

    def set_num_vfs(self, pf: PciAddress, count: int) -> None: ...

    def read_num_vfs(self, pf: PciAddress) -> int: ...


class KernelNumVfs:
    """``sriov_numvfs`` under a sysfs root, written as the kernel expects (one decimal)."""

    def __init__(self, root: Path = Path("/sys")) -> None:
        self.root = root

    def _path(self, pf: PciAddress, name: str) -> str:
        return f"{self.root}/bus/pci/devices/{pf}/{name}"

    def set_num_vfs(self, pf: PciAddress, count: int) -> None:
        if not 0 <= count <= 0xFFFF:
            raise numvfs_error(pf, count, errno.EINVAL)
        try:
            fd = os.open(self._path(pf, "sriov_numvfs"), os.O_WRONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise SriovNumVfsError(
                str(pf), count, "ENOENT", "no sriov_numvfs: not an SR-IOV PF on this host"
            ) from None
        except OSError as error:
            raise numvfs_error(pf, count, error.errno) from error
        try:
            os.write(fd, f"{count}\n".encode())
        except OSError as error:
            raise numvfs_error(pf, count, error.errno, self._total_vfs(pf)) from error
        finally:
            os.close(fd)

    def read_num_vfs(self, pf: PciAddress) -> int:
        path = self._path(pf, "sriov_numvfs")
        try:
            with open(path, encoding="ascii") as file:
                return int(file.read())
        except (OSError, ValueError) as error:
            raise SysfsError(f"{path}: cannot read the VF count: {error}") from error

    def _total_vfs(self, pf: PciAddress) -> int | None:
        try:
            with open(self._path(pf, "sriov_totalvfs"), encoding="ascii") as file:
                return int(file.read())
        except (OSError, ValueError):
            return None


def numvfs_error(
    pf: PciAddress, count: int, code: int | None, total_vfs: int | None = None
) -> SriovNumVfsError:
    """The domain error for a refused write, named by errno and with a hint to act on."""
    name = errno.errorcode.get(code or 0, str(code))
    hint = _HINTS.get(code or 0) or os.strerror(code or 0)
    if code == errno.ERANGE and total_vfs is not None:
        hint = f"{hint} ({total_vfs})"
    return SriovNumVfsError(str(pf), count, name, hint)

"""Writes to ``sriov_numvfs`` on a generated host, answered as the kernel answers them.

The checks follow ``sriov_numvfs_store`` in order: not a u16 is EINVAL, more than
``sriov_totalvfs`` is ERANGE, the current value is a no-op, an unbound PF is ENOENT, 0
disables, and N while VFs exist is EBUSY (write 0 first). VFs are created and removed
with the same code that generated the host, so both trees are the same.
"""

from __future__ import annotations

from pathlib import Path

from vfnet.errors import NotFound, SriovNumVfsError
from vfnet.lab import config_space
from vfnet.lab.functions import HostWriter
from vfnet.lab.layout import PfPlace, plan_host
from vfnet.lab.sysfs import read_marker
from vfnet.lab.tree import Tree
from vfnet.pci.address import PciAddress

U16_MAX = 0xFFFF


class EmulatedNumVfs:
    """The ``sriov_numvfs`` attribute of every PF of one generated host under ``root``."""

    def __init__(self, root: Path) -> None:
        self.tree = Tree(Path(root))
        self.layout = plan_host(read_marker(Path(root)))

    def read_num_vfs(self, pf: PciAddress) -> int:
        return int(self.tree.read(f"{self._pf(pf).path}/sriov_numvfs"))

    def write(self, pf: PciAddress, text: str) -> None:
        """A raw write, parsed as ``kstrtou16(buf, 0)``: ``0x10`` and ``020`` are 16."""
        self.set_num_vfs(pf, parse_u16(str(pf), text))

    def set_num_vfs(self, pf: PciAddress, count: int) -> None:
        place = self._pf(pf)
        if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= U16_MAX:
            raise SriovNumVfsError(str(pf), _as_int(count), "EINVAL", "not a u16")
        if count > place.total_vfs:
            raise SriovNumVfsError(
                str(pf), count, "ERANGE", f"more than sriov_totalvfs ({place.total_vfs})"
            )
        current = self.read_num_vfs(pf)
        if count == current:
            return
        if not self.tree.exists(f"{place.path}/driver"):
            raise SriovNumVfsError(
                str(pf), count, "ENOENT", "no driver bound to device; cannot configure SR-IOV"
            )
        if count and current:
            raise SriovNumVfsError(
                str(pf), count, "EBUSY", f"{current} VFs already enabled; write 0 first"
            )
        writer = HostWriter(self.tree, self.layout)
        if count == 0:
            for n in reversed(range(current)):
                writer.remove_vf(place, n)
        else:
            for n in range(count):
                writer.write_vf(place, n)
        self._record(place, count)

    def _record(self, place: PfPlace, count: int) -> None:
        """``sriov_numvfs`` and the capability's NumVFs and VF Enable follow the change."""
        self.tree.put(f"{place.path}/sriov_numvfs", f"{count}\n".encode())
        space = bytearray(self.tree.read(f"{place.path}/config"))
        config_space.set_num_vfs(space, count)
        self.tree.put(f"{place.path}/config", bytes(space))

    def _pf(self, pf: PciAddress) -> PfPlace:
        place = self.layout.pf(pf)
        if place is None:
            raise NotFound("pf", str(pf))
        return place


def parse_u16(pf: str, text: str) -> int:
    """``kstrtou16`` with base 0: decimal, ``0x`` hex or leading-zero octal; else EINVAL."""
    word = text.strip()
    try:
        if len(word) > 1 and word[0] == "0" and word[1] not in "xX":
            value = int(word, 8)
        else:
            value = int(word, 0) if word[:1] != "+" else int(word[1:], 0)
    except ValueError:
        raise SriovNumVfsError(pf, -1, "EINVAL", f"{text!r} is not a number") from None
    if not 0 <= value <= U16_MAX or word.startswith("-"):
        raise SriovNumVfsError(pf, value, "EINVAL", f"{text!r} is not a u16")
    return value


def _as_int(value: object) -> int:
    return value if isinstance(value, int) else -1

"""The binary ``config`` file: 4096 bytes of PCIe configuration space, as lspci decodes it.

The templates are the configuration spaces of a QEMU 82576 PF, one of its VFs and a QEMU
PCIe root port, captured from a 6.1 kernel; ids, bus numbers, link and SR-IOV fields are
patched per device. Every NIC model shares the 82576's capability list (power management,
MSI, MSI-X, PCIe, AER, ARI, SR-IOV at 0x160), which is the shape of every SR-IOV NIC.
"""

from __future__ import annotations

import struct

CONFIG_SIZE = 4096
SRIOV_CAP = 0x160
PCIE_CAP = 0xA0

# (offset, bytes as hex) runs of the captured spaces; everything else is zero.
_IGB_PF = (
    (0, "8680c9100705100001000002"),
    (18, "20fe000022fe01d00000040024fe"),
    (44, "f41a0011"),
    (52, "40"),
    (60, "0b010000015022"),
    (80, "05708001"),
    (112, "11a00980030000000320"),
    (160, "1000020020800010"),
    (172, "1104"),
    (178, "11"),
    (198, "30"),
    (256, "01000115"),
    (266, "4002302046"),
    (277, "e00000a0"),
    (336, "0e000116"),
    (352, "100001"),
    (360, "190000000800080004000000800002000000ca1053050000010000000c0080fe"),
    (400, "0c0082fe"),
)
_IGB_VF = (
    (0, "ffffffff0604100001000002"),
    (44, "f41a0011"),
    (52, "a0"),
    (112, "11000280030000000320"),
    (160, "1070020020800010"),
    (172, "1104"),
    (178, "11"),
    (198, "30"),
    (256, "01000115"),
    (266, "4002302046"),
    (277, "e00000a0"),
    (336, "0e0001"),
)
_ROOT_PORT = (
    (0, "361b0c00070510000000040600000100001040fe"),
    (25, "010100d0d0000020fe30fe81fe91fe"),
    (52, "54"),
    (60, "0b0102000d000000361b000011400080"),
    (81, "08000010484201208000000f00000004063000000011007b000a00c003"),
    (120, "20003000200000001e00000004"),
    (256, "01008214"),
    (266, "4002302046"),
    (277, "e00000a002"),
    (300, "07"),
    (328, "0d0001005f"),
)

_LINK_SPEED_CODES = {
    "2.5 GT/s PCIe": 1,
    "5.0 GT/s PCIe": 2,
    "8.0 GT/s PCIe": 3,
    "16.0 GT/s PCIe": 4,
}


def _template(runs: tuple[tuple[int, str], ...]) -> bytearray:
    space = bytearray(CONFIG_SIZE)
    for offset, hexbytes in runs:
        data = bytes.fromhex(hexbytes)
        space[offset : offset + len(data)] = data
    return space


def _put_ids(
    space: bytearray, ids: tuple[str, str, str, str], class_code: str, rev: str, subsys: int = 0x2C
) -> None:
    """Ids, revision and class; ``subsys`` is 0x2c in a type 0 header, the SSID
    capability's 0x44 in a bridge (whose 0x28..0x2f hold the prefetch window)."""
    vendor, device, sub_vendor, sub_device = (int(i, 16) for i in ids)
    struct.pack_into("<HH", space, 0, vendor, device)
    space[8] = int(rev, 16)
    space[9:12] = bytes.fromhex(class_code)[::-1]
    struct.pack_into("<HH", space, subsys, sub_vendor, sub_device)


def _put_link(space: bytearray, speed: str, width: int) -> None:
    code = _LINK_SPEED_CODES.get(speed, 1)
    cap = struct.unpack_from("<I", space, PCIE_CAP + 0x0C)[0] & ~0x3FF
    struct.pack_into("<I", space, PCIE_CAP + 0x0C, cap | width << 4 | code)
    struct.pack_into("<H", space, PCIE_CAP + 0x12, width << 4 | code)


def pf_config(
    ids: tuple[str, str, str, str],
    class_code: str,
    revision: str,
    link: tuple[str, int],
    sriov: tuple[int, int, int, int, str],
    bars: tuple[tuple[int, int, int, int], tuple[int, int]],
) -> bytes:
    """A PF's space; ``sriov`` is (TotalVFs, NumVFs, offset, stride, VF device id)."""
    space = _template(_IGB_PF)
    put_pf_bars(space, *bars)
    _put_ids(space, ids, class_code, revision)
    _put_link(space, *link)
    set_num_vfs(space, sriov[1])
    total, _, offset, stride, vf_device = sriov
    struct.pack_into("<HH", space, SRIOV_CAP + 0x0C, total, total)
    struct.pack_into("<HH", space, SRIOV_CAP + 0x14, offset, stride)
    struct.pack_into("<H", space, SRIOV_CAP + 0x1A, int(vf_device, 16))
    return bytes(space)


def set_num_vfs(space: bytearray, num_vfs: int) -> None:
    """NumVFs, and VF Enable + VF MSE in the control word while any VF exists."""
    control = 0x10 | (0x09 if num_vfs else 0)  # ARI capable hierarchy is always set
    struct.pack_into("<H", space, SRIOV_CAP + 0x08, control)
    struct.pack_into("<H", space, SRIOV_CAP + 0x10, num_vfs)


def vf_config(
    sub_ids: tuple[str, str], class_code: str, revision: str, link: tuple[str, int]
) -> bytes:
    """A VF's space: its vendor and device id registers read all ones, as on hardware."""
    space = _template(_IGB_VF)
    _put_ids(space, ("ffff", "ffff", *sub_ids), class_code, revision)
    _put_link(space, *link)
    return bytes(space)


def bridge_config(
    ids: tuple[str, str, str, str],
    class_code: str,
    buses: tuple[int, int, int],
    windows: tuple[int, int, int, int, int] | None = None,
) -> bytes:
    """A root port (or host bridge) space with its primary/secondary/subordinate buses."""
    space = _template(_ROOT_PORT)
    if class_code.startswith("0604"):
        _put_ids(space, ids, class_code, "00", subsys=0x44)
        space[0x18:0x1B] = bytes(buses)
        if windows:
            _put_windows(space, *windows)
    else:  # a host bridge: type 0 header, no bridge windows
        space[0x0E] = 0
        space[0x10:0x30] = bytes(0x20)
        _put_ids(space, ids, class_code, "00")
    return bytes(space)


def _put_windows(space: bytearray, bar: int, io: int, mem: int, pref: int, pref_size: int) -> None:
    """The root port's BAR0 and the I/O, memory and prefetchable windows it forwards."""
    struct.pack_into("<I", space, 0x10, bar)
    io_end, mem_end, pref_end = io + 0xFFF, mem + 0x1FFFFF, pref + pref_size - 1
    space[0x1C], space[0x1D] = (io >> 8) & 0xF0 | 1, (io_end >> 8) & 0xF0 | 1
    struct.pack_into("<HH", space, 0x20, (mem >> 16) & 0xFFF0, (mem_end >> 16) & 0xFFF0)
    struct.pack_into("<HH", space, 0x24, (pref >> 16) & 0xFFF0 | 1, (pref_end >> 16) & 0xFFF0 | 1)


def put_pf_bars(space: bytearray, bars: tuple[int, int, int, int], iov: tuple[int, int]) -> None:
    """BAR0..3 (32-bit, 32-bit, I/O, 64-bit) and the SR-IOV capability's VF BAR0 and BAR3."""
    struct.pack_into("<III", space, 0x10, bars[0], bars[1], bars[2] | 1)
    struct.pack_into("<II", space, 0x1C, bars[3] & 0xFFFFFFFF | 4, bars[3] >> 32)
    struct.pack_into("<II", space, SRIOV_CAP + 0x24, iov[0] & 0xFFFFFFFF | 0xC, iov[0] >> 32)
    struct.pack_into("<II", space, SRIOV_CAP + 0x30, iov[1] & 0xFFFFFFFF | 0xC, iov[1] >> 32)

"""Address space of emulated functions: BARs, VF BARs and root port windows, per card."""

from __future__ import annotations

from vfnet.lab.layout import VF_BAR, BridgePlace, PfPlace, Windows
from vfnet.lab.sysfs_files import resource_table
from vfnet.lab.tree import Entry, Sized

MEM32 = 0x40200  # IORESOURCE_MEM | SIZEALIGN, as ``resource`` prints it
MEM64 = 0x140204
IO = 0x40101
PREF64 = 0x14220C  # prefetchable 64-bit, the VF BARs
WINDOW_IO, WINDOW_MEM, WINDOW_PREF = 0x100, 0x200, 0x102201
PF_SLOT = 0x80000  # each port's BARs within the card's memory window
Bar = tuple[int, int, int]  # start, size, flags


def _windows(place: PfPlace | BridgePlace) -> Windows:
    return place.windows or Windows.for_card(0, 0)


def pf_bars(pf: PfPlace, cap_total: int) -> dict[int, Bar]:
    """BAR0..3 of a PF and its IOV BARs (resource7 and resource10), sized for TotalVFs."""
    win = _windows(pf)
    base = win.mem + pf.port * PF_SLOT
    iov = cap_total * VF_BAR
    iov0 = win.pref + pf.port * 2 * iov
    return {
        0: (base, 0x20000, MEM32),
        1: (base + 0x20000, 0x20000, MEM32),
        2: (win.io + pf.port * 0x20, 0x20, IO),
        3: (base + 0x40000, 0x4000, MEM64),
        7: (iov0, iov, PREF64),
        10: (iov0 + iov, iov, PREF64),
    }


def pf_config_bars(bars: dict[int, Bar]) -> tuple[tuple[int, int, int, int], tuple[int, int]]:
    return (bars[0][0], bars[1][0], bars[2][0], bars[3][0]), (bars[7][0], bars[10][0])


def pf_resource_files(bars: dict[int, Bar]) -> dict[str, Entry]:
    return {
        "resource": resource_table(bars),
        **{f"resource{i}": Sized(bars[i][1], 0o600) for i in range(4)},
    }


def vf_resource_files(pf_bars: dict[int, Bar], n: int) -> dict[str, Entry]:
    """VF n's BAR0 and BAR3 are the n-th 16K slices of the PF's IOV BARs."""
    bars = {0: (pf_bars[7][0] + n * VF_BAR, VF_BAR, PREF64)}
    bars[3] = (pf_bars[10][0] + n * VF_BAR, VF_BAR, PREF64)
    sized = Sized(VF_BAR, 0o600)
    return {
        "resource": resource_table(bars),
        "resource0": sized,
        "resource0_wc": sized,
        "resource3": sized,
        "resource3_wc": sized,
    }


def bridge_resource(bridge: BridgePlace) -> bytes:
    """A bridge's 17-line ``resource``: BAR0, then its I/O, memory and prefetch windows."""
    win = _windows(bridge)
    bars: dict[int, Bar] = {0: (win.bar, 0x1000, MEM32)}
    if bridge.class_code.startswith("0604"):
        bars[13] = (win.io, Windows.IO_SIZE, WINDOW_IO)
        bars[14] = (win.mem, Windows.MEM_SIZE, WINDOW_MEM)
        bars[15] = (win.pref, win.pref_size, WINDOW_PREF)
    return resource_table(bars, 17)


def bridge_windows(bridge: BridgePlace) -> tuple[int, int, int, int, int]:
    win = _windows(bridge)
    return win.bar, win.io, win.mem, win.pref, win.pref_size

"""VF creation: the config's ``num_vfs`` per PF, written the kernel's way, never under a busy VF.

plan (pure): skip a PF already right; 0 -> N is one write; any other change is two
(0, then N) because the kernel refuses N while VFs exist (EBUSY), and so it removes
every VF of the PF for a moment: a PF with a VF in use is left as it is, with the
reason. apply: each PF's plan through a NumVfsWriter, then a bounded wait for the new
VFs' netdevs; every refusal becomes an error naming the PF, and the other PFs go on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from vfnet.agent.health import is_vfio
from vfnet.discovery.probe import VfLink, vf_links
from vfnet.discovery.writer import KernelNumVfs, NumVfsWriter
from vfnet.errors import VfnetError
from vfnet.pci.address import PciAddress
from vfnet.pci.devices import HostDevices, PciDevice

log = logging.getLogger(__name__)

# The file every generated host carries at its root (vfnet.lab.sysfs.MARKER).
GENERATED_MARKER = ".vfnet-host.json"


@dataclass(frozen=True, slots=True)
class NumVfsPlan:
    """What to write to one PF's ``sriov_numvfs``: ``writes`` in order, or why not."""

    writes: tuple[int, ...] = ()
    refusal: str | None = None


def plan_num_vfs(current: int, wanted: int, total: int, busy: frozenset[int] | None) -> NumVfsPlan:
    """The writes that take a PF from ``current`` VFs to ``wanted``.

    ``busy`` are the indexes of the PF's VFs in use (``None``: not known, so any VF may
    be); ``total`` is ``sriov_totalvfs``.
    """
    if wanted == current:
        return NumVfsPlan()
    if wanted > total:
        return NumVfsPlan(refusal=f"{wanted} VFs is more than sriov_totalvfs ({total})")
    if current == 0:
        return NumVfsPlan(writes=(wanted,))
    if busy is None:
        return NumVfsPlan(
            refusal=f"which of its {current} VFs are in use is unknown, so they are kept"
        )
    if busy:
        return NumVfsPlan(refusal=_busy_refusal(wanted, busy))
    return NumVfsPlan(writes=(0, wanted) if wanted else (0,))


def _busy_refusal(wanted: int, busy: frozenset[int]) -> str:
    highest = max(busy)
    if wanted <= highest:
        return f"VF {highest} is in use: {wanted} VFs would remove it"
    listed = ", ".join(str(index) for index in sorted(busy))
    return f"VF {listed} in use: changing the count removes every VF first (0, then {wanted})"


@dataclass(frozen=True, slots=True)
class NumVfsResult:
    """One config entry's outcome: ``written`` when the count changed, else ``error`` or skip."""

    pf: str  # as the config names it
    written: bool = False
    error: str | None = None


WaitForVfs = Callable[[PciAddress, int], str | None]


def apply_num_vfs(
    num_vfs: Mapping[str, int],
    host: HostDevices,
    writer: NumVfsWriter,
    in_use: frozenset[PciAddress] | None,
    wait: WaitForVfs,
) -> list[NumVfsResult]:
    """Bring every configured PF to its count; one PF's failure leaves the others served."""
    results = []
    for key, wanted in num_vfs.items():
        pf = find_pf(key, host)
        if pf is None or pf.sriov is None:
            what = "does not exist on this host" if pf is None else "is not an SR-IOV PF"
            results.append(NumVfsResult(key, error=f"num_vfs {key}: PF {what}"))
            continue
        plan = _plan(pf, wanted, host, in_use)
        if plan.refusal is not None:
            results.append(NumVfsResult(key, error=f"num_vfs {key}: {plan.refusal}"))
        elif plan.writes:
            results.append(_write(key, pf.address, plan.writes, writer, wait))
        else:
            results.append(NumVfsResult(key))
    return results


def find_pf(key: str, host: HostDevices) -> PciDevice | None:
    """A PF as the config names it: its netdev, or its PCI address in kernel form."""
    if ":" in key:
        return host.get(PciAddress.parse(key))
    return next((pf for pf in host.pfs() if pf.ifname == key), None)


def _plan(
    pf: PciDevice, wanted: int, host: HostDevices, in_use: frozenset[PciAddress] | None
) -> NumVfsPlan:
    assert pf.sriov is not None
    current = pf.sriov.num_vfs
    if in_use is not None and pf.address in in_use and wanted != current:
        return NumVfsPlan(refusal="the PF itself is in use (direct-physical)")
    busy = None
    if in_use is not None:
        vfs = host.vfs_of(pf.address)
        busy = frozenset(v.vf_index for v in vfs if v.address in in_use and v.vf_index is not None)
    return plan_num_vfs(current, wanted, pf.sriov.total_vfs, busy)


def _write(
    key: str, pf: PciAddress, writes: tuple[int, ...], writer: NumVfsWriter, wait: WaitForVfs
) -> NumVfsResult:
    try:
        for count in writes:
            log.info("num_vfs %s: writing sriov_numvfs=%d on %s", key, count, pf)
            writer.set_num_vfs(pf, count)
    except VfnetError as error:  # SriovNumVfsError already names the PF, errno and hint
        return NumVfsResult(key, written=count != writes[0], error=f"num_vfs {key}: {error}")
    late = wait(pf, writes[-1])
    return NumVfsResult(key, written=True, error=None if late is None else f"num_vfs {key}: {late}")


def numvfs_writer(root: Path) -> NumVfsWriter:
    """The kernel's ``sriov_numvfs`` on a real root; the emulated one on a generated host."""
    if (root / GENERATED_MARKER).exists():
        from vfnet.lab.numvfs import EmulatedNumVfs

        return EmulatedNumVfs(root)
    return KernelNumVfs(root)


class VfNetdevWait:
    """Polls until a PF's VFs are all there, each with a netdev unless bound to VFIO or unbound.

    The kernel adds VFs one by one and their drivers probe them after the write
    returns, so the netdevs show up a little later; a VF left without a driver (drivers
    autoprobe off) never gets one and is not waited for.
    """

    def __init__(
        self,
        root: Path,
        *,
        timeout: float = 10.0,
        poll: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.root, self.timeout, self.poll = root, timeout, poll
        self.clock, self.sleep = clock, sleep

    def __call__(self, pf: PciAddress, count: int) -> str | None:
        deadline = self.clock() + self.timeout
        while True:
            links = vf_links(self.root, str(pf))
            waiting = [link.index for link in links if _expects_netdev(link) and not link.netdevs]
            if len(links) == count and not waiting:
                return None
            if self.clock() >= deadline:
                return _late(pf, count, len(links), waiting, self.timeout)
            self.sleep(self.poll)


def _expects_netdev(link: VfLink) -> bool:
    return link.driver is not None and not is_vfio(link.driver)


def _late(pf: PciAddress, count: int, found: int, waiting: list[int], timeout: float) -> str:
    if found != count:
        return f"{pf}: {found} of {count} VFs appeared within {timeout:g}s"
    return f"{pf}: VF {', '.join(map(str, waiting))} got no netdev within {timeout:g}s"

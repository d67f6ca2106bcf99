"""A VF driver that keeps VF tables in a dictionary: for tests, and for hosts without root.

It behaves as a kernel does where the agent can tell: one attribute at a time in
APPLY_ORDER, refused attributes left as they were and the rest kept, ``DriverError``
for a PF or VF that is not there. Refusals can be injected per PF (an igb refuses link
state and min_tx_rate), and so can a crash after a given number of attribute writes,
to prove that an agent killed at any step converges when it starts again.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Mapping

from vfnet.agent.drivers.base import APPLY_ORDER, Refusal, VfAttr, VfSettings
from vfnet.errors import DriverError
from vfnet.network.vf_settings import RESET

__all__ = ["DriverCrash", "MemoryDriver"]

# The VfSettings fields each attribute writes.
_FIELDS: dict[VfAttr, tuple[str, ...]] = {
    VfAttr.MAC: ("mac",),
    VfAttr.VLAN: ("vlan", "qos", "vlan_proto"),
    VfAttr.RATE: ("min_tx_rate", "max_tx_rate"),
    VfAttr.SPOOFCHK: ("spoofchk",),
    VfAttr.LINK_STATE: ("link_state",),
    VfAttr.TRUST: ("trust",),
}


class DriverCrash(Exception):
    """The injected crash: the agent process dies here, halfway through a pass.

    Deliberately not a ``VfnetError``: nothing in the agent may catch it.
    """


class MemoryDriver:
    """VF tables (PF netdev -> VF index -> settings) held in memory.

    ``refusals`` maps a PF to the attributes it refuses and the reason it gives;
    ``crash_after`` lets that many attribute writes through and raises
    :class:`DriverCrash` on the next one. ``reads`` counts table reads per PF and
    ``writes`` attribute writes, so tests can check what a pass did.
    """

    name = "memory"

    def __init__(
        self,
        tables: Mapping[str, Mapping[int, VfSettings]] | None = None,
        *,
        refusals: Mapping[str, Mapping[VfAttr, str]] | None = None,
        crash_after: int | None = None,
    ) -> None:
        self.tables: dict[str, dict[int, VfSettings]] = {
            pf: dict(vfs) for pf, vfs in (tables or {}).items()
        }
        self.refusals = {pf: dict(attrs) for pf, attrs in (refusals or {}).items()}
        self.crash_after = crash_after
        self.reads: Counter[str] = Counter()
        self.writes = 0

    @classmethod
    def with_pfs(cls, pfs: Mapping[str, int], **options: object) -> MemoryDriver:
        """PFs (netdev -> number of VFs) whose VFs are all at RESET, as after creation."""
        tables = {pf: dict.fromkeys(range(count), RESET) for pf, count in pfs.items()}
        return cls(tables, **options)  # type: ignore[arg-type]

    def add_vfs(self, locations: Iterable[tuple[str, int]]) -> None:
        """Add VFs (PF netdev, VF index) at RESET, as creating them on a NIC does; VFs
        already held keep their settings. A host without root calls this after each
        discovery, so the tables follow the VFs sysfs shows."""
        for pf, vf in locations:
            self.tables.setdefault(pf, {}).setdefault(vf, RESET)

    def snapshot(self) -> dict[str, dict[int, VfSettings]]:
        """A copy of every table: what a fresh driver over the same NIC would find."""
        return {pf: dict(vfs) for pf, vfs in self.tables.items()}

    def read(self, pf: str) -> Mapping[int, VfSettings]:
        table = self.tables.get(pf)
        if table is None:
            raise DriverError(f"{pf}: no such PF (ENODEV: No such device)")
        self.reads[pf] += 1
        return dict(table)

    def apply(
        self, pf: str, vf: int, wanted: VfSettings, attrs: tuple[VfAttr, ...]
    ) -> tuple[Refusal, ...]:
        table = self.tables.get(pf)
        if table is None:
            raise DriverError(f"{pf}: no such PF (ENODEV: No such device)")
        if vf not in table:
            raise DriverError(f"{pf}: no VF {vf} (EINVAL: Invalid argument); it has {len(table)}")
        refused = self.refusals.get(pf, {})
        refusals = []
        for attr in APPLY_ORDER:
            if attr not in attrs:
                continue
            if attr in refused:
                refusals.append(Refusal(attr, refused[attr]))
                continue
            self._count_write()
            changes = {name: getattr(wanted, name) for name in _FIELDS[attr]}
            table[vf] = dataclasses.replace(table[vf], **changes)
        return tuple(refusals)

    def _count_write(self) -> None:
        if self.crash_after is not None and self.writes >= self.crash_after:
            raise DriverCrash(f"crashed before attribute write {self.writes + 1}")
        self.writes += 1

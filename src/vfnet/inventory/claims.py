"""One host's PCI inventory: tracked devices, their states and owners, pools, and claims.

Public API:
    HostInventory(selected=(), unhealthy=(), generation=0, statuses=None, vanished=())
        .claim(owner, requests, numa_cells=None, expected_generation=None, sockets=None,
               refused=NO_REFUSALS) -> Claim
        .allocate(owner) -> list[PciAddress]
        .release(owner) -> list[PciAddress]         idempotent
        .move(owner, new_owner) -> list[PciAddress]
        .apply_report(selected, unhealthy=()) -> ReportResult
        .free_count(request=None) -> int
        .generation, .device(address), .devices(), .pools(), .owners(), .devices_of(owner)
    Claim(owner, devices per request_id, generation)

Every change that succeeds bumps ``generation`` exactly once; a caller holding an
older generation gets StaleGeneration (optimistic concurrency, as a store expects).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from typing import NamedTuple

from vfnet.errors import InsufficientDevices, NotFound, StaleGeneration, ValidationError
from vfnet.inventory import states
from vfnet.inventory.layout import Layout
from vfnet.inventory.matching import NO_REFUSALS, Refused, refusing_pfs
from vfnet.inventory.pools import Pool
from vfnet.inventory.reports import ReportResult, Tracked, check_report, fold_report
from vfnet.inventory.requests import PciRequest
from vfnet.inventory.states import DeviceState, DeviceStatus
from vfnet.pci.address import PciAddress
from vfnet.pci.selection import SelectedDevice


class Claim(NamedTuple):
    """The devices taken for ``owner``, per request id, and the host generation after."""

    owner: str
    devices: Mapping[str, tuple[PciAddress, ...]]
    generation: int

    @property
    def addresses(self) -> tuple[PciAddress, ...]:
        return tuple(address for picked in self.devices.values() for address in picked)


class HostInventory:
    """A host's devices and claims; every operation is all-or-nothing."""

    def __init__(
        self,
        selected: Sequence[SelectedDevice] = (),
        unhealthy: Collection[PciAddress] = frozenset(),
        generation: int = 0,
        statuses: Mapping[PciAddress, DeviceStatus] | None = None,
        vanished: Collection[PciAddress] = frozenset(),
    ) -> None:
        """``statuses`` and ``vanished`` restore a host as it was saved."""
        check_report(selected)
        known = statuses or {}
        self.generation = generation
        self._layout = Layout(
            [
                Tracked(
                    item,
                    status=known.get(item.device.address, states.AVAILABLE),
                    healthy=item.device.address not in unhealthy,
                    vanished=item.device.address in vanished,
                )
                for item in selected
            ]
        )

    # Views

    def device(self, address: PciAddress) -> Tracked:
        layout = self._layout
        slot = layout.slots.get(address)
        if slot is None:
            raise NotFound("device", str(address))
        return layout.tracked(slot)

    def devices(self) -> list[Tracked]:
        return [self._layout.tracked(slot) for slot in range(len(self._layout.entries))]

    def pools(self) -> list[Pool]:
        """The pools with their free devices, in consumption order."""
        return self._layout.pools()

    def devices_of(self, owner: str) -> dict[str, tuple[PciAddress, ...]]:
        return self._layout.owned_addresses(owner)

    def owners(self) -> list[str]:
        return sorted(self._layout.owned)

    def free_count(self, request: PciRequest | None = None) -> int:
        """Schedulable devices, or those ``request`` could use (NUMA aside)."""
        layout = self._layout
        if request is None:
            return sum(layout.counts)
        return sum(layout.counts[i] for i in layout.matcher.candidates(request))

    # Operations

    def claim(
        self,
        owner: str,
        requests: Sequence[PciRequest],
        numa_cells: frozenset[int] | None = None,
        expected_generation: int | None = None,
        sockets: Mapping[int, int | None] | None = None,
        refused: Refused = NO_REFUSALS,
    ) -> Claim:
        """Claim devices for every request at once, or nothing at all.

        The devices are chosen before any state changes, honouring PF/VF dependencies,
        ``pf_group`` anti-affinity, and the PFs' ``refused`` VF attributes (no request
        is served by a PF that refused one it needs). If a transition fails midway,
        every status and pool change is rolled back, including the PFs and VFs evicted
        as relatives (Nova's consume_requests leaves those out of its pools: quirk 7,
        fixed here).
        """
        if expected_generation is not None:
            self._check_generation(expected_generation)
        request_ids = _request_ids(requests)
        layout = self._layout
        plan = layout.matcher.plan(requests, layout.counts, numa_cells, sockets, refused)
        if plan is None:
            raise InsufficientDevices(
                self._shortfall(owner, requests, layout.counts, numa_cells, sockets, refused)
            )
        journal = layout.journal()
        try:
            picked = {
                request_id: layout.take(journal, owner, request_id, takes)
                for request_id, takes in zip(request_ids, plan, strict=True)
            }
        except Exception:
            journal.rollback()
            raise
        layout.own(owner, picked)
        self.generation += 1
        addresses = layout.addresses.__getitem__
        return Claim(
            owner,
            {rid: tuple(map(addresses, slots)) for rid, slots in picked.items()},
            self.generation,
        )

    def allocate(self, owner: str, expected_generation: int | None = None) -> list[PciAddress]:
        """Turn the owner's claimed devices into allocated ones (its instance is running)."""
        self._check_generation(expected_generation)
        layout = self._layout
        slots = layout.slots_of(owner)
        if not slots:
            raise NotFound("claim", owner)
        journal = layout.journal()
        try:
            for slot in slots:
                if layout.statuses[slot].state is DeviceState.CLAIMED:
                    journal.apply(states.allocate(layout.statuses, layout.family, slot, owner))
        except Exception:
            journal.rollback()
            raise
        self.generation += 1
        return [layout.addresses[slot] for slot in slots]

    def release(self, owner: str, expected_generation: int | None = None) -> list[PciAddress]:
        """Free every device of ``owner`` and return them; an unknown owner frees nothing."""
        self._check_generation(expected_generation)
        layout = self._layout
        slots = layout.slots_of(owner)
        if not slots:
            return []
        journal = layout.journal()
        try:
            for slot in slots:
                journal.apply(states.free(layout.statuses, layout.family, slot, owner))
        except Exception:
            journal.rollback()
            raise
        released = [layout.addresses[slot] for slot in slots]
        layout.disown(owner)
        if any(layout.entries[slot].vanished or layout.entries[slot].pending for slot in slots):
            self._layout = layout.settled_after_release(slots)
        self.generation += 1
        return released

    def move(
        self, owner: str, new_owner: str, expected_generation: int | None = None
    ) -> list[PciAddress]:
        """Hand the owner's devices to ``new_owner`` (a migration finishing), states unchanged."""
        self._check_generation(expected_generation)
        layout = self._layout
        slots = layout.slots_of(owner)
        if not slots:
            raise NotFound("claim", owner)
        if new_owner != owner:
            layout.rename_owner(owner, new_owner)
            self.generation += 1
        return [layout.addresses[slot] for slot in slots]

    def apply_report(
        self, selected: Sequence[SelectedDevice], unhealthy: Collection[PciAddress] = frozenset()
    ) -> ReportResult:
        """Replace the inventory with a new report (see ``reports`` for the rules)."""
        tracked, result = fold_report(self.devices(), selected, unhealthy)
        self._layout = Layout(tracked)
        self.generation += 1
        return replace(result, generation=self.generation)

    # Helpers

    def _check_generation(self, expected: int | None) -> None:
        if expected is not None and expected != self.generation:
            raise StaleGeneration(
                f"host inventory is at generation {self.generation}, not {expected}"
            )

    def _shortfall(
        self,
        owner: str,
        requests: Sequence[PciRequest],
        counts: list[int],
        numa_cells: frozenset[int] | None,
        sockets: Mapping[int, int | None] | None,
        refused: Refused,
    ) -> str:
        matcher = self._layout.matcher
        for request in requests:
            named = f"{owner!r}: request {request.request_id or request.specs!r}"
            if not matcher.filter(request, counts, numa_cells, sockets):
                usable = sum(counts[i] for i in matcher.candidates(request))
                return f"{named} needs {request.count} device(s); {usable} free match it" + (
                    "" if numa_cells is None else f" before NUMA policy {request.numa_policy}"
                )
            refusing = refusing_pfs(request, refused)
            if not matcher.filter(request, counts, numa_cells, sockets, refusing):
                return f"{named} needs {request.count} device(s) " + _refusals_text(
                    request, refused, refusing
                )
        return f"{owner!r}: the {len(requests)} requests cannot all be served together"


def _refusals_text(request: PciRequest, refused: Refused, refusing: Collection[str | None]) -> str:
    """``on PFs that can set min_tx_rate; PF 0000:3b:00.0 refused min_tx_rate``."""
    pfs = "; ".join(
        f"PF {pf} refused {', '.join(sorted(request.vf_needs.intersection(refused[pf])))}"
        for pf in sorted(p for p in refusing if p is not None)
    )
    return f"on PFs that can set {', '.join(sorted(request.vf_needs))}; {pfs}"


def _request_ids(requests: Sequence[PciRequest]) -> list[str]:
    if len(requests) == 1:
        return [requests[0].request_id]
    ids = [request.request_id for request in requests]
    if len(set(ids)) != len(ids):
        raise ValidationError("request_id", f"requests in one claim need distinct ids: {ids}")
    return ids

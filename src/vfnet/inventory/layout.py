"""The working tables behind a HostInventory: devices by slot number, pools, owners, undo journal.

Public API (for ``claims``): Layout(tracked), Journal.

Devices are numbered by slot so that the hot path of a claim indexes lists instead of
hashing PCI addresses. A device is in its pool's free list exactly when it is
available, healthy and still reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from vfnet.inventory import states
from vfnet.inventory.matching import PoolMatcher, Take
from vfnet.inventory.pools import Pool, PoolKey, pool_key
from vfnet.inventory.reports import Tracked
from vfnet.inventory.states import Changes, DeviceState, DeviceStatus, Family
from vfnet.pci.address import PciAddress

_AVAILABLE = DeviceState.AVAILABLE


class Layout:
    """Mutable tables for one host, rebuilt whenever the set of devices changes."""

    def __init__(self, tracked: Sequence[Tracked]) -> None:
        self.entries = [item for item in tracked if item.state is not DeviceState.REMOVED]
        self.addresses = tuple(item.address for item in self.entries)
        self.slots = {address: slot for slot, address in enumerate(self.addresses)}
        self.family = Family.of([item.selected.device for item in self.entries])
        self.statuses = [item.status for item in self.entries]
        for slot, status in states.settle(self.statuses, self.family):
            self.statuses[slot] = status
        self.unschedulable = {
            slot for slot, item in enumerate(self.entries) if not item.healthy or item.vanished
        }
        self._build_pools()
        self.owned: dict[str, dict[str, list[int]]] = {}
        for slot, status in enumerate(self.statuses):
            if status.busy and status.owner is not None:
                self.own(status.owner, {status.request_id or "": [slot]})

    def _build_pools(self) -> None:
        keys = [pool_key(item.selected) for item in self.entries]
        order: dict[PoolKey, int] = {}
        for key in keys:
            order.setdefault(key, len(order))
        self.keys = sorted(order, key=len)  # fewer keys first, stable: Nova's order
        index = {key: i for i, key in enumerate(self.keys)}
        self.pool_of = [index[key] for key in keys]
        self.free: list[list[int]] = [[] for _ in self.keys]
        for slot, pool in enumerate(self.pool_of):
            if self.statuses[slot].state is _AVAILABLE and slot not in self.unschedulable:
                self.free[pool].append(slot)
        self.counts = list(map(len, self.free))  # kept equal to the free lists' lengths
        self.matcher = PoolMatcher([Pool(key) for key in self.keys])

    def tracked(self, slot: int) -> Tracked:
        return replace(self.entries[slot], status=self.statuses[slot])

    def pools(self) -> list[Pool]:
        return [
            Pool(key, [self.addresses[slot] for slot in free])
            for key, free in zip(self.keys, self.free, strict=True)
        ]

    def journal(self) -> Journal:
        return Journal(self)

    def take(self, journal: Journal, owner: str, request_id: str, takes: list[Take]) -> list[int]:
        """Claim ``count`` devices from each pool of ``takes``, the last added first (Nova)."""
        statuses, family, free_lists = self.statuses, self.family, self.free
        apply, claim = journal.apply, states.claim
        picked = []
        for pool, count in takes:
            free = free_lists[pool]
            for _ in range(count):
                slot = free[-1]
                apply(claim(statuses, family, slot, owner, request_id))
                picked.append(slot)
        return picked

    # Owners

    def own(self, owner: str, picked: dict[str, list[int]]) -> None:
        mine = self.owned.get(owner)
        if mine is None:
            self.owned[owner] = picked
            return
        for request_id, slots in picked.items():
            mine.setdefault(request_id, []).extend(slots)

    def slots_of(self, owner: str) -> list[int]:
        return [slot for slots in self.owned.get(owner, {}).values() for slot in slots]

    def owned_addresses(self, owner: str) -> dict[str, tuple[PciAddress, ...]]:
        mine = self.owned.get(owner, {})
        return {rid: tuple(self.addresses[s] for s in slots) for rid, slots in mine.items()}

    def disown(self, owner: str) -> None:
        self.owned.pop(owner, None)

    def rename_owner(self, owner: str, new_owner: str) -> None:
        picked = self.owned.pop(owner)
        for slots in picked.values():
            for slot in slots:
                self.statuses[slot] = self.statuses[slot]._replace(owner=new_owner)
        self.own(new_owner, picked)

    def settled_after_release(self, freed: Sequence[int]) -> Layout:
        """A new layout where freed vanished devices are gone and deferred updates applied."""
        done = set(freed)
        tracked = []
        for slot, item in enumerate(self.entries):
            current = replace(item, status=self.statuses[slot])
            if slot in done and item.vanished:
                continue
            if slot in done and item.pending is not None:
                current = replace(current, selected=item.pending, pending=None)
            tracked.append(current)
        # Slots shift when a vanished device goes, so owners are rebuilt from the statuses.
        return Layout(tracked)


class Journal:
    """Applies transitions to a layout and remembers how to undo them exactly."""

    __slots__ = ("layout", "pools", "statuses")

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.statuses: list[tuple[int, DeviceStatus]] = []
        self.pools: list[tuple[int, int, int, bool]] = []  # pool, position, slot, was removed

    def apply(self, changes: Changes) -> None:
        layout = self.layout
        statuses, log, unschedulable = layout.statuses, self.statuses, layout.unschedulable
        for slot, new in changes:
            old = statuses[slot]
            log.append((slot, old))
            statuses[slot] = new
            was, now = old.state is _AVAILABLE, new.state is _AVAILABLE
            if was is not now and slot not in unschedulable:
                self._repool(slot, now)

    def _repool(self, slot: int, available: bool) -> None:
        pool = self.layout.pool_of[slot]
        free = self.layout.free[pool]
        if available:
            free.append(slot)
            self.layout.counts[pool] += 1
            self.pools.append((pool, len(free) - 1, slot, False))
            return
        position = len(free) - 1 if free[-1] == slot else free.index(slot)
        del free[position]
        self.layout.counts[pool] -= 1
        self.pools.append((pool, position, slot, True))

    def rollback(self) -> None:
        free = self.layout.free
        counts = self.layout.counts
        for pool, position, slot, removed in reversed(self.pools):
            if removed:
                free[pool].insert(position, slot)
                counts[pool] += 1
            else:
                del free[pool][position]
                counts[pool] -= 1
        statuses = self.layout.statuses
        for slot, old in reversed(self.statuses):
            statuses[slot] = old
        self.pools.clear()
        self.statuses.clear()

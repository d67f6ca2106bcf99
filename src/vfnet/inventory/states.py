"""Device states and the PF/VF/vDPA dependency rules, as pure transitions over a host's table.

Public API:
    DeviceState      available, claimed, allocated, unavailable, unclaimable, removed, releasing
    DeviceStatus     (state, owner, request_id) of one device
    Family           parent/children links by slot number among the tracked devices
    Changes          list of (slot, new DeviceStatus) a transition returns
    claim, allocate, free, remove   slot-level transitions: (statuses, family, slot, ...) -> Changes
    await_reset, reset_verified     the same, for a host that verifies each reset: a freed
                                    device is releasing until its reset is read back
    settle           the derived states of every free device, as Changes
    DeviceTable      an immutable table keyed by PciAddress with the same transitions

A PF's children are its VFs and its vDPA devices (a vDPA device is a VF with a vDPA
child, so it is linked by ``parent_addr`` exactly like a VF). A device whose parent is
not tracked has no parent here, so no dependency rule applies to it.

On a host whose agent resets VFs, a release is ``free`` then ``await_reset``: the device
is ``releasing`` (not schedulable, counted nowhere as free, its relatives blocked as by a
claim) until ``reset_verified``, when the agent has read the reset back. A VF still holding
its last owner's MAC, VLAN and rates is never handed to the next owner.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from vfnet.errors import InvalidDeviceState
from vfnet.pci.address import PciAddress
from vfnet.pci.devices import PciDevice


class DeviceState(StrEnum):
    AVAILABLE = "available"
    CLAIMED = "claimed"  # reserved for an owner whose build or move is in progress
    ALLOCATED = "allocated"  # in use by its owner
    UNAVAILABLE = "unavailable"  # a relative is allocated
    UNCLAIMABLE = "unclaimable"  # a relative is claimed
    REMOVED = "removed"  # gone from the host while free
    RELEASING = "releasing"  # freed, waiting for the host to verify its reset


BUSY = frozenset({DeviceState.CLAIMED, DeviceState.ALLOCATED})
# Plain names for the members a claim checks: reading them off the enum class is slower.
_AVAILABLE = DeviceState.AVAILABLE
_CLAIMED = DeviceState.CLAIMED
BLOCKED = frozenset({DeviceState.UNCLAIMABLE, DeviceState.UNAVAILABLE})
# States no relative's change re-derives: owned, waiting for a reset, or gone.
_KEPT = BUSY | {DeviceState.RELEASING, DeviceState.REMOVED}
_HELD = BUSY | {DeviceState.RELEASING}  # a PF with such a child cannot be taken whole
_GONE_OR_RESETTING = frozenset({DeviceState.REMOVED, DeviceState.RELEASING})


class DeviceStatus(NamedTuple):
    """A device's state and, while claimed or allocated, its owner and request id.

    A named tuple rather than a frozen dataclass: a claim builds one per device, and
    this is several times cheaper to build.
    """

    state: DeviceState
    owner: str | None = None
    request_id: str | None = None

    @property
    def busy(self) -> bool:
        return self.state in BUSY


AVAILABLE = DeviceStatus(DeviceState.AVAILABLE)
UNCLAIMABLE = DeviceStatus(DeviceState.UNCLAIMABLE)
UNAVAILABLE = DeviceStatus(DeviceState.UNAVAILABLE)
REMOVED = DeviceStatus(DeviceState.REMOVED)
RELEASING = DeviceStatus(DeviceState.RELEASING)

Changes = list[tuple[int, DeviceStatus]]


@dataclass(frozen=True, slots=True)
class Family:
    """Slot numbers for a host's devices, with parent and children links by ``parent_addr``."""

    addresses: tuple[PciAddress, ...]
    parent: tuple[int | None, ...]
    children: tuple[tuple[int, ...], ...]

    @classmethod
    def of(cls, devices: Sequence[PciDevice]) -> Family:
        addresses = tuple(device.address for device in devices)
        slots = {address: slot for slot, address in enumerate(addresses)}
        parent = tuple(
            None if device.parent_addr is None else slots.get(device.parent_addr)
            for device in devices
        )
        children: list[list[int]] = [[] for _ in devices]
        for slot, parent_slot in enumerate(parent):
            if parent_slot is not None:
                children[parent_slot].append(slot)
        return cls(addresses, parent, tuple(tuple(c) for c in children))

    def slot(self, address: PciAddress) -> int:
        return self.addresses.index(address)


def _describe(family: Family, slot: int, status: DeviceStatus) -> str:
    owned = f" by {status.owner!r}" if status.owner else ""
    return f"{family.addresses[slot]} is {status.state.value}{owned}"


def _refuse(action: str, family: Family, slot: int, status: DeviceStatus, why: str = "") -> None:
    reason = f": {why}" if why else ""
    raise InvalidDeviceState(
        f"cannot {action} {family.addresses[slot]}: {_describe(family, slot, status)}{reason}"
    )


def _check_children_idle(
    action: str, statuses: Sequence[DeviceStatus], family: Family, slot: int
) -> None:
    for child in family.children[slot]:
        if statuses[child].state in _HELD:
            why = f"its child {_describe(family, child, statuses[child])}"
            _refuse(action, family, slot, statuses[slot], why)


def _block(statuses: Sequence[DeviceStatus], slots: Iterable[int], to: DeviceStatus) -> Changes:
    """Mark free relatives blocked; a removed relative is no longer there to block."""
    return [
        (s, to) for s in slots if statuses[s].state not in _GONE_OR_RESETTING and statuses[s] != to
    ]


def claim(
    statuses: Sequence[DeviceStatus],
    family: Family,
    slot: int,
    owner: str,
    request_id: str | None = None,
) -> Changes:
    """Claim an available device: its PF becomes unclaimable, or its children do."""
    current = statuses[slot]
    if current.state is not _AVAILABLE:
        _refuse("claim", family, slot, current)
    changes: Changes = [(slot, DeviceStatus(_CLAIMED, owner, request_id))]
    parent = family.parent[slot]
    if parent is not None:
        parent_state = statuses[parent].state
        if parent_state is _AVAILABLE:
            changes.append((parent, UNCLAIMABLE))
        elif parent_state in BUSY:
            _refuse(
                "claim",
                family,
                slot,
                current,
                f"its PF {_describe(family, parent, statuses[parent])}",
            )
    if family.children[slot]:
        # Children only blocked (not busy) are tolerated and re-blocked: this heals a PF
        # left unclaimable by an earlier inconsistency instead of locking it forever.
        _check_children_idle("claim", statuses, family, slot)
        changes += _block(statuses, family.children[slot], UNCLAIMABLE)
    return changes


def allocate(statuses: Sequence[DeviceStatus], family: Family, slot: int, owner: str) -> Changes:
    """Allocate a device that is available or claimed by ``owner``; relatives become unavailable."""
    current = statuses[slot]
    if current.state is DeviceState.CLAIMED and current.owner != owner:
        _refuse("allocate", family, slot, current, f"the owner is not {owner!r}")
    if current.state not in (DeviceState.AVAILABLE, DeviceState.CLAIMED):
        _refuse("allocate", family, slot, current)
    changes: Changes = [(slot, DeviceStatus(DeviceState.ALLOCATED, owner, current.request_id))]
    parent = family.parent[slot]
    if parent is not None:
        if statuses[parent].state in BUSY:
            _refuse(
                "allocate",
                family,
                slot,
                current,
                f"its PF {_describe(family, parent, statuses[parent])}",
            )
        changes += _block(statuses, (parent,), UNAVAILABLE)
    if family.children[slot]:
        _check_children_idle("allocate", statuses, family, slot)
        changes += _block(statuses, family.children[slot], UNAVAILABLE)
    return changes


def derived(
    statuses: Sequence[DeviceStatus], family: Family, slot: int, freed: int | None = None
) -> DeviceStatus:
    """What a free device's state must be, given its relatives (``freed`` counts as free)."""
    parent = family.parent[slot]
    if parent is not None:
        parent_state = statuses[parent].state
        if parent_state is DeviceState.ALLOCATED:
            return UNAVAILABLE
        if parent_state is DeviceState.CLAIMED or parent_state is DeviceState.RELEASING:
            return UNCLAIMABLE
    claimed = False
    for child in family.children[slot]:
        if child == freed:
            continue
        child_state = statuses[child].state
        if child_state is DeviceState.ALLOCATED:
            return UNAVAILABLE
        # A child waiting for its reset holds its PF back as a claim does.
        claimed = claimed or child_state is DeviceState.CLAIMED
        claimed = claimed or child_state is DeviceState.RELEASING
    return UNCLAIMABLE if claimed else AVAILABLE


def free(
    statuses: Sequence[DeviceStatus], family: Family, slot: int, owner: str | None = None
) -> Changes:
    """Free a claimed or allocated device (checking ``owner`` when given).

    A freed PF frees all its children. A freed VF's PF takes the state its other
    children leave it in: available once the last busy child is freed, and unclaimable
    (not unavailable) when only claims remain.
    """
    current = statuses[slot]
    if current.state not in BUSY:
        _refuse("free", family, slot, current)
    if owner is not None and current.owner != owner:
        _refuse("free", family, slot, current, f"the owner is not {owner!r}")
    changes: Changes = [(slot, AVAILABLE)]
    parent = family.parent[slot]
    if parent is not None and statuses[parent].state in BLOCKED:
        settled = derived(statuses, family, parent, freed=slot)
        if settled != statuses[parent]:
            changes.append((parent, settled))
    changes += _block(statuses, family.children[slot], AVAILABLE)
    return changes


def remove(statuses: Sequence[DeviceStatus], family: Family, slot: int) -> Changes:
    """Mark a device that left the host removed; only a device nobody owns can go."""
    current = statuses[slot]
    if current.state in BUSY or current.state is DeviceState.REMOVED:
        _refuse("remove", family, slot, current)
    if current.state is DeviceState.RELEASING:  # it no longer holds its relatives back
        return _resettle(statuses, family, slot, REMOVED)
    return [(slot, REMOVED)]


def await_reset(statuses: Sequence[DeviceStatus], family: Family, slot: int) -> Changes:
    """A device its owner just freed waits for its reset to be verified: releasing.

    Only a free device (available or blocked by a relative) can wait; its free
    relatives become blocked exactly as if it were still claimed.
    """
    current = statuses[slot]
    if current.state in _KEPT:
        _refuse("await the reset of", family, slot, current)
    return _resettle(statuses, family, slot, RELEASING)


def reset_verified(statuses: Sequence[DeviceStatus], family: Family, slot: int) -> Changes:
    """A releasing device whose reset was read back is free again, as its relatives allow."""
    current = statuses[slot]
    if current.state is not DeviceState.RELEASING:
        _refuse("verify the reset of", family, slot, current, "it is not releasing")
    return _resettle(statuses, family, slot, derived(statuses, family, slot))


def _resettle(
    statuses: Sequence[DeviceStatus], family: Family, slot: int, new: DeviceStatus
) -> Changes:
    """``slot`` becomes ``new``; its free relatives take the states that leaves them in."""
    after = list(statuses)
    after[slot] = new
    changes: Changes = [(slot, new)]
    parent = family.parent[slot]
    relatives = family.children[slot] if parent is None else (parent, *family.children[slot])
    for relative in relatives:
        if after[relative].state in _KEPT:
            continue
        settled = derived(after, family, relative)
        if settled != after[relative]:
            changes.append((relative, settled))
            after[relative] = settled
    return changes


def settle(statuses: Sequence[DeviceStatus], family: Family) -> Changes:
    """Re-derive the state of every free device from its relatives (after a load or report)."""
    changes: Changes = []
    for slot, status in enumerate(statuses):
        if status.state in _KEPT:
            continue
        settled = derived(statuses, family, slot)
        if settled != status:
            changes.append((slot, settled))
    return changes


@dataclass(frozen=True, slots=True)
class DeviceTable:
    """A host's devices and their statuses by address; every transition returns a new table."""

    family: Family
    statuses: tuple[DeviceStatus, ...]

    @classmethod
    def of(
        cls,
        devices: Sequence[PciDevice],
        statuses: Mapping[PciAddress, DeviceStatus] | None = None,
    ) -> DeviceTable:
        family = Family.of(devices)
        known = statuses or {}
        table = cls(family, tuple(known.get(a, AVAILABLE) for a in family.addresses))
        return table.apply(settle(table.statuses, family))

    def apply(self, changes: Changes) -> DeviceTable:
        statuses = list(self.statuses)
        for slot, status in changes:
            statuses[slot] = status
        return DeviceTable(self.family, tuple(statuses))

    def status(self, address: PciAddress) -> DeviceStatus:
        return self.statuses[self.family.slot(address)]

    def state(self, address: PciAddress) -> DeviceState:
        return self.status(address).state

    def claim(self, address: PciAddress, owner: str, request_id: str | None = None) -> DeviceTable:
        slot = self.family.slot(address)
        return self.apply(claim(self.statuses, self.family, slot, owner, request_id))

    def allocate(self, address: PciAddress, owner: str) -> DeviceTable:
        return self.apply(allocate(self.statuses, self.family, self.family.slot(address), owner))

    def free(self, address: PciAddress, owner: str | None = None) -> DeviceTable:
        return self.apply(free(self.statuses, self.family, self.family.slot(address), owner))

    def remove(self, address: PciAddress) -> DeviceTable:
        return self.apply(remove(self.statuses, self.family, self.family.slot(address)))

    def await_reset(self, address: PciAddress) -> DeviceTable:
        return self.apply(await_reset(self.statuses, self.family, self.family.slot(address)))

    def reset_verified(self, address: PciAddress) -> DeviceTable:
        return self.apply(reset_verified(self.statuses, self.family, self.family.slot(address)))

"""Folding a host's new device report into what is tracked, as a pure diff.

Public API:
    Tracked          one tracked device: selection, status, health, vanished flag, deferred update
    ReportResult     what a report changed, and the host generation after it
    check_report(selected)            refuses a report naming one PCI address twice
    fold_report(tracked, selected, unhealthy) -> (list[Tracked], ReportResult parts)

Rules, as an operator expects them: new devices arrive available; vanished free devices
go; vanished claimed or allocated devices stay, flagged, unschedulable, until freed; a
busy device's changed properties wait until it is freed; unhealthy devices are never
schedulable.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from vfnet.errors import ValidationError
from vfnet.inventory.states import AVAILABLE, DeviceState, DeviceStatus
from vfnet.pci.address import PciAddress
from vfnet.pci.selection import SelectedDevice


@dataclass(frozen=True, slots=True)
class Tracked:
    """A device the host inventory tracks, as its owner and the scheduler see it.

    ``vanished``: no longer reported but still owned, so kept until freed.
    ``pending``: the last reported properties, applied once the device is freed.
    """

    selected: SelectedDevice
    status: DeviceStatus = AVAILABLE
    healthy: bool = True
    vanished: bool = False
    pending: SelectedDevice | None = None

    @property
    def address(self) -> PciAddress:
        return self.selected.device.address

    @property
    def state(self) -> DeviceState:
        return self.status.state

    @property
    def owner(self) -> str | None:
        return self.status.owner

    @property
    def schedulable(self) -> bool:
        return self.status.state is DeviceState.AVAILABLE and self.healthy and not self.vanished


@dataclass(frozen=True, slots=True)
class ReportResult:
    added: tuple[PciAddress, ...] = ()
    removed: tuple[PciAddress, ...] = ()
    updated: tuple[PciAddress, ...] = ()  # free devices whose properties changed
    deferred: tuple[PciAddress, ...] = ()  # busy devices whose changes wait for their release
    vanished: tuple[PciAddress, ...] = ()  # busy devices kept although no longer reported
    generation: int = 0


def check_report(selected: Sequence[SelectedDevice]) -> None:
    seen: set[PciAddress] = set()
    for item in selected:
        address = item.device.address
        if address in seen:
            raise ValidationError("address", f"{address} is reported more than once")
        seen.add(address)


def fold_report(
    tracked: Sequence[Tracked],
    selected: Sequence[SelectedDevice],
    unhealthy: Collection[PciAddress] = frozenset(),
) -> tuple[list[Tracked], ReportResult]:
    """The devices to track after ``selected`` is reported, in report order."""
    check_report(selected)
    before = {item.address: item for item in tracked}
    reported = {item.device.address for item in selected}
    result: list[Tracked] = []
    added, updated, deferred = [], [], []
    for item in selected:
        address = item.device.address
        healthy = address not in unhealthy
        old = before.get(address)
        if old is None:
            added.append(address)
            result.append(Tracked(item, healthy=healthy))
        elif old.status.busy:
            changed = item != old.selected
            if changed:
                deferred.append(address)
            pending = item if changed else None
            result.append(replace(old, healthy=healthy, vanished=False, pending=pending))
        else:
            if item != old.selected:
                updated.append(address)
            result.append(replace(old, selected=item, healthy=healthy, vanished=False))
    gone = [item for item in tracked if item.address not in reported]
    kept = [replace(item, vanished=True) for item in gone if item.status.busy]
    parts = ReportResult(
        added=tuple(added),
        removed=tuple(item.address for item in gone if not item.status.busy),
        updated=tuple(updated),
        deferred=tuple(deferred),
        vanished=tuple(item.address for item in kept),
    )
    return result + kept, parts

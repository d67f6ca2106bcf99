"""plan(desired, actual): the VF changes that bring a host to its desired state, and what to report.

Pure: it takes values (the desired state, the PFs' VF tables as read, where each managed
VF sits) and returns a :class:`Plan`. Identity is the PCI address; the PF netdev and VF
index only say where to write.

Per managed VF, exactly one of:

- claimed, on its PF, differing: a ``configure`` change naming only the differing
  attributes (the port's report waits for the read-back);
- claimed and matching: the port is ``ACTIVE``;
- claimed but gone (address not discovered, PF unreadable, VF index missing): ``ERROR``
  naming what is missing;
- not claimed and not at :data:`RESET`: a ``reset`` change (a release, or a VF left
  dirty by someone else);
- not claimed and at RESET: a release the server asked for is reported verified, with
  the claim generation it was released at.

Mirroring is planned apart (:func:`plan_mirrors`): drivers cannot read it back, so it
is compared with what the agent last set, and all of it is unknown after a start.

A VF the desired state claims is never reset, whatever it holds: when a VF was released
and claimed again before the agent caught up, its new owner's settings are written over
the old owner's, attribute by attribute, never through a reset in between.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from vfnet.agent.desired import DesiredState
from vfnet.network.vf_settings import RESET, VfAttr, VfSettings
from vfnet.pci.address import PciAddress
from vfnet.pci.devices import DeviceType, HostDevices

__all__ = [
    "Change",
    "ChangeKind",
    "MirrorChange",
    "Plan",
    "PortReport",
    "PortState",
    "ReleaseReport",
    "VfLocation",
    "VfTables",
    "locate",
    "plan",
    "plan_mirrors",
]

# PF netdev -> VF index -> settings, as drivers read them.
VfTables = Mapping[str, Mapping[int, VfSettings]]


class VfLocation(NamedTuple):
    """Where a VF's settings are written: its PF's netdev and its index under that PF."""

    pf: str
    vf: int


class ChangeKind(StrEnum):
    CONFIGURE = "configure"
    RESET = "reset"


class PortState(StrEnum):
    ACTIVE = "ACTIVE"
    ERROR = "ERROR"


@dataclass(frozen=True, slots=True)
class Change:
    kind: ChangeKind
    address: PciAddress
    pf: str
    vf: int
    wanted: VfSettings
    attrs: tuple[VfAttr, ...]  # the differing ones, in APPLY_ORDER


@dataclass(frozen=True, slots=True)
class PortReport:
    """A port's status on this host; ``refused`` lists attributes the NIC would not take
    (:class:`VfAttr` values, and ``"mirror"`` when it cannot mirror the VF)."""

    port_id: str
    address: PciAddress
    claim_generation: int
    state: PortState
    reason: str = ""
    refused: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReleaseReport:
    """Whether a released VF reads back as RESET; the server frees it only then, and only
    when ``claim_generation`` is still the device's."""

    address: PciAddress
    claim_generation: int
    verified: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class MirrorChange:
    """Copy VF ``vf``'s traffic to VF ``to_vf`` of the same PF; ``to_vf`` None stops it."""

    address: PciAddress
    pf: str
    vf: int
    to_vf: int | None
    to: PciAddress | None  # the target's address, None when stopping


@dataclass(frozen=True, slots=True)
class Plan:
    changes: tuple[Change, ...] = ()
    ports: tuple[PortReport, ...] = ()
    releases: tuple[ReleaseReport, ...] = ()


def plan(
    desired: DesiredState,
    actual: VfTables,
    devices: Mapping[PciAddress, VfLocation],
    *,
    unreadable: Mapping[str, str] | None = None,
) -> Plan:
    """What to change and report so that ``actual`` becomes ``desired``.

    ``devices`` are the VFs this agent manages (discovered and selected); a VF outside it
    is never written. ``unreadable`` maps a PF whose table could not be read to the
    driver's reason, used in the reports of its VFs.
    """
    unreadable = unreadable or {}
    resets, releases = _unclaimed(desired, actual, devices, unreadable)
    configures, ports = _claimed(desired, actual, devices, unreadable)
    # Resets first: a port's MAC may be moving from a released VF to a claimed one on
    # the same PF, and some NICs refuse a MAC another VF of theirs still holds.
    return Plan(tuple(resets + configures), tuple(ports), tuple(releases))


def locate(host: HostDevices) -> dict[PciAddress, VfLocation]:
    """Every VF of ``host`` whose PF has a netdev, by address (the ``devices`` of a plan)."""
    found = {}
    for device in host:
        if device.dev_type not in (DeviceType.VF, DeviceType.VDPA):
            continue
        parent = host.get(device.parent_addr) if device.parent_addr else None
        if parent is None or not parent.netdevs or device.vf_index is None:
            continue
        found[device.address] = VfLocation(parent.netdevs[0].name, device.vf_index)
    return found


def plan_mirrors(
    desired: DesiredState,
    devices: Mapping[PciAddress, VfLocation],
    known: Mapping[PciAddress, PciAddress | None],
) -> tuple[tuple[MirrorChange, ...], dict[PciAddress, str]]:
    """The mirror changes on managed VFs, and the claimed VFs whose mirror cannot be.

    ``known`` is each VF's mirror target as last set (None: not mirrored); a VF missing
    from it is unknown and set again, which also stops a mirror left from before.
    A NIC mirrors between VFs of one PF only, so another target is refused by reason.
    """
    changes: list[MirrorChange] = []
    refused: dict[PciAddress, str] = {}
    for address, location in devices.items():
        claim = desired.claimed.get(address)
        target = claim.mirror_to if claim is not None else None
        to = devices.get(target) if target is not None else None
        if target is not None and (to is None or to.pf != location.pf):
            where = "is not a VF this agent manages" if to is None else f"is on {to.pf}"
            refused[address] = (
                f"mirror: {target} {where}; a VF mirrors only to a VF of its own PF ({location.pf})"
            )
            target = to = None
        if address in known and known[address] == target:
            continue
        to_vf = to.vf if to is not None else None
        changes.append(MirrorChange(address, location.pf, location.vf, to_vf, target))
    return tuple(changes), refused


def _claimed(
    desired: DesiredState,
    actual: VfTables,
    devices: Mapping[PciAddress, VfLocation],
    unreadable: Mapping[str, str],
) -> tuple[list[Change], list[PortReport]]:
    changes: list[Change] = []
    reports: list[PortReport] = []
    for address, claim in desired.claimed.items():
        location = devices.get(address)
        current, missing = _current(address, location, actual, unreadable)
        if current is None or location is None:
            reports.append(
                PortReport(claim.port_id, address, claim.claim_generation, PortState.ERROR, missing)
            )
            continue
        attrs = current.differs(claim.settings)
        if attrs:
            changes.append(Change(ChangeKind.CONFIGURE, address, *location, claim.settings, attrs))
        else:
            reports.append(
                PortReport(claim.port_id, address, claim.claim_generation, PortState.ACTIVE)
            )
    return changes, reports


def _unclaimed(
    desired: DesiredState,
    actual: VfTables,
    devices: Mapping[PciAddress, VfLocation],
    unreadable: Mapping[str, str],
) -> tuple[list[Change], list[ReleaseReport]]:
    changes: list[Change] = []
    reports: list[ReleaseReport] = []
    released = desired.released
    for address, location in devices.items():
        if address in desired.claimed:
            continue
        current, missing = _current(address, location, actual, unreadable)
        generation = released.get(address)
        if current is None:
            if generation is not None:
                reports.append(ReleaseReport(address, generation, False, missing))
            continue
        attrs = current.differs(RESET)
        if attrs:
            changes.append(Change(ChangeKind.RESET, address, *location, RESET, attrs))
        elif generation is not None:
            reports.append(ReleaseReport(address, generation, True))
    for address, generation in released.items():
        if address not in devices:
            reports.append(ReleaseReport(address, generation, False, _not_here(address)))
    return changes, reports


def _current(
    address: PciAddress,
    location: VfLocation | None,
    actual: VfTables,
    unreadable: Mapping[str, str],
) -> tuple[VfSettings | None, str]:
    """The VF's settings as read, or ``None`` and why it cannot be found."""
    if location is None:
        return None, _not_here(address)
    table = actual.get(location.pf)
    if table is None:
        why = unreadable.get(location.pf, "its VF table was not read")
        return None, f"{address}: PF {location.pf} is missing ({why})"
    current = table.get(location.vf)
    if current is None:
        return None, (
            f"{address}: VF {location.vf} of {location.pf} is gone "
            f"({location.pf} has {len(table)} VFs)"
        )
    return current, ""


def _not_here(address: PciAddress) -> str:
    return f"{address} is not a VF this agent manages on this host (removed or moved away)"

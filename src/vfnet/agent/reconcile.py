"""One reconcile pass: read every PF once, plan, apply, read back what changed, report.

The pass is level-triggered and keeps nothing between calls: the desired state and the
VF tables are read afresh each time, so an agent that died halfway through a pass
simply runs the next one and converges. Fetching the desired state and posting the
reports (long poll, retries) belong to the loop around it; this module speaks no HTTP.

A refusal is an ERROR on the port, not only a reported capability. Rates are written
as a pair (``IFLA_VF_RATE``), so a NIC refusing ``min_tx_rate`` leaves the maximum
unenforced as well, and a port whose limit or guarantee is not in force must not look
ACTIVE. The report still names the refused attributes (``PortReport.refused``) so the
server can record them as what this PF cannot do and stop placing such ports on it.

Mirroring (``mirror_to``) goes through drivers that can mirror (:class:`Mirroring`);
with any other driver a port that asks for it is an ERROR with ``mirror`` refused. As
no driver reads mirrors back, the pass takes what the previous one set (``mirrored``)
and returns what it set, and an empty ``mirrored`` sets every managed VF's mirror once.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from vfnet.agent.desired import DesiredState
from vfnet.agent.drivers.base import Refusal, VfDriver
from vfnet.agent.plan import (
    Change,
    ChangeKind,
    MirrorChange,
    PortReport,
    PortState,
    ReleaseReport,
    VfLocation,
    plan,
    plan_mirrors,
)
from vfnet.errors import DriverError
from vfnet.network.vf_settings import VfAttr, VfSettings
from vfnet.pci.address import PciAddress

__all__ = ["Mirroring", "PassResult", "PlugReport", "reconcile"]

MIRROR = "mirror"  # what ``PortReport.refused`` names when a mirror cannot be set

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PlugReport:
    """A port with no VF of its own (a normal port on a bridge): plugged, or why not."""

    port_id: str
    state: PortState
    reason: str = ""


@dataclass(frozen=True, slots=True)
class PassResult:
    """What one pass did and found, for the desired state at ``generation``."""

    generation: int
    ports: tuple[PortReport, ...] = ()
    releases: tuple[ReleaseReport, ...] = ()
    applied: tuple[Change, ...] = ()  # the changes attempted, refused ones included
    unreadable: Mapping[str, str] = field(default_factory=dict)  # PF -> driver's reason
    # VF -> the VF it is mirrored to (None: not mirrored), as this pass left them.
    mirrored: Mapping[PciAddress, PciAddress | None] = field(default_factory=dict)
    plugged: tuple[PlugReport, ...] = ()  # the instances' normal ports


@runtime_checkable
class Mirroring(Protocol):
    """A driver that can copy one VF's traffic to another VF of the same PF."""

    def mirror(self, pf: str, vf: int, to_vf: int | None) -> None:
        """Start (or, with ``to_vf`` None, stop) mirroring VF ``vf`` of ``pf``.

        Raises:
            DriverError: the PF or either VF is not there.
        """
        ...


@dataclass(slots=True)
class _Failures:
    """Why changes did not hold, by VF address: refusals and driver errors."""

    refused: dict[PciAddress, tuple[Refusal, ...]] = field(default_factory=dict)
    errors: dict[PciAddress, str] = field(default_factory=dict)


def reconcile(
    desired: DesiredState,
    devices: Mapping[PciAddress, VfLocation],
    driver: VfDriver,
    *,
    mirrored: Mapping[PciAddress, PciAddress | None] | None = None,
) -> PassResult:
    """Bring the VFs in ``devices`` (address -> PF netdev and VF index) to ``desired``.

    Every claimed VF gets a port report, every release the server asked for a release
    report; VFs outside ``devices`` are never read or written. ``mirrored`` is the
    previous pass's :attr:`PassResult.mirrored` (None or empty: not known).
    """
    result = _settings(desired, devices, driver)
    failed, now_mirrored = _mirror(desired, devices, driver, mirrored or {})
    ports = tuple(_with_mirror(port, failed.get(port.address)) for port in result.ports)
    return dataclasses.replace(result, ports=ports, mirrored=now_mirrored)


def _settings(
    desired: DesiredState, devices: Mapping[PciAddress, VfLocation], driver: VfDriver
) -> PassResult:
    actual, unreadable = _read(driver, sorted({location.pf for location in devices.values()}))
    first = plan(desired, actual, devices, unreadable=unreadable)
    if not first.changes:
        log.debug("generation %d: nothing to change", desired.generation)
        return PassResult(desired.generation, first.ports, first.releases, (), unreadable)
    log.info("generation %d: applying %d VF changes", desired.generation, len(first.changes))
    failures = _apply(driver, first.changes)
    touched = sorted({change.pf for change in first.changes})
    again, still_unreadable = _read(driver, touched)
    after = {**actual, **again}
    for pf in touched:
        if pf in still_unreadable:
            after.pop(pf, None)
    unreadable = {**unreadable, **still_unreadable}
    final = plan(desired, after, devices, unreadable=unreadable)
    ports = list(final.ports)
    releases = list(final.releases)
    for change in final.changes:
        _report_leftover(change, desired, after, failures, ports, releases)
    return PassResult(desired.generation, tuple(ports), tuple(releases), first.changes, unreadable)


def _mirror(
    desired: DesiredState,
    devices: Mapping[PciAddress, VfLocation],
    driver: VfDriver,
    known: Mapping[PciAddress, PciAddress | None],
) -> tuple[dict[PciAddress, tuple[str, bool]], dict[PciAddress, PciAddress | None]]:
    """Set the mirrors that differ from ``known``: (why each failed, refused or not) and
    what is now known."""
    if not isinstance(driver, Mirroring):
        reason = f"{MIRROR}: not supported by the {driver.name} driver"
        wanted = (a for a, claim in desired.claimed.items() if claim.mirror_to and a in devices)
        return {address: (reason, True) for address in wanted}, {}
    changes, refused = plan_mirrors(desired, devices, known)
    failed = {address: (reason, True) for address, reason in refused.items()}
    now = dict(known)
    for change in changes:
        try:
            driver.mirror(change.pf, change.vf, change.to_vf)
        except DriverError as error:
            log.warning("%s (%s VF %d): mirror: %s", change.address, change.pf, change.vf, error)
            now.pop(change.address, None)  # unknown: set again next pass
            if change.to is not None:
                failed[change.address] = (f"{MIRROR}: {error}", False)
            continue
        now[change.address] = change.to
        _log_mirror(change)
    return failed, {address: to for address, to in now.items() if address in devices}


def _log_mirror(change: MirrorChange) -> None:
    if change.to is not None:
        log.info("%s (%s VF %d): mirrored to %s", change.address, change.pf, change.vf, change.to)
    else:
        log.debug("%s (%s VF %d): not mirrored", change.address, change.pf, change.vf)


def _with_mirror(port: PortReport, failure: tuple[str, bool] | None) -> PortReport:
    """The port's report with its mirror's failure added: never ACTIVE without it."""
    if failure is None:
        return port
    reason, refused = failure
    return dataclasses.replace(
        port,
        state=PortState.ERROR,
        reason=f"{port.reason}; {reason}" if port.reason else reason,
        refused=(*port.refused, MIRROR) if refused else port.refused,
    )


def _read(
    driver: VfDriver, pfs: Iterable[str]
) -> tuple[dict[str, Mapping[int, VfSettings]], dict[str, str]]:
    tables: dict[str, Mapping[int, VfSettings]] = {}
    unreadable: dict[str, str] = {}
    for pf in pfs:
        try:
            tables[pf] = driver.read(pf)
        except DriverError as error:
            log.warning("PF %s: cannot read its VF table: %s", pf, error)
            unreadable[pf] = str(error)
    return tables, unreadable


def _apply(driver: VfDriver, changes: Iterable[Change]) -> _Failures:
    failures = _Failures()
    for change in changes:
        try:
            refused = driver.apply(change.pf, change.vf, change.wanted, change.attrs)
        except DriverError as error:
            log.warning("%s (%s VF %d): %s", change.address, change.pf, change.vf, error)
            failures.errors[change.address] = str(error)
            continue
        if refused:
            log.warning(
                "%s (%s VF %d) refused %s",
                change.address, change.pf, change.vf,
                ", ".join(f"{r.attr.value} ({r.reason})" for r in refused),
            )  # fmt: skip
            failures.refused[change.address] = refused
    return failures


def _report_leftover(
    change: Change,
    desired: DesiredState,
    after: Mapping[str, Mapping[int, VfSettings]],
    failures: _Failures,
    ports: list[PortReport],
    releases: list[ReleaseReport],
) -> None:
    """A change that still shows after read-back: say which attributes and why."""
    refused = failures.refused.get(change.address, ())
    reason = _why(change, after[change.pf][change.vf], refused, failures.errors)
    if change.kind is ChangeKind.CONFIGURE:
        claim = desired.claimed[change.address]
        refused_attrs = tuple(r.attr for r in refused if r.attr in change.attrs)
        ports.append(
            PortReport(
                claim.port_id, change.address, claim.claim_generation,
                PortState.ERROR, reason, refused_attrs,
            )
        )  # fmt: skip
        return
    generation = desired.released.get(change.address)
    if generation is not None:
        releases.append(ReleaseReport(change.address, generation, False, reason))
    else:
        log.warning("%s: left dirty, not released by the server: %s", change.address, reason)


def _why(
    change: Change,
    read_back: VfSettings,
    refused: tuple[Refusal, ...],
    errors: Mapping[PciAddress, str],
) -> str:
    if change.address in errors:
        return f"{change.address}: {errors[change.address]}"
    by_attr = {r.attr: r.reason for r in refused}
    parts = []
    for attr in change.attrs:
        if attr in by_attr:
            parts.append(f"{attr.value} refused by {change.pf}: {by_attr[attr]}")
        else:
            parts.append(
                f"{attr.value} reads back {_shown(read_back, attr)}, "
                f"wanted {_shown(change.wanted, attr)}"
            )
    return f"{change.address} ({change.pf} VF {change.vf}): " + "; ".join(parts)


def _shown(settings: VfSettings, attr: VfAttr) -> str:
    if attr is VfAttr.VLAN:
        return f"{settings.vlan} qos {settings.qos} {settings.vlan_proto}"
    if attr is VfAttr.RATE:
        return f"min {settings.min_tx_rate} max {settings.max_tx_rate} Mbps"
    value = getattr(settings, attr.value)
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)

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
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from vfnet.agent.desired import DesiredState
from vfnet.agent.drivers.base import Refusal, VfDriver
from vfnet.agent.plan import (
    Change,
    ChangeKind,
    PortReport,
    PortState,
    ReleaseReport,
    VfLocation,
    plan,
)
from vfnet.errors import DriverError
from vfnet.network.vf_settings import VfAttr, VfSettings
from vfnet.pci.address import PciAddress

__all__ = ["PassResult", "reconcile"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PassResult:
    """What one pass did and found, for the desired state at ``generation``."""

    generation: int
    ports: tuple[PortReport, ...] = ()
    releases: tuple[ReleaseReport, ...] = ()
    applied: tuple[Change, ...] = ()  # the changes attempted, refused ones included
    unreadable: Mapping[str, str] = field(default_factory=dict)  # PF -> driver's reason


@dataclass(slots=True)
class _Failures:
    """Why changes did not hold, by VF address: refusals and driver errors."""

    refused: dict[PciAddress, tuple[Refusal, ...]] = field(default_factory=dict)
    errors: dict[PciAddress, str] = field(default_factory=dict)


def reconcile(
    desired: DesiredState, devices: Mapping[PciAddress, VfLocation], driver: VfDriver
) -> PassResult:
    """Bring the VFs in ``devices`` (address -> PF netdev and VF index) to ``desired``.

    Every claimed VF gets a port report, every release the server asked for a release
    report; VFs outside ``devices`` are never read or written.
    """
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

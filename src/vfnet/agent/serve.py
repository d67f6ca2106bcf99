"""The agent's loop: an inventory pass, then the desired state long-polled, reconciled, reported.

Each turn runs :meth:`Agent.run_pass` (cheap when nothing moved), then, when a VF driver
is present, asks the server for the host's desired state newer than the one it last
reconciled and waits up to the interval for it (``wait``): a change on the server wakes
the agent at once, and a quiet server makes the poll the pause between turns. The
desired state is reconciled to the VFs the last inventory pass selected: their settings
first, then their netdevs brought where they belong (:mod:`vfnet.agent.attachments`),
then the instances' other parts built by the pluggers (VMs, normal ports). A port is
ACTIVE only when its settings and its attachment hold, a release verified only when
the VF reads RESET and its netdev is home. The outcome is posted as the host's status
when it differs from the last one posted. A driver that must keep ``auto`` VFs' links
in step with their PF's itself (the eswitch; a NIC does it on its own) is then asked
to, once a turn.

A failed turn (server unreachable, a driver error, a bad document) is logged in one
line and tried again an interval later; the agent never dies of it.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import httpx

from vfnet.agent.attachments import Attachments, AttachResult, InstancePlugger
from vfnet.agent.desired import DesiredState, parse_desired
from vfnet.agent.drivers.base import VfDriver
from vfnet.agent.loop import Agent, Discovery
from vfnet.agent.plan import ChangeKind, PortReport, PortState, VfLocation
from vfnet.agent.reconcile import PassResult, PlugReport, reconcile
from vfnet.errors import DriverError, VfnetError
from vfnet.network.vf_settings import VfSettings
from vfnet.pci.address import PciAddress

__all__ = ["DriverKeeper", "Reconciler", "serve", "status_body"]

log = logging.getLogger("vfnet.agent")

Json = dict[str, Any]
# The client gives up on a request after 30 s: a long poll must answer before that.
MAX_WAIT = 25.0


class DesiredApi(Protocol):
    """The part of ``vfnet.client.Client`` the reconcile step uses."""

    def get_desired(
        self, host: str, since: int | None = None, wait: float | None = None
    ) -> Json: ...

    def report_status(self, host: str, body: Mapping[str, Any]) -> Json: ...


@runtime_checkable
class FollowsUplinks(Protocol):
    """A driver that must itself keep ``auto`` VFs' links in step with their PF's (the
    eswitch: a NIC does it on its own)."""

    def follow_uplinks(self) -> Sequence[tuple[str, int, bool]]: ...


class DriverKeeper(Protocol):
    """The VF driver for the host as last discovered, kept in step with its VFs."""

    def driver_for(self, discovery: Discovery) -> VfDriver: ...


@dataclass(frozen=True, slots=True)
class Step:
    """One reconcile step: its outcome, the seconds left to wait, and what went wrong."""

    result: PassResult
    rest: float = 0.0
    problems: list[str] = field(default_factory=list)


class Reconciler:
    """Long-polls the desired state, reconciles it through the driver, the attachments and
    the pluggers, posts the status.

    Holds only what saves work: the generation last reconciled (for the long poll), the
    status last posted (not posted again), and the mirrors last set (no driver reads them
    back). A fresh one (a restarted agent) starts from the server and the NIC again.
    Without ``attachments`` VF netdevs stay where they are (a host without namespaces).
    """

    def __init__(
        self,
        server: DesiredApi,
        keeper: DriverKeeper,
        *,
        attachments: Attachments | None = None,
        pluggers: Sequence[InstancePlugger] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.server, self.keeper, self.clock = server, keeper, clock
        self.attachments, self.pluggers = attachments, tuple(pluggers)
        self._since: int | None = None
        self._posted: Json | None = None
        self._driver: VfDriver | None = None
        self._mirrored: Mapping[PciAddress, PciAddress | None] = {}
        self._managed: tuple[int, dict[PciAddress, VfLocation]] = (0, {})
        self._hurried = False  # the last turn asked for the next at once

    def step(self, host: str, discovery: Discovery, *, wait: float) -> Step:
        """One long poll (at most ``wait`` seconds, 0 for none), reconcile and report."""
        driver = self.keeper.driver_for(discovery)
        if driver is not self._driver:  # a new driver (a rebuilt switch) holds no mirrors
            self._driver, self._mirrored = driver, {}
        started = self.clock()
        poll = min(wait, MAX_WAIT) if wait > 0 else None
        desired = parse_desired(self.server.get_desired(host, since=self._since, wait=poll))
        news = desired.generation != self._since
        devices = self._devices(discovery)
        result = reconcile(desired, devices, driver, mirrored=self._mirrored)
        self._mirrored = result.mirrored
        _log_outcome(result, desired.claimed)
        placed = AttachResult()
        if self.attachments is not None:
            placed = self.attachments.sync(desired, devices, discovery)
            result = with_placement(result, placed)
        result, plug_problems = self._plug(desired, discovery, result)
        body = status_body(result)
        if body != self._posted:
            self.server.report_status(host, body)
            self._posted = body
            log.info("status: generation %d, %s", result.generation, _counts(result))
        self._since = desired.generation
        problems = [*_problems(result), *plug_problems, *_follow_uplinks(driver)]
        hurry, self._hurried = placed.hurry and not self._hurried, placed.hurry
        rest = 0.0 if news or hurry else max(0.0, wait - (self.clock() - started))
        return Step(result, rest, problems)

    def _plug(
        self, desired: DesiredState, discovery: Discovery, result: PassResult
    ) -> tuple[PassResult, list[str]]:
        """Each plugger's turn; its failures on ports as their ERRORs, others as problems.
        Normal ports are reported only when a plugger is there to plug them."""
        if not self.pluggers:
            return result, []
        failed: dict[str, str] = {}
        for plugger in self.pluggers:
            for key, reason in plugger.sync(desired, discovery).items():
                failed[key] = f"{failed[key]}; {reason}" if key in failed else reason
        claimed = {claim.port_id for claim in desired.claimed.values()}
        ports = tuple(
            _failed(port, failed[port.port_id]) if port.port_id in failed else port
            for port in result.ports
        )
        plugged = tuple(
            PlugReport(p.port_id, PortState.ERROR, failed[p.port_id])
            if p.port_id in failed
            else PlugReport(p.port_id, PortState.ACTIVE)
            for spec in desired.instances.values()
            for p in spec.bridge_ports
        )
        known = claimed | {p.port_id for p in plugged}
        problems = [f"{key}: {reason}" for key, reason in failed.items() if key not in known]
        for problem in problems:
            log.warning("%s", problem)
        return dataclasses.replace(result, ports=ports, plugged=plugged), problems

    def _devices(self, discovery: Discovery) -> dict[PciAddress, VfLocation]:
        if self._managed[0] != discovery.number:
            self._managed = (discovery.number, discovery.managed())
        return self._managed[1]


def with_placement(result: PassResult, placed: AttachResult) -> PassResult:
    """The pass's reports with the attachments' findings: a port whose VF is not where it
    belongs is ERROR, a release whose VF is not home is not verified."""
    ports = tuple(
        _failed(port, placed.failed[port.address]) if port.address in placed.failed else port
        for port in result.ports
    )
    releases = tuple(
        dataclasses.replace(release, verified=False, reason=placed.away[release.address])
        if release.verified and release.address in placed.away
        else release
        for release in result.releases
    )
    return dataclasses.replace(result, ports=ports, releases=releases)


def _failed(port: PortReport, reason: str) -> PortReport:
    joined = f"{port.reason}; {reason}" if port.reason else reason
    return dataclasses.replace(port, state=PortState.ERROR, reason=joined)


def status_body(result: PassResult) -> Json:
    """The body of the host's status report: each port's state, each release's check."""
    ports = sorted(result.ports, key=lambda p: (p.port_id, str(p.address)))
    plugged = sorted(result.plugged, key=lambda p: p.port_id)
    releases = sorted(result.releases, key=lambda r: r.address)
    return {
        "generation": result.generation,
        "ports": [
            *({"port_id": p.port_id, "status": p.state.value, "reason": p.reason,
               "refused": [str(attr) for attr in p.refused]} for p in ports),
            *({"port_id": p.port_id, "status": p.state.value, "reason": p.reason,
               "refused": []} for p in plugged),
        ],
        "releases": [
            {"address": str(r.address), "claim_generation": r.claim_generation,
             "verified": r.verified, "reason": r.reason}
            for r in releases
        ],
    }  # fmt: skip


def serve(
    agent: Agent,
    reconciler: Reconciler | None,
    *,
    interval: float,
    once: bool,
    stop: Callable[[float], bool],
) -> int:
    """Turns until ``stop(seconds)`` says so (or once): exit 0, or 1 after problems."""
    while True:
        rest = interval
        try:
            problems = agent.run_pass().problems
            if reconciler is not None and agent.discovery is not None:
                step = reconciler.step(agent.host, agent.discovery, wait=0.0 if once else interval)
                problems = [*problems, *step.problems]
                rest = step.rest
            failed = bool(problems)
        except (VfnetError, httpx.HTTPError, OSError) as error:
            log.error("pass: %s: %s; retrying in %gs", type(error).__name__, error, interval)
            failed, rest = True, interval
        if once:
            return 1 if failed else 0
        if stop(rest):
            return 0


def _follow_uplinks(driver: VfDriver) -> list[str]:
    """Once a turn, ``auto`` VFs set to their PF's link, one line each; the problem, if any."""
    if not isinstance(driver, FollowsUplinks):
        return []
    try:
        followed = driver.follow_uplinks()
    except DriverError as error:
        log.error("uplinks: %s", error)
        return [f"uplinks: {error}"]
    for pf, vf, up in followed:
        state = "up" if up else "down"
        log.info("PF %s link %s: VF %d (link_state auto) set %s", pf, state, vf, state)
    return []


def _problems(result: PassResult) -> list[str]:
    every: tuple[PortReport | PlugReport, ...] = (*result.ports, *result.plugged)
    ports = (p for p in every if p.state is PortState.ERROR)
    releases = (r for r in result.releases if not r.verified)
    return [
        *(f"port {p.port_id}: {p.reason}" for p in ports),
        *(f"release {r.address}: {r.reason}" for r in releases),
    ]


def _counts(result: PassResult) -> str:
    every: tuple[PortReport | PlugReport, ...] = (*result.ports, *result.plugged)
    active = sum(p.state is PortState.ACTIVE for p in every)
    verified = sum(r.verified for r in result.releases)
    return (
        f"{active} ports active, {len(every) - active} in error, "
        f"{verified} releases verified, {len(result.releases) - verified} not"
    )


def _log_outcome(result: PassResult, claimed: Mapping[PciAddress, Any]) -> None:
    """One line per VF written this pass: the settings read back, or why not."""
    ports = {p.address: p for p in result.ports}
    releases = {r.address: r for r in result.releases}
    for change in result.applied:
        where = f"{change.address} ({change.pf} VF {change.vf})"
        if change.kind is ChangeKind.CONFIGURE and change.address in ports:
            port = ports[change.address]
            if port.state is PortState.ACTIVE:
                log.info("port %s: ACTIVE on %s: %s", port.port_id, where, shown(change.wanted))
            else:
                log.warning("port %s: ERROR on %s: %s", port.port_id, where, port.reason)
        elif change.address in releases:
            release = releases[change.address]
            verdict = "reset verified" if release.verified else f"not verified: {release.reason}"
            log.info("release %s at claim generation %d: %s", where, release.claim_generation,
                     verdict)  # fmt: skip
        elif change.address not in claimed:
            log.info("reset %s: left dirty by someone else", where)


def shown(settings: VfSettings) -> str:
    """A VF's settings as one log line, the way ``ip link`` names them."""
    s = settings
    return (
        f"mac {s.mac}, vlan {s.vlan} qos {s.qos} {s.vlan_proto}, "
        f"min_tx_rate {s.min_tx_rate} max_tx_rate {s.max_tx_rate} Mbps, "
        f"spoofchk {'on' if s.spoofchk else 'off'}, trust {'on' if s.trust else 'off'}, "
        f"link_state {s.link_state.value}"
    )

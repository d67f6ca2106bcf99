"""The agent's inventory pass: config -> discover -> num_vfs -> select -> tag -> health -> report.

A pass first takes a cheap fingerprint of sysfs (``discovery.probe``) and the config
file's stat; when neither moved since the last pass, nothing failed, and no resync is
due, the pass ends there. Otherwise it reads the host fully, creates VFs, selects and
tags devices, judges their health, and sends the report when it differs from the last
one the server took.

``report_generation`` is seeded from the server: registering returns the host's last
applied generation and every report counts on from it, so a restarted agent (or one on
a reinstalled host) is never ignored as stale and keeps no state file of its own.

What the pass found last (:class:`Discovery`) is what the reconcile step that follows
(:mod:`vfnet.agent.serve`) manages: the selected VFs, located under their PFs.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from vfnet.agent.health import assess
from vfnet.agent.inventory import Report, Selection, build_report, select_devices, unhealthy
from vfnet.agent.numvfs import (
    NumVfsResult,
    VfNetdevWait,
    apply_num_vfs,
    find_pf,
    numvfs_writer,
)
from vfnet.agent.plan import VfLocation, locate
from vfnet.agent.settings import AgentSettings
from vfnet.config import HostConfig, load_host_config
from vfnet.discovery.probe import Fingerprint, fingerprint
from vfnet.discovery.sysfs import SysfsReader
from vfnet.discovery.topology import numa_sockets
from vfnet.errors import ConfigError
from vfnet.pci.address import PciAddress
from vfnet.pci.devices import HostDevices

log = logging.getLogger("vfnet.agent")

Json = dict[str, Any]
InUse = Callable[[], frozenset[PciAddress] | None]


class ServerApi(Protocol):
    """The part of ``vfnet.client.Client`` the agent uses."""

    def register_host(
        self,
        name: str,
        *,
        numa_sockets: Mapping[int, int] | None = None,
        physnets: Iterable[str] = (),
        bridges: Mapping[str, str] | None = None,
        manages_vfs: bool = False,
    ) -> Json: ...

    def report_inventory(
        self,
        host: str,
        report_generation: int,
        devices: Iterable[Mapping[str, Any]],
        problems: Iterable[str] | None = None,
    ) -> Json: ...

    def list_host_devices(self, host: str) -> list[Json]: ...


class ServerInUse:
    """The host's devices the server has claimed or allocated (its own host's list)."""

    def __init__(self, server: ServerApi, host: str) -> None:
        self.server, self.host = server, host

    def __call__(self) -> frozenset[PciAddress] | None:
        devices = self.server.list_host_devices(self.host)
        busy = (d for d in devices if d["state"] in ("claimed", "allocated") or d.get("owner"))
        return frozenset(PciAddress.parse(d["address"]) for d in busy)


@dataclass(frozen=True, slots=True)
class Discovery:
    """What the last full pass found: the host, its selected devices, and the config."""

    host: HostDevices
    selection: Selection
    config: HostConfig
    number: int  # counts full passes, so a follower can tell a new discovery

    def managed(self) -> dict[PciAddress, VfLocation]:
        """The selected VFs under their PF netdevs: what the reconcile step may touch."""
        chosen = {item.device.address for item in self.selection.devices}
        return {a: where for a, where in locate(self.host).items() if a in chosen}


@dataclass
class InventoryResult:
    """What one pass did: ``idle`` when the fingerprint said nothing changed."""

    idle: bool = False
    reported: bool = False
    problems: list[str] = field(default_factory=list)


def _config_stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)


class Agent:
    """One host's agent; ``start`` loads the config and registers, ``run_pass`` does the rest."""

    def __init__(
        self,
        settings: AgentSettings,
        server: ServerApi,
        *,
        in_use: InUse | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings, self.server, self.clock = settings, server, clock
        self._in_use = in_use
        self.config: HostConfig | None = None
        self._previous: HostConfig | None = None
        # Set when a VF driver runs the reconcile step: the server then publishes this
        # host's desired state and waits for its reports before a port goes ACTIVE.
        self.manages_vfs = False
        self.discovery: Discovery | None = None
        self._stamp: tuple[int, int, int] | None = None
        self._fingerprint: Fingerprint | None = None
        self._pfs: tuple[str, ...] = ()
        self._last_full = float("-inf")
        self._last_report: tuple[Report, tuple[str, ...]] | None = None
        self._declared: tuple[list[str], dict[str, str]] | None = None  # physnets, bridges
        self._generation = 0
        self._dirty = True  # a pass failed or nothing was reported yet: do not idle
        self._problems: tuple[str, ...] = ()

    @property
    def host(self) -> str:
        assert self.config is not None
        return self.settings.host or self.config.name

    def start(self) -> None:
        """Load the config (ConfigError if bad: nothing to fall back on yet)."""
        self._stamp = _config_stamp(self.settings.config_path)
        self.config = load_host_config(self.settings.config_path, hostname=self.settings.host)
        log.info("config: %s, host %s, sysfs %s", self.config.source, self.host, self.root)
        if self._in_use is None:
            self._in_use = ServerInUse(self.server, self.host)

    @property
    def root(self) -> Path:
        assert self.config is not None
        return self.config.sysfs_root

    def run_pass(self) -> InventoryResult:
        reloaded = self._reload_config()
        mark = fingerprint(self.root, self._pfs)
        due = self.clock() - self._last_full >= self.settings.resync
        if not (reloaded or due or self._dirty or mark != self._fingerprint):
            log.debug("pass: nothing changed")
            return InventoryResult(idle=True, problems=list(self._problems))
        self._last_full = self.clock()
        self._dirty = True
        host, results = self._discover_and_create(mark)
        selection = self._select(host, reloaded)
        if selection is None:
            return InventoryResult(problems=list(self._problems))
        self._found(host, selection)
        assert self.config is not None  # _select keeps a loaded config
        declared = (selection.physnets, dict(self.config.bridges))
        if declared != self._declared:  # first: the server knows no host before
            self._register(*declared)
        problems = [*(r.error for r in results if r.error), *selection.problems]
        self._note_problems(problems)
        log.info("tag: %s", ", ".join(f"{k} {n}" for k, n in selection.tag_counts().items()))
        report = build_report(
            selection.devices, assess(host, self._current_in_use() or frozenset())
        )
        sick = unhealthy(report)
        log.info("health: %d healthy, %d unhealthy", len(report) - len(sick), len(sick))
        for address, reasons in sick:
            log.info("health: %s: %s", address, "; ".join(reasons))
        reported = self._report(report, tuple(problems))
        self._dirty = False
        return InventoryResult(reported=reported, problems=problems)

    def _found(self, host: HostDevices, selection: Selection) -> None:
        assert self.config is not None
        number = self.discovery.number + 1 if self.discovery else 1
        self.discovery = Discovery(host, selection, self.config, number)

    def _discover_and_create(self, mark: Fingerprint) -> tuple[HostDevices, list[NumVfsResult]]:
        assert self.config is not None
        host = self._discover()
        results: list[NumVfsResult] = []
        if self.config.num_vfs:
            writer = numvfs_writer(self.root)
            wait = VfNetdevWait(self.root, timeout=self.settings.vf_wait)
            in_use = self._current_in_use() if _needs_in_use(self.config, host) else frozenset()
            results = apply_num_vfs(self.config.num_vfs, host, writer, in_use, wait)
            if any(result.written for result in results):
                mark = fingerprint(self.root, self._pfs)
                host = self._discover()
        pfs = tuple(str(pf.address) for pf in host.pfs())
        # Taken before the read it stands for, so a change during the read shows next
        # pass; taken over other PFs than the host now has, it is of no use.
        self._fingerprint = mark if pfs == self._pfs else None
        self._pfs = pfs
        return host, results

    def _discover(self) -> HostDevices:
        started = time.perf_counter()
        host = SysfsReader(self.root).read()
        pfs = host.pfs()
        log.info(
            "discover: %d functions, %d PFs, %d VFs under %s (%.0f ms)",
            len(host), len(pfs), sum(len(host.vfs_of(pf.address)) for pf in pfs),
            self.root, (time.perf_counter() - started) * 1000,
        )  # fmt: skip
        return host

    def _current_in_use(self) -> frozenset[PciAddress] | None:
        return self._in_use() if self._in_use is not None else None

    def _reload_config(self) -> bool:
        """Re-read a changed config file; a bad one is logged and the old one kept."""
        stamp = _config_stamp(self.settings.config_path)
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        try:
            config = load_host_config(self.settings.config_path, hostname=self.settings.host)
        except ConfigError as error:
            log.error("config: %s; keeping the previous config", error)
            return False
        self._previous, self.config = self.config, config
        log.info("config: %s changed, reloaded", config.source)
        return True

    def _select(self, host: HostDevices, reloaded: bool) -> Selection | None:
        assert self.config is not None
        try:
            selection = select_devices(self.config, host)
        except ConfigError as error:
            if not reloaded or self._previous is None:
                log.error("select: %s; nothing reported this pass", error)
                self._note_problems([str(error)])
                return None
            log.error("config: %s; keeping the previous config", error)
            self.config = self._previous
            return self._select(host, reloaded=False)
        log.info("select: %d devices chosen by %s", len(selection.devices), self.config.source)
        return selection

    def _note_problems(self, problems: list[str]) -> None:
        """Log each problem when it first appears, not on every pass."""
        for problem in problems:
            if problem not in self._problems:
                log.error("%s", problem)
        self._problems = tuple(problems)

    def _report(self, report: Report, problems: tuple[str, ...]) -> bool:
        """Send the devices and the host's problems (so the server can show them) when
        either changed since the last report the server took."""
        if (report, problems) == self._last_report:
            log.info("report: unchanged, not sent")
            return False
        self._generation += 1
        send = self.server.report_inventory
        result = send(self.host, self._generation, report, list(problems))
        if not result["applied"]:  # someone reported a newer generation: count on from it
            self._generation = int(result["report_generation"]) + 1
            result = send(self.host, self._generation, report, list(problems))
        self._last_report = (report, problems)
        log.info(
            "report: generation %d, %d devices (added %d, removed %d, vanished %d)",
            self._generation, len(report), len(result["added"]), len(result["removed"]),
            len(result["vanished"]),
        )  # fmt: skip
        return True

    def _register(self, physnets: list[str], bridges: dict[str, str]) -> None:
        sockets = numa_sockets(self.root)
        host = self.server.register_host(
            self.host,
            numa_sockets=sockets,
            physnets=physnets,
            bridges=bridges,
            manages_vfs=self.manages_vfs,
        )
        self._declared = (physnets, bridges)
        self._generation = max(self._generation, int(host["report_generation"]))
        log.info(
            "register: %s, physnets %s, NUMA sockets %s%s", self.host, physnets, sockets,
            ", VFs managed here" if self.manages_vfs else "",
        )  # fmt: skip


def _needs_in_use(config: HostConfig, host: HostDevices) -> bool:
    """Asking the server is needed only when a PF that has VFs is to change its count."""
    for key, wanted in config.num_vfs.items():
        pf = find_pf(key, host)
        if pf is not None and pf.sriov is not None and 0 < pf.sriov.num_vfs != wanted:
            return True
    return False

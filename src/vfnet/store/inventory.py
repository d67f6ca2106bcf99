"""Host inventories persisted: load a host, let HostInventory decide, write back with a CAS.

Every change follows Placement's optimistic concurrency: read the host generation and its
device rows, run the pure operation (``vfnet.inventory.claims.HostInventory``), then in
one transaction compare-and-set the generation and write only the rows that changed. A
writer that lost the race gets StaleGeneration and its transaction rolls back.

A loaded HostInventory is kept per host, keyed by generation, and handed to one caller
at a time: a hit costs one generation read instead of every device row.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import sqlalchemy as sa

from vfnet.errors import NotFound, StaleGeneration
from vfnet.inventory.claims import HostInventory
from vfnet.inventory.requests import PciRequest
from vfnet.inventory.states import DeviceState
from vfnet.pci.address import PciAddress
from vfnet.store import claims, desired, devices, hosts, releasing
from vfnet.store.loaded import Loaded, held, still_tracked, unchanged
from vfnet.store.records import ClaimedDevice, ClaimRecord, ReportedDevice, ReportResult
from vfnet.store.tables import hosts as hosts_table

T = TypeVar("T")
# Bounded retries for operations the store runs on its own behalf (release, reports).
RETRIES = 5


@dataclass(frozen=True, slots=True)
class ClaimPlan:
    """A claim decided on a loaded inventory, not yet written."""

    loaded: Loaded
    owner: str
    picked: Mapping[PciAddress, str]  # address -> request id


class HostInventories:
    """Loads, changes and saves host inventories; one cached inventory per host."""

    def __init__(self, engine: sa.Engine, writer: sa.Engine) -> None:
        self._engine = engine
        self._writer = writer
        self._cache: dict[str, Loaded] = {}
        self._lock = threading.Lock()
        self._host_locks: dict[str, threading.Lock] = {}
        self.stale_retries = 0  # lost races seen by ``retrying``, for figures

    def host_lock(self, host: str) -> threading.Lock:
        """Serialises this process's writers on one host.

        Threads of one server then wait their turn instead of losing the CAS and
        reloading the host; the generation check still guards against other servers.
        """
        return self._host_locks.setdefault(host, threading.Lock())

    def retrying(self, attempt: Callable[[], T], attempts: int) -> T:
        """Run ``attempt``, again on StaleGeneration, at most ``attempts`` times in all."""
        for remaining in range(attempts - 1, -1, -1):
            try:
                return attempt()
            except StaleGeneration:
                with self._lock:
                    self.stale_retries += 1
                if remaining == 0:
                    raise
        raise ValueError(f"attempts must be at least 1, not {attempts}")

    # Claims

    def plan_claim(
        self,
        host: str,
        owner: str,
        requests: Sequence[PciRequest],
        *,
        numa_cells: Iterable[int] | None,
    ) -> ClaimPlan:
        """Pick the devices, keeping each request off the PFs that refused what it needs."""
        with self._engine.connect() as conn:
            generation, refused = hosts.generation_and_refused(conn, host)
            loaded = self._checkout_at(conn, host, generation)
        cells = None if numa_cells is None else frozenset(numa_cells)
        claim = loaded.inventory.claim(
            owner, requests, numa_cells=cells, sockets=loaded.sockets, refused=refused
        )
        picked = {
            address: request_id
            for request_id, addresses in claim.devices.items()
            for address in addresses
        }
        return ClaimPlan(loaded, owner, picked)

    def commit(self, plan: ClaimPlan) -> ClaimRecord:
        loaded = plan.loaded

        def claim_rows(conn: sa.Connection) -> None:
            claims.add(conn, loaded.host, plan.owner, plan.picked)
            releasing.bump_claim_generations(conn, loaded.host, plan.picked)

        generation = self._save(loaded, claim_rows, touched=plan.picked)
        taken = [ClaimedDevice(a, rid, claims.CLAIMED) for a, rid in plan.picked.items()]
        return claims.record(plan.owner, loaded.host, generation, taken)

    def release(self, owner: str) -> list[ClaimRecord]:
        """Free what ``owner`` holds on every host; returns what was freed.

        On a host whose agent manages its VFs, a freed VF is releasing instead, until the
        agent reports its reset verified (``verify_resets``).
        """
        with self._engine.connect() as conn:
            names = claims.hosts_of(conn, owner)
        return [
            self.retrying(functools.partial(self._release_once, owner, host), RETRIES)
            for host in names
        ]

    def _release_once(self, owner: str, host: str) -> ClaimRecord:
        with self.host_lock(host):
            loaded = self._checkout(host)
            before = held(loaded.inventory, owner)
            freed = loaded.inventory.release(owner)
            with self._engine.connect() as conn:
                verified_here = releasing.manages_vfs(conn, host)
            if verified_here:
                waiting = releasing.resettable(loaded.inventory, freed)
                loaded.inventory = releasing.with_transitions(
                    loaded.inventory, "await_reset", waiting
                )

            def rows(conn: sa.Connection) -> None:
                claims.remove(conn, host, owner)
                desired.bump(conn, [host])

            generation = self._save(loaded, rows, [device.address for device in before])
            return ClaimRecord(owner, host, before, generation)

    def verify_resets(
        self, host: str, reported: Mapping[PciAddress, int], *, problem: str | None = None
    ) -> list[PciAddress]:
        """Free the releasing devices whose reset was verified at their current claim
        generation (``reported``: address -> claim generation); returns those freed.
        ``problem`` is added to the host's problems in the same transaction, if any is."""

        def rows(conn: sa.Connection) -> None:
            desired.bump(conn, [host])
            if problem is not None:
                hosts.add_problem(conn, host, problem)

        def once() -> list[PciAddress]:
            with self.host_lock(host):
                loaded = self._checkout(host)
                with self._engine.connect() as conn:
                    current = releasing.releasing(conn, host)
                # Rows read after the checkout: a write in between moved the generation,
                # and the compare-and-set below refuses this one.
                waiting = {a: g for a, g in current.items() if _is_releasing(loaded, a)}
                freed = releasing.verifiable(waiting, reported)
                if not freed:
                    self._checkin(loaded)
                    return []
                loaded.inventory = releasing.with_transitions(
                    loaded.inventory, "reset_verified", freed
                )
                self._save(loaded, rows, freed)
                return freed

        return self.retrying(once, RETRIES)

    def allocate(self, owner: str) -> list[ClaimRecord]:
        return self._for_each_host(
            owner,
            lambda inventory: inventory.allocate(owner),
            lambda conn, host: claims.mark_allocated(conn, host, owner),
        )

    def move(self, owner: str, new_owner: str) -> list[ClaimRecord]:
        return self._for_each_host(
            owner,
            lambda inventory: inventory.move(owner, new_owner),
            lambda conn, host: claims.change_owner(conn, host, owner, new_owner),
            held_by=new_owner,
        )

    # Reports

    def report(
        self,
        host: str,
        report_generation: int,
        reported: Sequence[ReportedDevice],
        problems: Sequence[str] | None = None,
    ) -> ReportResult:
        """Replace the host's inventory with ``reported``, unless an older report came late;
        ``problems`` (None: not sent) replace what the agent could not do last time."""

        def once() -> ReportResult:
            with self.host_lock(host):
                return self._report_once(host, report_generation, reported, problems)

        return self.retrying(once, RETRIES)

    def _report_once(
        self,
        host: str,
        report_generation: int,
        reported: Sequence[ReportedDevice],
        problems: Sequence[str] | None,
    ) -> ReportResult:
        loaded = self._checkout(host)
        current = self._report_generation(host)
        if report_generation <= current:
            self._checkin(loaded)
            return ReportResult(host, False, loaded.generation, current)
        selected = [devices.selected_of(item) for item in reported]
        unhealthy = frozenset(item.address for item in reported if not item.healthy)
        folded = loaded.inventory.apply_report(selected, unhealthy)
        reasons = {item.address: item.health_reasons for item in reported}
        now = datetime.now(UTC)
        stamp: dict[str, object] = {"report_generation": report_generation, "reported_at": now}
        if problems is not None:
            stamp["problems"] = list(problems)
        if unchanged(loaded, reasons):
            # The periodic report of a quiet host: no generation bump, so claims in
            # flight on it are not sent round again. The mutated copy is dropped.
            with self._writer.begin() as conn:
                applied = hosts.note_report(
                    conn, host, report_generation=report_generation, values=stamp
                )
            return ReportResult(host, applied, loaded.generation, report_generation)
        loaded.reasons = reasons
        generation = self._save(loaded, lambda conn: None, host_values=stamp)
        return ReportResult(
            host,
            True,
            generation,
            report_generation,
            added=folded.added,
            removed=folded.removed,
            updated=folded.updated,
            deferred=folded.deferred,
            vanished=folded.vanished,
        )

    # Loading and saving

    def _checkout(self, host: str) -> Loaded:
        """The host's inventory for one caller: the cached one if still current, else read."""
        with self._engine.connect() as conn:
            return self._checkout_at(conn, host, hosts.generation(conn, host))

    def _checkout_at(self, conn: sa.Connection, host: str, generation: int) -> Loaded:
        """``_checkout`` once the host's generation has been read on ``conn``."""
        cached = self._cache.pop(host, None)
        if cached is not None and cached.generation == generation:
            return cached
        rows = devices.load(conn, host)
        sockets = _sockets(conn, host)
        inventory = rows.inventory(generation)
        before = {item.address: item for item in rows.tracked()}
        return Loaded(host, generation, inventory, before, rows.reasons, sockets)

    def _checkin(self, loaded: Loaded) -> None:
        self._cache[loaded.host] = loaded

    def _save(
        self,
        loaded: Loaded,
        extra: Callable[[sa.Connection], None],
        touched: Iterable[PciAddress] | None = None,
        host_values: Mapping[str, object] | None = None,
    ) -> int:
        """Write the inventory's changes and bump the generation, all or nothing.

        ``touched`` names the only devices that can have changed (with their
        relatives); without it every device is compared, as after a report.
        """
        if touched is None:
            before, after = loaded.before, loaded.inventory.devices()
        else:
            addresses = loaded.with_relatives(touched)
            before = {a: loaded.before[a] for a in addresses if a in loaded.before}
            after = still_tracked(loaded.inventory, addresses)
        with self._writer.begin() as conn:
            generation = hosts.bump_generation(
                conn, loaded.host, loaded.generation, **(host_values or {})
            )
            # Claim rows first: a released device that vanished goes with its claim row.
            extra(conn)
            devices.write_changes(conn, loaded.host, before, after, loaded.reasons)
            hosts.stamp_changed(conn, loaded.host)
        loaded.generation = generation
        if touched is None:
            loaded.before = {item.address: item for item in after}
            loaded.index_children()
        else:
            for address in before:
                del loaded.before[address]
            loaded.before.update((item.address, item) for item in after)
        self._checkin(loaded)
        return generation

    def _for_each_host(
        self,
        owner: str,
        change: Callable[[HostInventory], object],
        claim_rows: Callable[[sa.Connection, str], None],
        *,
        held_by: str | None = None,
    ) -> list[ClaimRecord]:
        """Apply ``change`` on every host where ``owner`` holds devices, each retried."""
        with self._engine.connect() as conn:
            names = claims.hosts_of(conn, owner)
        holder = held_by or owner

        def once(host: str) -> ClaimRecord:
            with self.host_lock(host):
                return locked(host)

        def locked(host: str) -> ClaimRecord:
            loaded = self._checkout(host)
            before = held(loaded.inventory, owner)
            change(loaded.inventory)
            touched = [device.address for device in before]
            generation = self._save(loaded, lambda conn: claim_rows(conn, host), touched)
            return ClaimRecord(holder, host, held(loaded.inventory, holder), generation)

        return [self.retrying(functools.partial(once, host), RETRIES) for host in names]

    def _report_generation(self, host: str) -> int:
        with self._engine.connect() as conn:
            query = sa.select(hosts_table.c.report_generation).where(hosts_table.c.name == host)
            value = conn.execute(query).scalar()
        if value is None:
            raise NotFound("host", host)
        return int(value)


def _is_releasing(loaded: Loaded, address: PciAddress) -> bool:
    try:
        return loaded.inventory.device(address).state is DeviceState.RELEASING
    except NotFound:
        return False


def _sockets(conn: sa.Connection, host: str) -> dict[int, int | None]:
    query = sa.select(hosts_table.c.numa_sockets).where(hosts_table.c.name == host)
    stored = conn.execute(query).scalar() or {}
    return {int(cell): int(socket) for cell, socket in stored.items()}

"""The Store: one object the server holds, with a method per thing it persists."""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any

import sqlalchemy as sa

from vfnet.inventory.requests import PciRequest
from vfnet.store import changes, claims, devices, flavors, hosts, placements, tokens
from vfnet.store.agents import AgentStore
from vfnet.store.changes import HostFacts
from vfnet.store.engine import create_engine, database_url, upgrade, writer
from vfnet.store.instances import InstanceStore
from vfnet.store.inventory import ClaimPlan, HostInventories
from vfnet.store.networking import NetworkingStore
from vfnet.store.records import (
    ClaimRecord,
    DeviceRecord,
    FlavorRecord,
    HostRecord,
    PlacementRecord,
    PoolRecord,
    ReportedDevice,
    ReportResult,
    TokenRecord,
)


class Store(NetworkingStore, AgentStore, InstanceStore):
    """Persistence for the server. Thread-safe: each call takes its own connection.

    Networks, subnets, ports and QoS policies come from ``NetworkingStore``; what host
    agents read and report, from ``AgentStore``.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._writer = writer(engine)
        self.inventories = HostInventories(engine, self._writer)
        # SQLite has one writer at a time; a writer that finds the file locked sleeps in
        # SQLite's busy handler, backing off up to 100 ms. Threads of this process queue
        # here instead and start the moment the previous writer commits.
        self._sqlite_writers = threading.Lock() if engine.dialect.name == "sqlite" else None

    @classmethod
    def open(cls, url: str | None = None, *, pool_size: int = 20) -> Store:
        """Connect to ``url`` (else ``VFNET_DATABASE_URL``, else ./vfnet.db) at schema head."""
        engine = create_engine(database_url(url), pool_size=pool_size)
        upgrade(engine)
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        with self._sqlite_writers or nullcontext(), self._writer.begin() as conn:
            yield conn

    # tokens
    def create_token(
        self, role: str, *, project: str | None = None, host: str | None = None, name: str = ""
    ) -> tuple[str, TokenRecord]:
        with self._write() as conn:
            return tokens.create(conn, role, project=project, host=host, name=name)

    def token_for(self, plaintext: str) -> TokenRecord | None:
        with self._read() as conn:
            return tokens.for_plaintext(conn, plaintext)

    def list_tokens(self) -> list[TokenRecord]:
        with self._read() as conn:
            return tokens.list_all(conn)

    def revoke_token(self, token_id: str) -> None:
        with self._write() as conn:
            tokens.revoke(conn, token_id)

    # hosts
    def register_host(
        self,
        name: str,
        *,
        numa_sockets: Mapping[int, int] | None = None,
        physnets: Iterable[str] = (),
        bridges: Mapping[str, str] | None = None,
        manages_vfs: bool = False,
    ) -> HostRecord:
        """``manages_vfs``: its agent verifies each released VF's reset before it is free."""
        with self._write() as conn:
            return hosts.register(
                conn,
                name,
                numa_sockets=numa_sockets,
                physnets=physnets,
                bridges=bridges,
                manages_vfs=manages_vfs,
            )

    def get_host(self, name: str) -> HostRecord:
        with self._read() as conn:
            return hosts.get(conn, name)

    def list_hosts(self) -> list[HostRecord]:
        with self._read() as conn:
            return hosts.list_all(conn)

    def host_changes(self, since: int) -> tuple[int, list[str]]:
        """The new high-water mark and the hosts whose free devices moved after ``since``."""
        with self._read() as conn:
            return changes.changed_since(conn, since)

    def host_facts(self, names: Collection[str] | None = None) -> list[HostFacts]:
        """Free counts per pool and the declared facts of ``names`` (None: every host)."""
        with self._read() as conn:
            return changes.facts(conn, names)

    # inventory, devices and pools
    def report_inventory(
        self,
        host: str,
        report_generation: int,
        reported: Sequence[ReportedDevice],
        problems: Sequence[str] | None = None,
    ) -> ReportResult:
        return self.inventories.report(host, report_generation, reported, problems)

    def list_devices(
        self,
        *,
        host: str | None = None,
        dev_type: str | None = None,
        state: str | None = None,
        physnet: str | None = None,
    ) -> list[DeviceRecord]:
        with self._read() as conn:
            return devices.list_records(
                conn, host=host, dev_type=dev_type, state=state, physnet=physnet
            )

    def get_device(self, host: str, address: Any) -> DeviceRecord:
        with self._read() as conn:
            return devices.get_record(conn, host, address)

    def list_pools(self, host: str | None = None) -> list[PoolRecord]:
        return devices.pools_of(self.list_devices(host=host))

    # claims
    def claim(
        self,
        host: str,
        owner: str,
        requests: Sequence[PciRequest],
        *,
        numa_cells: Sequence[int] | None = None,
    ) -> ClaimRecord:
        """Claim devices for ``owner`` in one transaction; StaleGeneration if the host moved on."""
        with self.inventories.host_lock(host):
            return self.commit(self.plan_claim(host, owner, requests, numa_cells=numa_cells))

    def plan_claim(
        self,
        host: str,
        owner: str,
        requests: Sequence[PciRequest],
        *,
        numa_cells: Sequence[int] | None = None,
    ) -> ClaimPlan:
        """Decide which devices ``owner`` gets, from the host as it is now; nothing written."""
        return self.inventories.plan_claim(host, owner, requests, numa_cells=numa_cells)

    def commit(self, plan: ClaimPlan) -> ClaimRecord:
        """Write a planned claim, if the host is still at the generation it was planned on."""
        return self.inventories.commit(plan)

    def claim_with_retry(
        self,
        host: str,
        owner: str,
        requests: Sequence[PciRequest],
        *,
        numa_cells: Sequence[int] | None = None,
        attempts: int = 5,
    ) -> ClaimRecord:
        """``claim``, retried on StaleGeneration up to ``attempts`` times in all."""
        return self.inventories.retrying(
            lambda: self.claim(host, owner, requests, numa_cells=numa_cells), attempts
        )

    def release(self, owner: str) -> list[ClaimRecord]:
        """Free everything ``owner`` holds on every host; releasing nothing is fine."""
        return self.inventories.release(owner)

    def allocate(self, owner: str) -> list[ClaimRecord]:
        return self.inventories.allocate(owner)

    def move_claim(self, owner: str, new_owner: str) -> list[ClaimRecord]:
        return self.inventories.move(owner, new_owner)

    def claims_of(self, owner: str) -> list[ClaimRecord]:
        with self._read() as conn:
            return claims.of_owner(conn, owner)

    # flavors
    def create_flavor(
        self,
        name: str,
        vcpus: int,
        ram_mb: int,
        numa_cells: int = 0,
        extra_specs: Mapping[str, str] | None = None,
    ) -> FlavorRecord:
        with self._write() as conn:
            return flavors.create(conn, name, vcpus, ram_mb, numa_cells, extra_specs or {})

    def get_flavor(self, name: str) -> FlavorRecord:
        with self._read() as conn:
            return flavors.get(conn, name)

    def list_flavors(self) -> list[FlavorRecord]:
        with self._read() as conn:
            return flavors.list_all(conn)

    def delete_flavor(self, name: str) -> None:
        with self._write() as conn:
            flavors.delete(conn, name)

    # placements
    def record_placement(
        self,
        instance_id: str,
        claim: ClaimRecord,
        *,
        project: str | None = None,
        request: Mapping[str, Any] | None = None,
    ) -> PlacementRecord:
        with self._write() as conn:
            return placements.record(
                conn, instance_id, claim.host, claim.owner, project=project, request=request or {}
            )

    def get_placement(self, instance_id: str) -> PlacementRecord:
        with self._read() as conn:
            return placements.get(conn, instance_id)

    def list_placements(self, *, project: str | None = None) -> list[PlacementRecord]:
        with self._read() as conn:
            return placements.list_all(conn, project=project)

    def move_placement(self, instance_id: str, claim: ClaimRecord) -> None:
        """Point a placement at the claim that now holds its devices (after a migration)."""
        with self._write() as conn:
            placements.move(conn, instance_id, claim.host, claim.owner)

    def delete_placement(self, instance_id: str) -> None:
        with self._write() as conn:
            placements.delete(conn, instance_id)

"""POST /v1/placements end to end over a synthetic fleet, with the view kept by deltas.

Each host reports 4 X710 PFs (8086:1572) with 64 VFs each (8086:154c); the VFs of
PFs 0 and 1 are on physnet1, those of PFs 2 and 3 on physnet2; PFs alternate NUMA
nodes 0 and 1. Every placement asks for 2 VFs on physnet1 with numa_cells [0, 1],
through the app in-process (TestClient). Prints JSON lines: fill time, the cost of
loading the whole fleet into a view (what every placement paid when the view was
rebuilt per request), and the median ms per placement with the share spent in the
scheduler decision (sync included) and in the claim.

    .venv/bin/python bench/bench_placements.py [--hosts 100 1000] [--placements 200]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Sequence

from databases import postgres_url, sqlite_url
from fastapi.testclient import TestClient

from vfnet.api.app import create_app
from vfnet.api.fleet import FleetCache
from vfnet.api.placing import Candidate, Chooser, Wanted
from vfnet.inventory.requests import PciRequest
from vfnet.pci.address import PciAddress
from vfnet.pci.devices import DeviceType
from vfnet.store import ClaimRecord, ReportedDevice, Store

PFS, VFS_PER_PF = 4, 64


def host_report() -> list[ReportedDevice]:
    report = []
    for pf_index in range(PFS):
        pf = PciAddress(0, 0x3B + pf_index, 0, 0)
        numa = pf_index % 2
        tags = {"physical_network": "physnet1" if pf_index < 2 else "physnet2"}
        report.append(ReportedDevice(pf, DeviceType.PF, "8086", "1572", numa, tags=tags))
        for vf_index in range(VFS_PER_PF):
            address = PciAddress(0, pf.bus, 2 + vf_index // 8, vf_index % 8)
            report.append(
                ReportedDevice(
                    address, DeviceType.VF, "8086", "154c", numa, pf, vf_index, tags=tags
                )
            )
    return report


class TimedStore(Store):
    """The store, with the time spent in claims summed."""

    claim_seconds = 0.0

    def claim(
        self,
        host: str,
        owner: str,
        requests: Sequence[PciRequest],
        *,
        numa_cells: Sequence[int] | None = None,
    ) -> ClaimRecord:
        started = time.perf_counter()
        try:
            return super().claim(host, owner, requests, numa_cells=numa_cells)
        finally:
            self.claim_seconds += time.perf_counter() - started


class TimedChooser:
    """A chooser with the time spent deciding (sync and selection) summed."""

    def __init__(self, inner: Chooser) -> None:
        self.inner = inner
        self.seconds = 0.0

    def candidates(self, wanted: Wanted) -> Sequence[Candidate]:
        started = time.perf_counter()
        try:
            return self.inner.candidates(wanted)
        finally:
            self.seconds += time.perf_counter() - started

    def claimed(self, candidate: Candidate, generation: int) -> None:
        self.inner.claimed(candidate, generation)


def fill(store: Store, hosts: int) -> float:
    started = time.perf_counter()
    report = host_report()
    for n in range(hosts):
        name = f"compute-{n:05d}"
        store.register_host(name, numa_sockets={0: 0, 1: 1}, physnets=["physnet1", "physnet2"])
        store.report_inventory(name, 1, report)
    return time.perf_counter() - started


def full_load_ms(store: Store) -> float:
    started = time.perf_counter()
    FleetCache(store).sync()
    return (time.perf_counter() - started) * 1000


def place_all(store: TimedStore, placements: int) -> dict[str, object]:
    chooser = TimedChooser(FleetCache(store))
    app = create_app(store, chooser=chooser)
    token, _ = store.create_token("admin", name="bench")
    headers = {"Authorization": f"Bearer {token}"}
    ports = [{"id": f"p{n}", "vnic_type": "direct", "physnet": "physnet1"} for n in range(2)]
    elapsed, decide, claim = [], [], []
    with TestClient(app) as client:
        started = time.perf_counter()
        chooser.inner.candidates(Wanted((), None, "pack"))  # the first sync loads every host
        first_sync_ms = (time.perf_counter() - started) * 1000
        for n in range(placements):
            body = {"instance_id": f"vm-{n}", "ports": ports, "numa_cells": [0, 1]}
            chooser.seconds, store.claim_seconds = 0.0, 0.0
            started = time.perf_counter()
            response = client.post("/v1/placements", json=body, headers=headers)
            elapsed.append(time.perf_counter() - started)
            assert response.status_code == 201, response.text
            decide.append(chooser.seconds)
            claim.append(store.claim_seconds)
    total = sum(elapsed)
    return {
        "first_sync_ms": round(first_sync_ms, 1),
        "placements": placements,
        "median_ms": round(statistics.median(elapsed) * 1000, 2),
        "p90_ms": round(statistics.quantiles(elapsed, n=10)[-1] * 1000, 2),
        "decision_median_ms": round(statistics.median(decide) * 1000, 2),
        "claim_median_ms": round(statistics.median(claim) * 1000, 2),
        "decision_share": round(sum(decide) / total, 3),
        "claim_share": round(sum(claim) / total, 3),
    }


def run(backend: str, url: str, hosts: int, placements: int) -> None:
    store = TimedStore.open(url)
    try:
        fill_s = fill(store, hosts)
        figures = {"backend": backend, "hosts": hosts, "devices": hosts * PFS * (1 + VFS_PER_PF)}
        figures |= {"fill_s": round(fill_s, 1), "full_load_ms": round(full_load_ms(store), 1)}
        figures |= place_all(store, placements)
        print(json.dumps(figures), flush=True)
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--placements", type=int, default=200)
    parser.add_argument("--postgres", help="also run on this PostgreSQL url, in a fresh schema")
    args = parser.parse_args()
    for hosts in args.hosts:
        with sqlite_url() as url:
            run("sqlite", url, hosts, args.placements)
        if args.postgres:
            with postgres_url(args.postgres) as url:
                run("postgresql", url, hosts, args.placements)


if __name__ == "__main__":
    main()

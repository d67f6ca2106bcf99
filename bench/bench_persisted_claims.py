"""Persisted claims under contention: 16 clients claiming 1-2 VFs on 50 hosts until exhausted.

Each host reports 4 X710 PFs with 64 VFs each. Runs on a SQLite file, and on PostgreSQL
when reachable (``VFNET_TEST_POSTGRES``, else the local default), in a schema of its own.
Prints JSON lines: report and claim throughput, lost races retried, and the final check
that no device was booked twice and none was lost.

    .venv/bin/python bench/bench_persisted_claims.py [--hosts 50] [--clients 16] [--servers 1 2]

With two servers (two Store objects sharing the clients) writers of different servers
race on the host generation, so the figures show the compare-and-set retries too.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import threading
import time
from collections import Counter

import sqlalchemy as sa
from databases import DEFAULT_POSTGRES, postgres_reachable, postgres_url, sqlite_url

from vfnet.errors import InsufficientDevices, StaleGeneration
from vfnet.inventory.requests import PciRequest
from vfnet.pci.address import PciAddress
from vfnet.pci.devices import DeviceType
from vfnet.store import ReportedDevice, Store

PFS = 4
VFS_PER_PF = 64


def host_report() -> list[ReportedDevice]:
    report = []
    for pf_index in range(PFS):
        pf = PciAddress(0, 0x3B + pf_index, 0, 0)
        numa = pf_index // 2
        tags = {"physical_network": "physnet1"}
        report.append(ReportedDevice(pf, DeviceType.PF, "8086", "1572", numa, tags=tags))
        for vf_index in range(VFS_PER_PF):
            address = PciAddress(0, pf.bus, 2 + vf_index // 8, vf_index % 8)
            report.append(
                ReportedDevice(
                    address, DeviceType.VF, "8086", "154c", numa, pf, vf_index, tags=tags
                )
            )
    return report


def vf_request(count: int) -> PciRequest:
    return PciRequest(count, ({"dev_type": "type-VF"},), request_id="ports")


class Client:
    """One API worker: claims on random hosts until every host is out of VFs."""

    def __init__(self, store: Store, hosts: list[str], full: set[str], seed: int) -> None:
        self.store, self.hosts, self.full = store, hosts, full
        self.random = random.Random(seed)
        self.won: list[str] = []
        self.claims = 0
        self.gave_up = 0

    def run(self, name: str) -> None:
        serial = 0
        while open_hosts := [h for h in self.hosts if h not in self.full]:
            host = self.random.choice(open_hosts)
            count = self.random.choice((1, 2))
            serial += 1
            try:
                claim = self.store.claim_with_retry(
                    host, f"{name}-{serial}", [vf_request(count)], attempts=5
                )
            except InsufficientDevices:
                if count == 1:
                    self.full.add(host)
                continue
            except StaleGeneration:
                self.gave_up += 1
                continue
            self.claims += 1
            self.won.extend(f"{host}/{address}" for address in claim.addresses)


def run(backend: str, url: str, hosts_count: int, clients_count: int, servers: int) -> None:
    """``servers`` Store objects share the clients, as several vfnet-server processes would."""
    stores = [Store.open(url, pool_size=clients_count) for _ in range(servers)]
    store = stores[0]
    hosts = [f"compute-{n:03d}" for n in range(hosts_count)]
    report = host_report()
    start = time.perf_counter()
    for host in hosts:
        store.register_host(host, numa_sockets={0: 0, 1: 1}, physnets=["physnet1"])
        store.report_inventory(host, 1, report)
    reported = time.perf_counter() - start
    figures = {
        "bench": "persisted_claims",
        "backend": backend,
        "servers": servers,
        "hosts": hosts_count,
    }
    print(
        json.dumps(
            {
                **figures,
                "devices": len(report) * hosts_count,
                "reports_per_second": round(hosts_count / reported, 1),
            }
        )
    )

    full: set[str] = set()
    clients = [Client(stores[n % servers], hosts, full, n) for n in range(clients_count)]
    threads = [
        threading.Thread(target=client.run, args=(f"c{n}",)) for n, client in enumerate(clients)
    ]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    claims = sum(client.claims for client in clients)
    print(
        json.dumps(
            {
                **figures,
                "clients": clients_count,
                "claims": claims,
                "seconds": round(elapsed, 2),
                "claims_per_second": round(claims / elapsed, 1),
                "retries": sum(each.inventories.stale_retries for each in stores),
                "gave_up_after_5_attempts": sum(client.gave_up for client in clients),
            }
        )
    )
    print(json.dumps({**figures, **check(store, clients, hosts_count)}))
    for each in stores:
        each.close()


def check(store: Store, clients: list[Client], hosts_count: int) -> dict[str, object]:
    """Zero double bookings, zero lost devices: every VF claimed once, none left free."""
    won = [device for client in clients for device in client.won]
    handed_twice = sum(n - 1 for n in Counter(won).values() if n > 1)
    total = hosts_count * PFS * VFS_PER_PF
    claimed = len(store.list_devices(dev_type="type-VF", state="claimed"))
    free = len(store.list_devices(dev_type="type-VF", state="available"))
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT count(*) FROM claims")).scalar_one()
    lost = total - claimed - free + abs(claimed - len(won)) + abs(rows - len(won))
    return {
        "check": "no double booking, no lost device",
        "vfs_total": total,
        "claimed": claimed,
        "free": free,
        "claim_rows": rows,
        "double_bookings": handed_twice,
        "lost_devices": lost,
        "ok": handed_twice == 0 and lost == 0 and free == 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--servers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    for servers in args.servers:
        with sqlite_url() as url:
            run("sqlite", url, args.hosts, args.clients, servers)
    base = os.environ.get("VFNET_TEST_POSTGRES") or DEFAULT_POSTGRES
    if not postgres_reachable(base):
        print(json.dumps({"bench": "persisted_claims", "backend": "postgresql", "skipped": base}))
        return
    for servers in args.servers:
        with postgres_url(base) as url:
            run("postgresql", url, args.hosts, args.clients, servers)


if __name__ == "__main__":
    main()

"""Many writers at once: no device is claimed twice and none is lost."""

from __future__ import annotations

import threading
from collections import Counter

import sqlalchemy as sa

from tests.functional.store.synthetic import host_report
from vfnet.errors import InsufficientDevices, StaleGeneration
from vfnet.inventory.requests import PciRequest
from vfnet.store import Store

HOSTS = ("compute-1", "compute-2", "compute-3")
THREADS = 8
VF_REQUEST = PciRequest(1, ({"dev_type": "type-VF"},), request_id="port-1")


def claim_until_exhausted(store: Store, worker: int, won: list[str], gave_up: list[int]) -> None:
    full: set[str] = set()
    serial = 0
    while len(full) < len(HOSTS):
        for host in HOSTS:
            if host in full:
                continue
            serial += 1
            try:
                claim = store.claim_with_retry(host, f"w{worker}-{serial}", [VF_REQUEST])
            except InsufficientDevices:
                full.add(host)
            except StaleGeneration:
                gave_up.append(worker)
            else:
                won.extend(f"{host}/{address}" for address in claim.addresses)


def test_eight_threads_claiming_until_exhausted_never_double_book(store, database_url):
    for host in HOSTS:
        store.register_host(host)
        store.report_inventory(host, 1, host_report(2, 6))
    second = Store.open(database_url)
    won: list[str] = []
    gave_up: list[int] = []
    workers = [
        threading.Thread(
            target=claim_until_exhausted, args=(store if n % 2 else second, n, won, gave_up)
        )
        for n in range(THREADS)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    second.close()

    total_vfs = len(HOSTS) * 2 * 6
    assert len(won) == len(set(won)), "a device was handed out twice"
    claimed = store.list_devices(dev_type="type-VF", state="claimed")
    assert (
        len(claimed) + len(store.list_devices(dev_type="type-VF", state="available")) == total_vfs
    )
    assert len(claimed) == total_vfs, "a free VF was left unclaimed"
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT owner FROM claims")).scalars().all()
    assert len(rows) == total_vfs
    assert max(Counter(rows).values()) == 1
    assert sum(pool.free for pool in store.list_pools() if pool.dev_type == "type-VF") == 0

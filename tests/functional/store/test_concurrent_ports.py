"""Many port creators at once, on one or two servers: no address or MAC is ever given twice."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable

import sqlalchemy as sa

from tests.functional.store.networking import ADMIN, PROJECT, addresses, port, subnet, vlan_network
from vfnet.errors import Conflict, IpAddressExhausted
from vfnet.network.macs import MacBase
from vfnet.network.ports import PortRequest
from vfnet.store import Store
from vfnet.store.records import FixedIpRequest, PortRecord

THREADS = 8
POOL = [{"start": "10.0.0.10", "end": "10.0.0.69"}]  # 60 addresses
POOL_SIZE = 60


def run_together(store: Store, database_url: str, work: Callable[[Store, int], None]) -> None:
    """``work(store, n)`` on THREADS threads, half of them through a second server's Store."""
    second = Store.open(database_url)
    try:
        threads = [
            threading.Thread(target=work, args=(store if n % 2 else second, n))
            for n in range(THREADS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        second.close()


def test_eight_creators_fill_a_subnet_exactly_with_no_address_twice(store, database_url):
    network = vlan_network(store)
    subnet(store, network.id, pools=POOL)
    made: list[PortRecord] = []
    full: list[int] = []

    def create_until_full(target: Store, worker: int) -> None:
        while True:
            try:
                made.append(port(target, network.id))
            except IpAddressExhausted:
                full.append(worker)
                return

    run_together(store, database_url, create_until_full)

    given = [ip for record in made for ip in addresses(record)]
    macs = [record.mac_address for record in made]
    assert len(given) == len(set(given)), "an address was given twice"
    assert len(macs) == len(set(macs)), "a MAC was given twice"
    assert len(made) == POOL_SIZE
    assert sorted(given) == sorted(f"10.0.0.{n}" for n in range(10, 70))
    assert sorted(full) == list(range(THREADS))
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM ip_free_ranges")).scalar_one() == 0


def test_creators_and_deleters_at_once_leave_every_address_held_or_free(store, database_url):
    network = vlan_network(store)
    made_subnet = subnet(store, network.id, pools=POOL)
    kept: list[PortRecord] = []

    def churn(target: Store, worker: int) -> None:
        for round_ in range(12):
            created = port(target, network.id)
            if round_ % 3:
                target.delete_port(created.id)
            else:
                kept.append(created)

    run_together(store, database_url, churn)

    held = sorted(ip for record in store.list_ports() for ip in addresses(record))
    assert len(held) == len(set(held)) == len(kept) == THREADS * 4
    # What is free now comes out lowest first, and is exactly what nobody holds.
    rest = [addresses(port(store, network.id))[0] for _ in range(POOL_SIZE - len(held))]
    expected_free = sorted(
        (f"10.0.0.{n}" for n in range(10, 70) if f"10.0.0.{n}" not in held),
        key=lambda text: int(text.rsplit(".", 1)[1]),
    )
    assert rest == expected_free
    assert store.get_subnet(made_subnet.id).id == made_subnet.id


def test_eight_creators_asking_for_one_address_leave_one_winner(store, database_url):
    network = vlan_network(store)
    made = subnet(store, network.id, pools=POOL)
    won: list[str] = []
    refused: list[str] = []

    def ask(target: Store, worker: int) -> None:
        try:
            won.append(
                port(target, network.id, fixed_ips=[FixedIpRequest(made.id, "10.0.0.20")]).id
            )
        except Conflict as error:
            refused.append(str(error))

    run_together(store, database_url, ask)

    assert len(won) == 1
    assert len(refused) == THREADS - 1
    assert all("fixed_ips: 10.0.0.20 is already in use" in reason for reason in refused)


class FourMacs:
    """A random source that draws from four values only, so creators collide on MACs."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)

    def getrandbits(self, k: int, /) -> int:
        return self._random.randrange(4)


def test_creators_colliding_on_generated_macs_never_share_one(store, database_url):
    network = vlan_network(store)
    base = MacBase.parse("fa:16:3e:00:00:00")
    made: list[PortRecord] = []
    crowded: list[str] = []

    def create(target: Store, worker: int) -> None:
        for _ in range(2):
            try:
                made.append(
                    target.create_port(
                        PortRequest(network.id),
                        project_id=PROJECT,
                        role=ADMIN,
                        base_mac=base,
                        random=FourMacs(worker),
                    )
                )
            except Conflict as error:
                crowded.append(str(error))

    run_together(store, database_url, create)

    macs = Counter(record.mac_address for record in made)
    assert len(made) == 4, "only four MACs exist under this random source"
    assert max(macs.values()) == 1
    assert len(crowded) == THREADS * 2 - 4
    assert all(reason.startswith("mac_address: no free MAC found") for reason in crowded)

"""Host change stamps and host facts: what a scheduler's view reloads, and what it reads."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.functional.store.synthetic import host_report, pf_address, vf
from vfnet.errors import StaleGeneration
from vfnet.inventory.requests import PciRequest
from vfnet.store import Store

HOST, OTHER = "compute-1", "compute-2"
VF_REQUEST = PciRequest(1, ({"dev_type": "type-VF"},), request_id="port-1")


@pytest.fixture
def fleet(store: Store) -> Store:
    """compute-1: 2 PFs x 2 VFs; compute-2: registered, no devices; vm-1 holds one VF."""
    store.register_host(HOST, numa_sockets={0: 0, 1: 1}, bridges={"physnet2": "br-ex"})
    store.register_host(OTHER)
    store.report_inventory(HOST, 1, host_report(2, 2))
    store.claim(HOST, "vm-1", [VF_REQUEST])
    return store


def changed_by(store: Store, step: Callable[[Store], object]) -> list[str]:
    high, _ = store.host_changes(-1)
    step(store)
    return store.host_changes(high)[1]


def free_of(store: Store, host: str) -> dict[tuple[str | None, str | None], int]:
    """Free count per (dev_type, PF address) of the host's pools."""
    [facts] = store.host_facts([host])
    return {(key.get("dev_type"), key.get("address")): n for key, n in facts.pools.items()}


def test_a_fresh_database_has_no_changes(store: Store) -> None:
    assert store.host_changes(-1) == (-1, [])


def test_registering_hosts_stamps_each_one_in_order(store: Store) -> None:
    store.register_host(HOST)
    store.register_host(OTHER)
    high, names = store.host_changes(-1)
    assert names == [HOST, OTHER]
    assert store.host_changes(high) == (high, [])


@pytest.mark.parametrize(
    "step",
    [
        lambda s: s.report_inventory(HOST, 2, host_report(2, 3)),
        lambda s: s.claim(HOST, "vm-2", [VF_REQUEST]),
        lambda s: s.release("vm-1"),
        lambda s: s.allocate("vm-1"),
        lambda s: s.move_claim("vm-1", "vm-1-moved"),
        lambda s: s.register_host(HOST, numa_sockets={0: 1}),
    ],
    ids=["report applied", "claim", "release", "allocate", "move", "registration"],
)
def test_every_write_that_can_change_free_devices_stamps_only_its_host(
    fleet: Store, step: Callable[[Store], object]
) -> None:
    assert changed_by(fleet, step) == [HOST]


@pytest.mark.parametrize(
    "step",
    [
        lambda s: s.report_inventory(HOST, 2, host_report(2, 2)),
        lambda s: s.report_inventory(HOST, 1, host_report(2, 3)),
        lambda s: s.release("nobody"),
        lambda s: s.create_flavor("small", 2, 2048),
    ],
    ids=["report changing nothing", "report older than the last", "empty release", "flavor"],
)
def test_writes_that_change_no_free_device_stamp_no_host(
    fleet: Store, step: Callable[[Store], object]
) -> None:
    assert changed_by(fleet, step) == []


def test_a_claim_that_lost_its_race_stamps_nothing(fleet: Store) -> None:
    plan = fleet.plan_claim(HOST, "vm-2", [VF_REQUEST])
    high, _ = fleet.host_changes(-1)
    fleet.claim(HOST, "vm-3", [VF_REQUEST])
    moved, _ = fleet.host_changes(-1)
    with pytest.raises(StaleGeneration):
        fleet.commit(plan)
    assert fleet.host_changes(high) == (moved, [HOST])


def test_a_second_store_on_the_database_sees_the_first_ones_stamps(
    fleet: Store, database_url: str
) -> None:
    other = Store.open(database_url)
    try:
        high, _ = other.host_changes(-1)
        fleet.release("vm-1")
        assert other.host_changes(high)[1] == [HOST]
    finally:
        other.close()


def test_host_facts_count_free_devices_per_pool_and_keep_empty_pools(fleet: Store) -> None:
    pf0, pf1 = str(pf_address(0)), str(pf_address(1))
    free = free_of(fleet, HOST)
    # vm-1's VF makes its PF unclaimable: that PF's pool stays, with 0 free.
    assert sorted(free) == sorted(
        [("type-PF", pf0), ("type-PF", pf1), ("type-VF", pf0), ("type-VF", pf1)]
    )
    assert sum(free[("type-VF", pf)] for pf in (pf0, pf1)) == 3
    assert sorted(free[("type-PF", pf)] for pf in (pf0, pf1)) == [0, 1]


def test_host_facts_carry_numa_sockets_bridges_and_whether_the_host_has_pci(fleet: Store) -> None:
    facts = {f.name: f for f in fleet.host_facts()}
    assert (facts[HOST].numa_sockets, facts[HOST].normal_physnets) == (
        {0: 0, 1: 1},
        frozenset({"physnet2"}),
    )
    assert (facts[HOST].has_pci, facts[OTHER].has_pci) == (True, False)
    assert facts[OTHER].pools == {}
    assert facts[HOST].generation == fleet.get_host(HOST).generation


def test_host_facts_of_named_hosts_leave_out_the_others_and_unknown_names(fleet: Store) -> None:
    assert [f.name for f in fleet.host_facts([OTHER, "no-such-host"])] == [OTHER]


def test_an_unhealthy_vf_is_not_counted_free(fleet: Store) -> None:
    fleet.release("vm-1")
    report = [*host_report(2, 2)[:-1], vf(1, 1, numa_node=1, healthy=False)]
    fleet.report_inventory(HOST, 2, report)
    free = free_of(fleet, HOST)
    assert (free[("type-VF", str(pf_address(0)))], free[("type-VF", str(pf_address(1)))]) == (2, 1)

"""Claims persisted: the pure inventory decides, the store writes with a generation CAS."""

from __future__ import annotations

import pytest

from tests.functional.store.synthetic import host_report, pf_address
from vfnet.errors import InsufficientDevices, NotFound, StaleGeneration
from vfnet.inventory.requests import PciRequest
from vfnet.store import Store

HOST = "compute-1"


def vf_request(count: int = 1, request_id: str = "port-1") -> PciRequest:
    return PciRequest(count, ({"dev_type": "type-VF"},), request_id=request_id)


PF_REQUEST = PciRequest(1, ({"dev_type": "type-PF"},), request_id="pf")


@pytest.fixture
def host(store):
    store.register_host(HOST, numa_sockets={0: 0, 1: 1})
    store.report_inventory(HOST, 1, host_report(2, 4))
    return HOST


def states(store, addresses):
    return [store.get_device(HOST, address).state for address in addresses]


def test_claiming_a_vf_makes_its_pf_unclaimable(store, host):
    claim = store.claim(host, "vm-1", [vf_request()])
    [vf] = claim.addresses
    parent = store.get_device(host, vf).reported.parent_addr
    assert states(store, [vf, parent]) == ["claimed", "unclaimable"]
    assert store.get_device(host, vf).owner == "vm-1"


def test_claiming_a_pf_makes_its_vfs_unclaimable(store, host):
    [pf] = store.claim(host, "vm-1", [PF_REQUEST]).addresses
    vfs = [d.address for d in store.list_devices(host=host) if d.reported.parent_addr == pf]
    assert set(states(store, vfs)) == {"unclaimable"}


def test_a_claim_serves_every_request_under_its_request_id(store, host):
    claim = store.claim(host, "vm-1", [vf_request(2, "a"), vf_request(1, "b")])
    assert sorted(device.request_id for device in claim.devices) == ["a", "a", "b"]
    assert store.claims_of("vm-1") == [claim]


def test_a_claim_bumps_the_host_generation_once(store, host):
    before = store.get_host(host).generation
    claim = store.claim(host, "vm-1", [vf_request(3)])
    assert claim.generation == store.get_host(host).generation == before + 1


def test_allocating_turns_the_owners_claims_allocated(store, host):
    claim = store.claim(host, "vm-1", [vf_request(2)])
    [allocated] = store.allocate("vm-1")
    assert {d.status for d in allocated.devices} == {"allocated"}
    assert set(states(store, claim.addresses)) == {"allocated"}
    assert states(store, [pf_address(0)]) == ["unavailable"]


@pytest.mark.parametrize("allocate_first", [False, True])
def test_releasing_frees_the_devices_and_their_pf(store, host, allocate_first):
    claim = store.claim(host, "vm-1", [vf_request()])
    if allocate_first:
        store.allocate("vm-1")
    [released] = store.release("vm-1")
    assert released.addresses == claim.addresses
    assert set(states(store, [*claim.addresses, pf_address(0), pf_address(1)])) == {"available"}
    assert store.claims_of("vm-1") == []


def test_releasing_twice_or_releasing_nobody_frees_nothing(store, host):
    store.claim(host, "vm-1", [vf_request()])
    store.release("vm-1")
    generation = store.get_host(host).generation
    assert store.release("vm-1") == []
    assert store.release("never-claimed") == []
    assert store.get_host(host).generation == generation


def test_moving_a_claim_hands_its_devices_to_the_new_owner(store, host):
    claim = store.claim(host, "migration-1", [vf_request(2)])
    [moved] = store.move_claim("migration-1", "vm-1")
    assert (moved.owner, moved.addresses) == ("vm-1", claim.addresses)
    assert store.claims_of("migration-1") == []
    assert [c.addresses for c in store.claims_of("vm-1")] == [claim.addresses]
    assert {store.get_device(host, a).owner for a in claim.addresses} == {"vm-1"}


def test_an_owner_holding_devices_on_two_hosts_releases_both(store, host):
    store.register_host("compute-2")
    store.report_inventory("compute-2", 1, host_report(1, 2))
    store.claim(host, "vm-1", [vf_request()])
    store.claim("compute-2", "vm-1", [vf_request()])
    assert [c.host for c in store.release("vm-1")] == [HOST, "compute-2"]


def test_a_host_runs_out_of_vfs_and_then_refuses(store, host):
    store.claim(host, "vm-1", [vf_request(8)])
    with pytest.raises(InsufficientDevices):
        store.claim(host, "vm-2", [vf_request()])


def test_a_refused_claim_writes_nothing(store, host):
    generation = store.get_host(host).generation
    with pytest.raises(InsufficientDevices):
        store.claim(host, "vm-1", [vf_request(2, "a"), vf_request(7, "b")])
    assert store.get_host(host).generation == generation
    assert store.list_devices(host=host, state="claimed") == []


def test_a_claim_on_an_unknown_host_is_not_found(store):
    with pytest.raises(NotFound):
        store.claim("nowhere", "vm-1", [vf_request()])


def test_a_claim_planned_before_another_writer_committed_is_stale(store, database_url, host):
    other = Store.open(database_url)
    try:
        plan = store.plan_claim(host, "vm-1", [vf_request()])
        theirs = other.claim(host, "vm-2", [vf_request()])
        with pytest.raises(StaleGeneration):
            store.commit(plan)
        assert [d.owner for d in store.list_devices(host=host, state="claimed")] == ["vm-2"]
        assert store.get_host(host).generation == theirs.generation
    finally:
        other.close()


def test_a_store_whose_cached_inventory_is_old_reads_the_host_again(store, database_url, host):
    other = Store.open(database_url)
    try:
        first = store.claim(host, "vm-1", [vf_request()])
        second = other.claim(host, "vm-2", [vf_request()])
        third = store.claim(host, "vm-3", [vf_request()])
    finally:
        other.close()
    held = [*first.addresses, *second.addresses, *third.addresses]
    assert len(set(held)) == 3
    assert third.generation == second.generation + 1


@pytest.mark.parametrize(
    ("lost_races", "attempts", "wins"), [(0, 1, True), (2, 3, True), (2, 2, False)]
)
def test_a_stale_claim_is_retried_a_bounded_number_of_times(store, lost_races, attempts, wins):
    calls = []

    def attempt():
        calls.append(1)
        if len(calls) <= lost_races:
            raise StaleGeneration("another writer got there first")
        return "claimed"

    if wins:
        assert store.inventories.retrying(attempt, attempts) == "claimed"
    else:
        with pytest.raises(StaleGeneration):
            store.inventories.retrying(attempt, attempts)
    assert len(calls) == min(lost_races + 1, attempts)


def test_a_placement_records_where_an_instance_went(store, host):
    claim = store.claim(host, "vm-1", [vf_request()])
    placed = store.record_placement("vm-1", claim, project="p1", request={"ports": ["port-1"]})
    assert store.get_placement("vm-1") == placed
    assert [p.instance_id for p in store.list_placements(project="p1")] == ["vm-1"]
    assert store.list_placements(project="p2") == []
    store.delete_placement("vm-1")
    with pytest.raises(NotFound):
        store.get_placement("vm-1")

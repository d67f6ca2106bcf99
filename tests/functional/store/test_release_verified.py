"""Releases on a host whose agent verifies resets: releasing until that claim's reset is read."""

from __future__ import annotations

import pytest

from tests.functional.store.synthetic import host_report
from vfnet.inventory.requests import PciRequest
from vfnet.store import Store

HOST = "compute-1"
VF = PciRequest(1, ({"dev_type": "type-VF"},), request_id="port")


@pytest.fixture(params=[True, False], ids=["verifying host", "plain host"])
def verifying(request: pytest.FixtureRequest, store: Store) -> bool:
    store.register_host(HOST, manages_vfs=request.param)
    store.report_inventory(HOST, 1, host_report(1, 4))
    return bool(request.param)


@pytest.fixture
def host(store: Store) -> str:
    store.register_host(HOST, manages_vfs=True)
    store.report_inventory(HOST, 1, host_report(1, 4))
    return HOST


def claimed_vf(store: Store, owner: str = "port:a") -> str:
    [address] = store.claim(HOST, owner, [VF]).addresses
    return str(address)


def state_of(store: Store, address: str) -> tuple[str, str | None]:
    device = store.get_device(HOST, address)
    return device.state, device.owner


def free_vfs(store: Store) -> int:
    return sum(pool.free for pool in store.list_pools(HOST) if pool.dev_type == "type-VF")


def test_a_release_frees_at_once_only_where_no_agent_verifies_resets(store, verifying):
    vf = claimed_vf(store)
    store.release("port:a")
    expected = ("releasing", None) if verifying else ("available", None)
    assert state_of(store, vf) == expected
    assert free_vfs(store) == (3 if verifying else 4)


def test_a_releasing_vf_keeps_its_pf_from_being_claimed_whole(store, host):
    vf = claimed_vf(store)
    parent = store.get_device(HOST, vf).reported.parent_addr
    store.release("port:a")
    assert store.get_device(HOST, parent).state == "unclaimable"


def test_each_claim_bumps_the_device_claim_generation(store, host):
    vf = claimed_vf(store)
    first = store.get_device(HOST, vf).claim_generation
    store.release("port:a")
    store.verify_resets(HOST, {store.get_device(HOST, vf).address: first})
    every_vf = PciRequest(4, ({"dev_type": "type-VF"},), request_id="all")
    store.claim(HOST, "vm-b", [every_vf])
    assert store.get_device(HOST, vf).claim_generation == first + 1


def test_a_verified_reset_of_the_released_claim_frees_the_vf_and_its_pf(store, host):
    vf = claimed_vf(store)
    device = store.get_device(HOST, vf)
    store.release("port:a")
    freed = store.verify_resets(HOST, {device.address: device.claim_generation})
    assert freed == [device.address]
    assert state_of(store, vf) == ("available", None)
    assert store.get_device(HOST, device.reported.parent_addr).state == "available"
    assert free_vfs(store) == 4


def test_a_verification_for_an_older_claim_generation_changes_nothing(store, host):
    vf = claimed_vf(store)
    device = store.get_device(HOST, vf)
    store.release("port:a")
    stale = {device.address: device.claim_generation - 1}
    assert store.verify_resets(HOST, stale) == []
    assert state_of(store, vf) == ("releasing", None)


def test_a_verification_of_a_vf_not_releasing_changes_nothing(store, host):
    vf = claimed_vf(store)
    device = store.get_device(HOST, vf)
    generation = store.get_host(HOST).generation
    assert store.verify_resets(HOST, {device.address: device.claim_generation}) == []
    assert state_of(store, vf) == ("claimed", "port:a")
    assert store.get_host(HOST).generation == generation


def test_the_releasing_vf_is_listed_with_the_claim_generation_it_was_released_at(store, host):
    vf = claimed_vf(store)
    device = store.get_device(HOST, vf)
    store.release("port:a")
    assert store.desired_inputs(HOST).released == {device.address: device.claim_generation}


def test_release_and_verification_each_bump_the_desired_generation(store, host):
    vf = claimed_vf(store)
    device = store.get_device(HOST, vf)
    start = store.desired_generation(HOST)
    store.release("port:a")
    released = store.desired_generation(HOST)
    store.verify_resets(HOST, {device.address: device.claim_generation})
    assert start < released < store.desired_generation(HOST)


def test_a_releasing_vf_gone_from_the_next_report_is_dropped(store, host):
    vf = claimed_vf(store)
    store.release("port:a")
    kept = [d for d in host_report(1, 4) if str(d.address) != vf]
    store.report_inventory(HOST, 2, kept)
    assert vf not in {str(d.address) for d in store.list_devices(host=HOST)}
    assert store.desired_inputs(HOST).released == {}

"""Inventory reports: a report replaces the host's inventory, in one transaction."""

from __future__ import annotations

import pytest

from tests.functional.store.synthetic import host_report, pf, vf, vf_address
from vfnet.errors import InsufficientDevices, NotFound, ValidationError
from vfnet.inventory.requests import PciRequest

VF_REQUEST = PciRequest(1, ({"dev_type": "type-VF"},), request_id="port-1")


@pytest.fixture
def host(store):
    store.register_host("compute-1", numa_sockets={0: 0, 1: 1}, physnets=["physnet1"])
    return "compute-1"


def addresses(store, host):
    return {str(device.address) for device in store.list_devices(host=host)}


def test_a_report_replaces_what_the_host_had(store, host):
    store.report_inventory(host, 1, host_report(2, 4))
    second = host_report(1, 2)
    result = store.report_inventory(host, 2, second)
    assert addresses(store, host) == {str(item.address) for item in second}
    assert result.applied
    assert len(result.removed) == 10 - 3
    assert store.get_host(host).report_generation == 2


def test_a_report_bumps_the_host_generation(store, host):
    before = store.get_host(host).generation
    result = store.report_inventory(host, 1, host_report(1, 2))
    assert result.generation == store.get_host(host).generation == before + 1


@pytest.mark.parametrize("late", [1, 2])
def test_a_report_not_newer_than_the_last_is_ignored(store, host, late):
    store.report_inventory(host, 2, host_report(1, 2))
    generation = store.get_host(host).generation
    result = store.report_inventory(host, late, host_report(2, 4))
    assert not result.applied
    assert len(addresses(store, host)) == 3
    assert store.get_host(host).generation == generation


def test_a_report_naming_an_address_twice_is_refused_and_changes_nothing(store, host):
    store.report_inventory(host, 1, host_report(1, 2))
    doubled = [*host_report(2, 2), vf(1, 0)]
    with pytest.raises(ValidationError) as refused:
        store.report_inventory(host, 2, doubled)
    assert str(vf_address(1, 0)) in str(refused.value)
    assert len(addresses(store, host)) == 3
    assert store.get_host(host).report_generation == 1


def test_a_report_for_an_unknown_host_is_not_found(store):
    with pytest.raises(NotFound):
        store.report_inventory("nowhere", 1, host_report(1, 1))


@pytest.mark.parametrize("status", ["claimed", "allocated"])
def test_a_busy_device_that_vanishes_is_kept_and_flagged(store, host, status):
    store.report_inventory(host, 1, host_report(1, 2))
    [held] = store.claim(host, "vm-1", [VF_REQUEST]).addresses
    if status == "allocated":
        store.allocate("vm-1")
    store.report_inventory(host, 2, [pf(0)])
    kept = store.get_device(host, held)
    assert (kept.vanished, kept.state, kept.owner) == (True, status, "vm-1")
    assert addresses(store, host) == {str(pf(0).address), str(held)}


def test_a_vanished_device_is_dropped_when_released(store, host):
    store.report_inventory(host, 1, host_report(1, 2))
    [held] = store.claim(host, "vm-1", [VF_REQUEST]).addresses
    store.report_inventory(host, 2, [pf(0)])
    store.release("vm-1")
    assert addresses(store, host) == {str(pf(0).address)}
    with pytest.raises(NotFound):
        store.get_device(host, held)


def test_a_free_device_that_vanishes_goes_at_once(store, host):
    store.report_inventory(host, 1, host_report(1, 2))
    result = store.report_inventory(host, 2, [pf(0), vf(0, 0)])
    assert result.removed == (vf_address(0, 1),)
    assert addresses(store, host) == {str(pf(0).address), str(vf_address(0, 0))}


def test_unhealthy_devices_are_not_schedulable(store, host):
    store.report_inventory(host, 1, [pf(0), vf(0, 0, healthy=False), vf(0, 1, healthy=False)])
    [vf_pool] = [pool for pool in store.list_pools(host) if pool.dev_type == "type-VF"]
    assert (vf_pool.free, vf_pool.total) == (0, 2)
    with pytest.raises(InsufficientDevices):
        store.claim(host, "vm-1", [VF_REQUEST])
    sick = store.get_device(host, vf_address(0, 0))
    assert (sick.reported.healthy, sick.reported.health_reasons) == (False, ("link down",))


def test_a_device_healthy_again_is_schedulable_again(store, host):
    store.report_inventory(host, 1, [pf(0), vf(0, 0, healthy=False)])
    store.report_inventory(host, 2, [pf(0), vf(0, 0)])
    assert store.claim(host, "vm-1", [VF_REQUEST]).addresses == (vf_address(0, 0),)


def test_pools_group_vfs_per_pf_with_free_and_total(store, host):
    store.report_inventory(host, 1, host_report(2, 3))
    store.claim(host, "vm-1", [VF_REQUEST])
    pools = {(pool.dev_type, pool.numa_node): pool for pool in store.list_pools(host)}
    assert {(p.free, p.total) for k, p in pools.items() if k[0] == "type-VF"} == {(2, 3), (3, 3)}
    # A PF with a claimed VF is no longer free itself.
    assert sorted(p.free for k, p in pools.items() if k[0] == "type-PF") == [0, 1]
    assert all(p.physnet == "physnet1" for p in pools.values())


def test_a_report_that_changes_nothing_leaves_the_generation_alone(store, host):
    store.report_inventory(host, 1, host_report(1, 2))
    generation = store.get_host(host).generation
    result = store.report_inventory(host, 2, host_report(1, 2))
    assert (result.applied, result.generation) == (True, generation)
    assert store.get_host(host).generation == generation
    assert store.get_host(host).report_generation == 2


@pytest.mark.parametrize(
    "change",
    [
        [pf(0), vf(0, 0), vf(0, 1, healthy=False)],
        [pf(0), vf(0, 0), vf(0, 1, physnet="physnet2")],
        [pf(0), vf(0, 0)],
    ],
)
def test_a_report_that_changes_something_bumps_the_generation(store, host, change):
    store.report_inventory(host, 1, host_report(1, 2))
    generation = store.get_host(host).generation
    assert store.report_inventory(host, 2, change).generation == generation + 1

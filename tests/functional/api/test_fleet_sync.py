"""The server's fleet view follows the store by deltas: built once, then only changed hosts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.functional.api.conftest import Api
from tests.functional.store.synthetic import host_report
from vfnet.api.fleet import FleetCache
from vfnet.api.placing import Wanted
from vfnet.inventory.requests import PciRequest
from vfnet.store import Store

HOST, OTHER = "compute-1", "compute-2"
TWO_VFS = Wanted((PciRequest(2, ({"dev_type": "type-VF"},), request_id="ports"),), None, "pack")


def cache_of(api: Api) -> FleetCache:
    fleet: FleetCache = api.client.app.state.fleet  # type: ignore[attr-defined]
    return fleet


def port(name: str) -> dict[str, str]:
    return {"id": name, "vnic_type": "direct", "physnet": "physnet1"}


def place(api: Api, instance_id: str, vfs: int = 1) -> Any:
    ports = [port(f"{instance_id}-p{n}") for n in range(vfs)]
    body = {"instance_id": instance_id, "ports": ports}
    return api.call("POST", "/v1/placements", "admin", json=body)


def free_vfs(cache: FleetCache, host: str) -> int:
    state = cache.view.host(host)
    return sum(n for key, n in state.pools.items() if key.get("dev_type") == "type-VF")


@pytest.fixture
def synced(api: Api) -> Api:
    """compute-1 with 2 PFs x 2 VFs, compute-2 with nothing; the view synced once."""
    api.store.report_inventory(HOST, 1, host_report(2, 2))
    cache_of(api).sync()
    return api


@pytest.fixture
def second_server(database_url: str) -> Iterator[Store]:
    """Another server's store on the same database."""
    other = Store.open(database_url)
    try:
        yield other
    finally:
        other.close()


def test_the_first_sync_loads_every_host_and_a_quiet_fleet_reloads_none(api: Api) -> None:
    cache = cache_of(api)
    assert (cache.sync(), cache.sync()) == (2, 0)
    assert len(cache.view) == 2


@pytest.mark.parametrize(
    "step",
    [
        lambda s: s.report_inventory(HOST, 2, host_report(2, 3)),
        lambda s: s.report_inventory(OTHER, 1, host_report(1, 1)),
        lambda s: s.register_host(OTHER, numa_sockets={0: 0}),
    ],
    ids=["report on compute-1", "report on compute-2", "registration"],
)
def test_after_one_change_on_one_host_a_sync_reloads_exactly_that_host(
    synced: Api, step: Callable[[Store], object]
) -> None:
    step(synced.store)
    assert cache_of(synced).sync() == 1


def test_placing_reloads_only_the_host_the_last_claim_changed(synced: Api) -> None:
    cache = cache_of(synced)
    assert place(synced, "vm-1").status_code == 201
    before = cache.reloaded
    assert place(synced, "vm-2").status_code == 201
    assert cache.reloaded - before == 1


def test_a_claim_is_taken_out_of_the_view_before_any_sync(synced: Api) -> None:
    cache = cache_of(synced)
    assert place(synced, "vm-1", vfs=2).status_code == 201
    assert free_vfs(cache, HOST) == 2


def test_a_host_filled_by_another_server_is_seen_at_the_next_placement(
    synced: Api, second_server: Store
) -> None:
    second_server.report_inventory(OTHER, 1, host_report(2, 4))
    request = PciRequest(4, ({"dev_type": "type-VF"},), request_id="all")
    second_server.claim(HOST, "elsewhere", [request])
    cache = cache_of(synced)
    assert [c.host for c in cache.candidates(TWO_VFS)] == [OTHER]
    response = place(synced, "vm-1", vfs=2)
    assert (response.status_code, response.json()["host"]) == (201, OTHER)


def test_devices_released_by_another_server_can_be_placed_again(
    synced: Api, second_server: Store
) -> None:
    assert place(synced, "vm-1", vfs=4).status_code == 201
    assert place(synced, "vm-2").status_code == 409
    owner = second_server.get_placement("vm-1").owner
    second_server.release(owner)
    assert place(synced, "vm-2").status_code == 201


@pytest.mark.parametrize(
    "steps",
    [
        ["place vm-1", "place vm-2", "delete vm-1"],
        ["place vm-1", "report", "place vm-2"],
        ["place vm-1", "delete vm-1", "place vm-2", "report"],
    ],
)
def test_the_synced_view_matches_one_built_fresh_after_each_step(
    synced: Api, steps: list[str]
) -> None:
    for generation, step in enumerate(steps, start=2):
        verb, _, name = step.partition(" ")
        if verb == "place":
            assert place(synced, name).status_code == 201
        elif verb == "delete":
            assert synced.call("DELETE", f"/v1/placements/{name}", "admin").status_code == 204
        else:
            synced.store.report_inventory(HOST, generation, host_report(2, generation))
        cache = cache_of(synced)
        cache.sync()
        fresh = FleetCache(synced.store)
        fresh.sync()
        assert [h.pools for h in cache.view] == [fresh.view.host(h.name).pools for h in cache.view]

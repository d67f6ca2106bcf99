"""The fleet view and its index: deltas keep "hosts with N free" equal to a brute-force scan."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vfnet.errors import Conflict, NotFound, ValidationError
from vfnet.scheduler.index import signature
from vfnet.scheduler.view import FleetView

from .fleet import pf_pool, vf_pool

PF, OTHER_PF = "0000:3b:00.0", "0000:3b:00.1"


def on_physnet(physnet: str):
    return lambda key: key.get("physical_network") == physnet


def test_pool_keys_that_differ_only_by_pf_share_a_signature():
    assert signature(vf_pool("0000:3b:00.0")) == signature(vf_pool("0000:3b:00.1"))
    assert signature(vf_pool("0000:3b:00.0")) != signature(vf_pool("0000:3b:00.0", numa=1))


def test_a_fleet_of_identical_hosts_has_one_signature_per_kind_of_pool():
    view = FleetView()
    for n in range(50):
        view.update_host(f"h{n}", {vf_pool("0000:3b:00.0"): 4, vf_pool("0000:3b:00.1"): 4})
    assert view.signature_count == 1


@pytest.mark.parametrize(
    ("at_least", "most_first", "expected"),
    [
        (1, False, ["a", "b", "c"]),
        (3, False, ["b", "c"]),
        (3, True, ["c", "b"]),
        (9, False, []),
    ],
)
def test_hosts_come_out_by_free_count(at_least, most_first, expected):
    view = FleetView()
    view.update_host("c", {vf_pool("p0"): 3, vf_pool("p1"): 5})
    view.update_host("a", {vf_pool("p0"): 1})
    view.update_host("b", {vf_pool("p0"): 2, vf_pool("p1"): 1, vf_pool("p2", "physnet2"): 7})
    physnet1 = view.request_class("physnet1", on_physnet("physnet1"))
    assert list(physnet1.hosts_with(at_least, most_first=most_first)) == expected
    assert physnet1.count_with(at_least) == len(expected)


def test_consuming_moves_a_host_between_buckets_and_releasing_moves_it_back():
    view = FleetView()
    view.update_host("a", {vf_pool("p0"): 4})
    physnet1 = view.request_class("physnet1", on_physnet("physnet1"))
    view.consume("a", {vf_pool("p0"): 3})
    assert (physnet1.free("a"), list(physnet1.hosts_with(2))) == (1, [])
    view.release("a", {vf_pool("p0"): 3})
    assert list(physnet1.hosts_with(4)) == ["a"]


def test_consuming_more_than_is_free_is_a_conflict_and_changes_nothing():
    view = FleetView()
    view.update_host("a", {vf_pool("p0"): 1})
    with pytest.raises(Conflict):
        view.consume("a", {vf_pool("p0"): 2})
    assert view.host("a").free(vf_pool("p0")) == 1


def test_an_unhealthy_host_is_never_indexed_until_it_recovers():
    view = FleetView()
    view.update_host("a", {vf_pool("p0"): 4}, healthy=False)
    physnet1 = view.request_class("physnet1", on_physnet("physnet1"))
    assert list(physnet1.hosts_with(1)) == []
    view.set_health("a", True)
    assert list(physnet1.hosts_with(1)) == ["a"]


def test_a_removed_host_leaves_the_index():
    view = FleetView()
    view.update_host("a", {vf_pool("p0"): 4})
    physnet1 = view.request_class("physnet1", on_physnet("physnet1"))
    view.remove_host("a")
    assert (list(physnet1.hosts_with(1)), "a" in view) == ([], False)
    with pytest.raises(NotFound):
        view.host("a")


def test_a_signature_first_seen_after_a_class_was_built_joins_it():
    view = FleetView()
    physnet2 = view.request_class("physnet2", on_physnet("physnet2"))
    view.update_host("a", {vf_pool("p0", "physnet2", numa=1): 2})
    assert list(physnet2.hosts_with(2)) == ["a"]


@pytest.mark.parametrize(
    ("pools", "has_pci", "without_pci"),
    [({}, None, ["a"]), ({vf_pool("p0"): 0}, None, []), ({}, True, [])],
)
def test_hosts_without_pci_devices_are_listed(pools, has_pci, without_pci):
    view = FleetView()
    view.update_host("a", pools, has_pci=has_pci)
    assert list(view.hosts_without_pci()) == without_pci


def test_a_negative_free_count_is_refused():
    with pytest.raises(ValidationError):
        FleetView().update_host("a", {vf_pool("p0"): -1})


PHYSNETS = ["physnet1", "physnet2", None]
HOSTS = [f"h{n}" for n in range(6)]
pool_keys = st.builds(
    vf_pool, st.sampled_from(["p0", "p1", "p2"]), st.sampled_from(PHYSNETS), st.sampled_from([0, 1])
)
host_pools = st.dictionaries(pool_keys, st.integers(0, 4), max_size=4)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("update"), st.sampled_from(HOSTS), host_pools, st.booleans()),
        st.tuples(st.just("remove"), st.sampled_from(HOSTS)),
        st.tuples(st.just("consume"), st.sampled_from(HOSTS), pool_keys, st.integers(1, 2)),
        st.tuples(st.just("release"), st.sampled_from(HOSTS), pool_keys, st.integers(1, 2)),
    ),
    max_size=25,
)


def apply(view: FleetView, operation: tuple) -> None:
    kind, name, *rest = operation
    if kind == "update":
        view.update_host(name, rest[0], healthy=rest[1])
    elif kind == "remove":
        view.remove_host(name)
    elif name in view:
        key, count = rest
        if kind == "release":
            view.release(name, {key: count})
        elif view.host(name).free(key) >= count:
            view.consume(name, {key: count})


def brute_force(view: FleetView, physnet: str | None, at_least: int, pfs: int = 1) -> set[str]:
    found = set()
    for host in view:
        held = {k: n for k, n in host.pools.items() if k.get("physical_network") == physnet}
        holders = {key.get("address") for key, n in held.items() if n}
        if host.healthy and sum(held.values()) >= at_least and len(holders) >= pfs:
            found.add(host.name)
    return found


@settings(max_examples=150, deadline=None)
@given(
    before=operations,
    after=operations,
    physnet=st.sampled_from(PHYSNETS),
    at_least=st.integers(1, 6),
)
def test_the_index_answers_as_a_scan_of_every_host_would(before, after, physnet, at_least):
    view = FleetView()
    for operation in before:
        apply(view, operation)
    # A class built mid-way must stay right through the deltas that follow.
    request_class = view.request_class(physnet, on_physnet(physnet))
    for operation in after:
        apply(view, operation)
    found = list(request_class.hosts_with(at_least))
    assert set(found) == brute_force(view, physnet, at_least)
    assert len(found) == len(set(found)) == request_class.count_with(at_least)
    frees = [request_class.free(name) for name in found]
    assert frees == sorted(frees)
    spread = list(request_class.hosts_with(at_least, pfs=2, most_first=True))
    assert set(spread) == brute_force(view, physnet, at_least, pfs=2)
    assert len(spread) == request_class.count_with(at_least, pfs=2)


@pytest.mark.parametrize(
    ("taken", "left"),
    [
        ({vf_pool(PF): 1}, {vf_pool(PF): 2, pf_pool(PF): 0, vf_pool(OTHER_PF): 3}),
        ({pf_pool(PF): 1}, {vf_pool(PF): 0, pf_pool(PF): 0, vf_pool(OTHER_PF): 3}),
        ({vf_pool(OTHER_PF): 3}, {vf_pool(PF): 3, pf_pool(PF): 1, vf_pool(OTHER_PF): 0}),
    ],
)
def test_consuming_a_vf_empties_its_pf_and_consuming_a_pf_empties_its_vfs(taken, left):
    view = FleetView()
    view.update_host("a", {pf_pool(PF): 1, vf_pool(PF): 3, vf_pool(OTHER_PF): 3})
    view.consume("a", taken)
    assert dict(view.host("a").pools) == left


@pytest.mark.parametrize(
    ("pools", "pfs", "on_two_pfs"),
    [
        ({vf_pool(PF): 4}, 1, []),
        ({vf_pool(PF): 4, vf_pool(OTHER_PF): 0}, 1, []),
        ({vf_pool(PF): 1, vf_pool(OTHER_PF, numa=1): 1}, 2, ["a"]),
        ({vf_pool(PF): 1, vf_pool(OTHER_PF, "physnet2"): 9}, 1, []),
    ],
)
def test_a_class_counts_the_pfs_holding_its_free_devices(pools, pfs, on_two_pfs):
    view = FleetView()
    view.update_host("a", pools)
    physnet1 = view.request_class("physnet1", on_physnet("physnet1"))
    assert physnet1.pfs("a") == pfs
    assert list(physnet1.hosts_with(1, pfs=2)) == on_two_pfs

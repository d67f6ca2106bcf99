"""Host selection end to end: policies, anti-affinity, NUMA, reasons, alternates, consumption."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vfnet.errors import NoValidHost, ValidationError
from vfnet.inventory.requests import NumaPolicy, PciRequest
from vfnet.scheduler.requests import request_for_port
from vfnet.scheduler.select import select_host
from vfnet.scheduler.view import FleetView

from .fleet import pf_pool, vf_pool

PF_A, PF_B, PF_C = "0000:3b:00.0", "0000:3b:00.1", "0000:5e:00.0"


def port(physnet: str = "physnet1", vnic_type: str = "direct", **options) -> PciRequest:
    request = request_for_port(f"port-{physnet}-{vnic_type}", vnic_type, physnet, **options)
    assert request is not None
    return request


def fleet(**hosts: dict) -> FleetView:
    view = FleetView()
    for name, pools in hosts.items():
        view.update_host(name, pools, numa_sockets={0: 0, 1: 1})
    return view


@pytest.mark.parametrize(
    ("policy", "chosen", "alternates"),
    [("pack", "small", ("middle", "large")), ("spread", "large", ("middle", "small"))],
)
def test_pack_fills_the_fullest_host_and_spread_the_emptiest(policy, chosen, alternates):
    view = fleet(middle={vf_pool(PF_A): 5}, large={vf_pool(PF_A): 9}, small={vf_pool(PF_A): 2})
    placement = select_host(view, [port()], policy=policy)
    assert (placement.host, tuple(p.host for p in placement.alternates)) == (chosen, alternates)


def test_an_unknown_policy_is_refused():
    with pytest.raises(ValidationError, match="policy"):
        select_host(fleet(a={vf_pool(PF_A): 1}), [port()], policy="random")


@pytest.mark.parametrize(
    ("requests", "reason"),
    [
        ([port("physnet9"), port("physnet9")], "no host has 2 free VFs on physnet 'physnet9'"),
        ([port("physnet9")], "no host has 1 free VF on physnet 'physnet9'"),
        ([port(vnic_type="direct-physical")], "no host has 1 free PF on physnet 'physnet1'"),
        ([port(trusted=True)], "no host has 1 free trusted VF on physnet 'physnet1'"),
        ([port(), port()] * 2, "no host has 4 free VFs on physnet 'physnet1'"),
    ],
)
def test_no_valid_host_names_what_was_missing(requests, reason):
    view = fleet(a={vf_pool(PF_A): 3}, b={vf_pool(PF_A, "physnet2"): 8})
    with pytest.raises(NoValidHost) as caught:
        select_host(view, requests)
    assert str(caught.value) == reason


def test_an_unhealthy_host_is_never_chosen():
    view = fleet(sick={vf_pool(PF_A): 1}, well={vf_pool(PF_A): 9})
    view.set_health("sick", False)
    placement = select_host(view, [port()], policy="pack")
    assert (placement.host, placement.alternates) == ("well", ())


def test_requests_on_two_physnets_land_on_a_host_with_both():
    view = fleet(
        one={vf_pool(PF_A): 9},
        two={vf_pool(PF_B, "physnet2"): 9},
        both={vf_pool(PF_A): 9, vf_pool(PF_B, "physnet2"): 9},
    )
    placement = select_host(view, [port("physnet1"), port("physnet2")])
    assert placement.host == "both"
    assert [p.pfs for p in placement.requests] == [(PF_A,), (PF_B,)]


@pytest.mark.parametrize(
    ("pools", "expected_pfs"),
    [
        ({vf_pool(PF_A): 4, vf_pool(PF_B, numa=1): 4}, {PF_A, PF_B}),
        ({vf_pool(PF_A): 4, vf_pool(PF_B): 0, vf_pool(PF_C): 1}, {PF_A, PF_C}),
        ({vf_pool(PF_A): 4, vf_pool(PF_B): 0}, None),
        ({vf_pool(PF_A): 4, vf_pool(PF_B, "physnet2"): 4}, None),
    ],
)
def test_ports_in_one_pf_group_land_on_vfs_of_different_pfs(pools, expected_pfs):
    view = fleet(host=pools)
    pair = [port(pf_group="bond0"), port(pf_group="bond0")]
    if expected_pfs is None:
        with pytest.raises(NoValidHost, match="from 2 different PFs"):
            select_host(view, pair)
        return
    placement = select_host(view, pair)
    pfs = [pf for placed in placement.requests for pf in placed.pfs]
    assert set(pfs) == expected_pfs and len(pfs) == 2


def test_a_group_split_over_two_physnets_is_checked_by_the_fit():
    view = fleet(host={vf_pool(PF_A): 4, vf_pool(PF_A, "physnet2"): 4})
    with pytest.raises(NoValidHost, match="anti-affinity"):
        select_host(view, [port("physnet1", pf_group="g"), port("physnet2", pf_group="g")])


def test_ports_without_a_group_may_share_a_pf():
    placement = select_host(fleet(host={vf_pool(PF_A): 4}), [port(), port()])
    assert placement.consumption() == {vf_pool(PF_A): 2}


@pytest.mark.parametrize(
    ("policy", "sockets", "fits"),
    [
        (NumaPolicy.REQUIRED, {0: 0, 1: 1}, False),
        (NumaPolicy.LEGACY, {0: 0, 1: 1}, False),
        (NumaPolicy.PREFERRED, {0: 0, 1: 1}, True),
        (NumaPolicy.SOCKET, {0: 0, 1: 0}, True),
        (NumaPolicy.SOCKET, {0: 0, 1: 1}, False),
        (NumaPolicy.SOCKET, {0: 0, 1: None}, False),
    ],
)
def test_numa_policies_decide_whether_remote_vfs_may_be_used(policy, sockets, fits):
    view = FleetView()
    view.update_host("h", {vf_pool(PF_A, numa=1): 4}, numa_sockets=sockets)
    requests = [port(numa_policy=policy)]
    if fits:
        assert select_host(view, requests, numa_cells={0}).host == "h"
    else:
        with pytest.raises(NoValidHost):
            select_host(view, requests, numa_cells={0})


@pytest.mark.parametrize(
    ("policy", "fits"),
    [(NumaPolicy.REQUIRED, False), (NumaPolicy.LEGACY, True), (NumaPolicy.PREFERRED, True)],
)
def test_vfs_of_unknown_numa_node_serve_all_policies_but_required(policy, fits):
    view = fleet(h={vf_pool(PF_A, numa=None): 4})
    if fits:
        assert select_host(view, [port(numa_policy=policy)], numa_cells={0}).host == "h"
    else:
        with pytest.raises(NoValidHost):
            select_host(view, [port(numa_policy=policy)], numa_cells={0})


def test_an_instance_without_numa_topology_gets_no_numa_filtering():
    view = fleet(h={vf_pool(PF_A, numa=1): 4})
    assert select_host(view, [port(numa_policy="required")]).host == "h"


def test_a_required_policy_prefers_the_host_with_affine_vfs():
    view = fleet(remote={vf_pool(PF_A, numa=1): 2}, local={vf_pool(PF_A, numa=0): 9})
    placement = select_host(view, [port(numa_policy="required")], numa_cells={0}, policy="pack")
    assert (placement.host, placement.alternates) == ("local", ())


@pytest.mark.parametrize(
    ("vnic_type", "expected"),
    [("direct", {vf_pool(PF_A): 1}), ("direct-physical", {pf_pool(PF_B): 1})],
)
def test_a_vf_port_takes_a_vf_and_a_pf_port_takes_a_pf(vnic_type, expected):
    view = fleet(h={pf_pool(PF_B): 1, vf_pool(PF_A): 3})
    assert select_host(view, [port(vnic_type=vnic_type)]).consumption() == expected


def test_a_pf_and_one_of_its_vfs_are_never_placed_together():
    view = fleet(h={pf_pool(PF_A): 1, vf_pool(PF_A): 3})
    with pytest.raises(NoValidHost, match="do not fit together"):
        select_host(view, [port(vnic_type="direct-physical"), port()])


def test_a_consumed_placement_is_seen_by_the_next_decision():
    view = fleet(a={vf_pool(PF_A): 2}, b={vf_pool(PF_A): 3})
    for expected in ("a", "b"):
        placement = select_host(view, [port(), port()], policy="pack")
        assert placement.host == expected
        view.consume(placement.host, placement.consumption())
    with pytest.raises(NoValidHost):
        select_host(view, [port(), port()])


@pytest.mark.parametrize(
    ("hosts", "chosen"),
    [
        ({"gpu": {vf_pool(PF_A): 4}, "plain": {}}, "plain"),
        ({"gpu": {vf_pool(PF_A): 4}}, "gpu"),
    ],
)
def test_an_instance_without_pci_requests_keeps_off_hosts_with_pci_devices(hosts, chosen):
    assert select_host(fleet(**hosts), []).host == chosen


def test_alternates_are_bounded_and_carry_their_own_pools():
    view = fleet(**{f"h{n}": {vf_pool(f"0000:{n:02x}:00.0"): n + 1} for n in range(6)})
    placement = select_host(view, [port()], alternates=2)
    assert [p.host for p in placement.alternates] == ["h1", "h2"]
    assert placement.alternates[0].requests[0].pfs == ("0000:01:00.0",)


def test_the_search_stops_after_enough_fitting_hosts():
    view = fleet(**{f"h{n}": {vf_pool(PF_A): 1 + n % 3} for n in range(50)})
    placement = select_host(view, [port()], candidates=4, alternates=1, policy="spread")
    assert view.host(placement.host).free(vf_pool(PF_A)) == 3
    assert len(placement.alternates) == 1


# A random small fleet: the index-driven search must find a host exactly when fitting
# every host one by one finds one.
PFS = [PF_A, PF_B, PF_C]
keys = st.builds(
    vf_pool,
    st.sampled_from(PFS),
    st.sampled_from(["physnet1", "physnet2"]),
    st.sampled_from([0, 1, None]),
)
hosts = st.dictionaries(
    st.sampled_from(["h0", "h1", "h2", "h3"]),
    st.tuples(st.dictionaries(keys, st.integers(0, 3), max_size=4), st.booleans()),
    max_size=4,
)
asks = st.lists(
    st.builds(
        port,
        st.sampled_from(["physnet1", "physnet2"]),
        numa_policy=st.sampled_from(list(NumaPolicy)),
        pf_group=st.sampled_from([None, "bond0"]),
    ),
    max_size=3,
)


@settings(max_examples=200, deadline=None)
@given(
    hosts=hosts,
    requests=asks,
    cells=st.sampled_from([None, {0}, {1}, {0, 1}]),
    policy=st.sampled_from(["pack", "spread"]),
)
def test_the_index_finds_a_host_exactly_when_a_scan_would(hosts, requests, cells, policy):
    view = FleetView()
    for name, (pools, healthy) in hosts.items():
        view.update_host(name, pools, numa_sockets={0: 0, 1: 0}, healthy=healthy)
    cells_set = None if cells is None else frozenset(cells)
    fitting = {
        host.name
        for host in view
        if host.healthy
        and host.matcher.plan(requests, host.counts(), cells_set, host.numa_sockets) is not None
    }
    try:
        placement = select_host(view, requests, cells, policy=policy, candidates=10)
    except NoValidHost:
        assert fitting == set()
        return
    chosen = {placement.host, *(p.host for p in placement.alternates)}
    assert chosen == fitting
    free = {name: view.host(name).pools for name in chosen}
    for key, count in placement.consumption().items():
        assert free[placement.host].get(key, 0) >= count

"""Filters and weighers one at a time, on hosts of a small view."""

from __future__ import annotations

import pytest

from vfnet.inventory.requests import NumaPolicy, PciRequest
from vfnet.scheduler.ask import Ask
from vfnet.scheduler.filters import (
    HealthFilter,
    NumaFilter,
    PciCountFilter,
    PfAntiAffinityFilter,
)
from vfnet.scheduler.view import FleetView
from vfnet.scheduler.weighers import (
    FreeDevicesWeigher,
    PciHostAvoidanceWeigher,
    order,
    weighers_for,
)

from .fleet import vf_pool

PF_A, PF_B = "0000:3b:00.0", "0000:3b:00.1"
VF = {"physical_network": "physnet1", "remote_managed": "False"}


def vfs(count: int = 1, **options) -> PciRequest:
    return PciRequest(count=count, specs=(VF,), **options)


def check(filter_, pools, requests, cells=None, healthy=True) -> bool:
    view = FleetView()
    view.update_host("h", pools, numa_sockets={0: 0, 1: 1}, healthy=healthy)
    return filter_.passes(view.host("h"), Ask.of(view, requests, cells))


@pytest.mark.parametrize(
    ("filter_", "pools", "requests", "cells", "healthy", "passes"),
    [
        (HealthFilter(), {}, [], None, True, True),
        (HealthFilter(), {}, [], None, False, False),
        (PciCountFilter(), {vf_pool(PF_A): 2}, [vfs(2)], None, True, True),
        (PciCountFilter(), {vf_pool(PF_A): 2}, [vfs(2), vfs(1)], None, True, False),
        (PciCountFilter(), {vf_pool(PF_A, "physnet2"): 5}, [vfs(1)], None, True, False),
        (
            PciCountFilter(),
            {vf_pool(PF_A): 1, vf_pool(PF_B, numa=1): 1},
            [vfs(2)],
            None,
            True,
            True,
        ),
        (NumaFilter(), {vf_pool(PF_A, numa=1): 2}, [vfs(1)], None, True, True),
        (NumaFilter(), {vf_pool(PF_A, numa=1): 2}, [vfs(1)], {0}, True, False),
        (NumaFilter(), {vf_pool(PF_A, numa=1): 2}, [vfs(1)], {1}, True, True),
        (
            NumaFilter(),
            {vf_pool(PF_A, numa=1): 2},
            [vfs(1, numa_policy=NumaPolicy.PREFERRED)],
            {0},
            True,
            True,
        ),
        (
            PfAntiAffinityFilter(),
            {vf_pool(PF_A): 2, vf_pool(PF_B): 1},
            [vfs(pf_group="g"), vfs(pf_group="g")],
            None,
            True,
            True,
        ),
        (
            PfAntiAffinityFilter(),
            {vf_pool(PF_A): 2},
            [vfs(pf_group="g"), vfs(pf_group="g")],
            None,
            True,
            False,
        ),
        (PfAntiAffinityFilter(), {vf_pool(PF_A): 2}, [vfs(), vfs()], None, True, True),
    ],
)
def test_each_filter_passes_only_hosts_that_can_serve(
    filter_, pools, requests, cells, healthy, passes
):
    assert check(filter_, pools, requests, cells, healthy) is passes


def fleet_and_ask(requests):
    view = FleetView()
    view.update_host("few", {vf_pool(PF_A): 1})
    view.update_host("many", {vf_pool(PF_A): 9})
    view.update_host("none", {})
    return view, Ask.of(view, requests, None)


@pytest.mark.parametrize(
    ("weigher", "requests", "expected"),
    [
        (FreeDevicesWeigher(-1.0), [vfs()], ["none", "few", "many"]),
        (FreeDevicesWeigher(1.0), [vfs()], ["many", "few", "none"]),
        (PciHostAvoidanceWeigher(), [], ["none", "few", "many"]),
        (PciHostAvoidanceWeigher(), [vfs()], ["few", "many", "none"]),
    ],
)
def test_each_weigher_orders_hosts_as_its_policy_says(weigher, requests, expected):
    view, ask = fleet_and_ask(requests)
    hosts = [view.host(name) for name in ("few", "many", "none")]
    assert [host.name for host in order(hosts, ask, [weigher])] == expected


@pytest.mark.parametrize(("policy", "best"), [("pack", "few"), ("spread", "many")])
def test_policies_compose_free_counts_with_pci_avoidance(policy, best):
    view, ask = fleet_and_ask([vfs()])
    hosts = [view.host("many"), view.host("few")]
    assert order(hosts, ask, weighers_for(policy))[0].name == best

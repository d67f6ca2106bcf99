"""Matching requests to pools: Nova's spec rules, unrequested device kinds, NUMA, joint fits."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from vfnet.inventory.matching import PoolMatcher, filter_pools, spec_matches, support_requests
from vfnet.inventory.pools import Pool, PoolKey, build_pools
from vfnet.inventory.requests import NumaPolicy, PciRequest
from vfnet.pci.address import PciAddress

from .hosts import card, pci, pf, vf

VF_KEY = {
    "vendor_id": "8086",
    "product_id": "154c",
    "numa_node": "0",
    "dev_type": "type-VF",
    "address": "0000:3b:00.0",
    "physical_network": "physnet1",
    "remote_managed": "false",
}
DIRECT_PORT = {"physical_network": "physnet1", "remote_managed": "False"}


@pytest.mark.parametrize(
    ("spec", "key", "matches"),
    [
        pytest.param({}, VF_KEY, True, id="an empty spec matches any pool"),
        pytest.param(
            {"physical_network": "PhysNet1"}, VF_KEY, True, id="strings compare lower-cased"
        ),
        pytest.param({"physical_network": "physnet2"}, VF_KEY, False, id="a different value fails"),
        pytest.param(
            {"trusted": "true"}, VF_KEY, False, id="a key the pool lacks fails (extra key)"
        ),
        pytest.param({"trusted": None}, VF_KEY, True, id="None matches a key the pool lacks"),
        pytest.param(
            {"physical_network": None}, VF_KEY, False, id="None does not match a tagged pool"
        ),
        pytest.param({"numa_node": 0}, VF_KEY, False, id="ints are not coerced to strings"),
        pytest.param({"numa_node": "0"}, VF_KEY, True, id="the string form matches"),
        pytest.param(
            {"resource_class": "CUSTOM_NIC", "rp_uuids": "x"},
            VF_KEY,
            True,
            id="placement keys are ignored",
        ),
        pytest.param(
            {"remote_managed": "False"}, VF_KEY, True, id="a bool string matches case-insensitively"
        ),
        pytest.param(
            {"traits": ["A"], "caps": ["rx", "tx"]},
            {**VF_KEY, "caps": ("tx", "rx", "sg")},
            True,
            id="a list value is a subset",
        ),
        pytest.param(
            {"caps": ["rx", "lro"]},
            {**VF_KEY, "caps": ("tx", "rx")},
            False,
            id="a list value not a subset fails",
        ),
        pytest.param(
            {"caps": ["rx"]},
            {**VF_KEY, "caps": "rx"},
            False,
            id="a list value against a string fails",
        ),
    ],
)
def test_spec_matching(spec: dict[str, Any], key: dict[str, Any], matches: bool) -> None:
    assert spec_matches(spec, PoolKey.of(key)) is matches


def mixed_host() -> list[Pool]:
    return build_pools(
        [
            *card(0, 4, numa=0, physical_network="physnet1"),
            *card(1, 4, numa=1, physical_network="physnet1"),
            pf(2),
            *[vf(2, i, vdpa=True, physical_network="physnet1") for i in range(2)],
            pf(3),
            *[vf(3, i, physical_network="physnet1", remote_managed="true") for i in range(2)],
            pci(0x81),
        ]
    )


def kinds(pools: list[Pool]) -> list[tuple[str, str | None]]:
    return [(pool.dev_type, pool.key.get("address")) for pool in pools]


@pytest.mark.parametrize(
    ("count", "specs", "expected"),
    [
        pytest.param(
            1,
            [DIRECT_PORT],
            [("type-VF", "0000:3b:00.0"), ("type-VF", "0000:3c:00.0")],
            id="a direct port gets plain vfs only",
        ),
        pytest.param(
            8,
            [DIRECT_PORT],
            [("type-VF", "0000:3b:00.0"), ("type-VF", "0000:3c:00.0")],
            id="every plain vf is enough for 8",
        ),
        pytest.param(9, [DIRECT_PORT], [], id="9 is more than the plain vfs"),
        pytest.param(
            1,
            [{"dev_type": "type-PF"}],
            [("type-PF", f"0000:{b}:00.0") for b in ("3b", "3c", "3d", "3e")],
            id="pfs only when asked",
        ),
        pytest.param(1, [{"dev_type": "TYPE-PF"}], [], id="asking for pfs is case-sensitive"),
        pytest.param(
            1,
            [{**DIRECT_PORT, "dev_type": "vdpa"}],
            [("vdpa", "0000:3d:00.0")],
            id="vdpa only when asked",
        ),
        pytest.param(
            1,
            [{**DIRECT_PORT, "remote_managed": "True"}],
            [("type-VF", "0000:3e:00.0")],
            id="remote-managed only when asked",
        ),
        pytest.param(
            1,
            [{"vendor_id": "10de", "remote_managed": "False"}],
            [],
            id="a port request never matches a type-PCI device",
        ),
        pytest.param(
            1,
            [{"vendor_id": "10de"}],
            [("type-PCI", "0000:81:00.0")],
            id="an alias request matches a type-PCI device",
        ),
        pytest.param(1, [], [], id="an empty spec list matches nothing"),
        pytest.param(
            1,
            [{"dev_type": "type-PF"}, {"vendor_id": "10de"}],
            [("type-PCI", "0000:81:00.0")]
            + [("type-PF", f"0000:{b}:00.0") for b in ("3b", "3c", "3d", "3e")],
            id="spec dicts are or-ed",
        ),
    ],
)
def test_filter_pools(
    count: int, specs: list[dict[str, Any]], expected: list[tuple[str, str]]
) -> None:
    assert kinds(filter_pools(mixed_host(), PciRequest(count, tuple(specs)))) == expected


def live_migratable_pools() -> list[Pool]:
    return build_pools(
        [
            *card(0, 2, with_pf=False, live_migratable="true"),
            *card(1, 2, with_pf=False, live_migratable="false"),
            *card(2, 2, with_pf=False),
        ]
    )


@pytest.mark.parametrize(
    ("specs", "expected"),
    [
        pytest.param(
            [{"live_migratable": "true"}], ["0000:3b:00.0"], id="all specs true keeps tagged true"
        ),
        pytest.param(
            [{"live_migratable": "false"}],
            ["0000:3c:00.0"],
            id="all specs false keeps explicit false only",
        ),
        pytest.param(
            [{"live_migratable": "true"}, {"live_migratable": "false"}],
            ["0000:3b:00.0", "0000:3c:00.0"],
            id="disagreeing specs do not filter",
        ),
        pytest.param(
            [{"live_migratable": "true"}, {"vendor_id": "8086"}],
            ["0000:3d:00.0", "0000:3b:00.0", "0000:3c:00.0"],
            id="a silent spec means no filtering",
        ),
        pytest.param(
            [{}],
            ["0000:3d:00.0", "0000:3b:00.0", "0000:3c:00.0"],
            id="no opinion keeps everything, fewer keys first",
        ),
    ],
)
def test_live_migratable_rule(specs: list[dict[str, Any]], expected: list[str]) -> None:
    found = filter_pools(live_migratable_pools(), PciRequest(1, tuple(specs)))
    assert [pool.key.get("address") for pool in found] == expected


def numa_pools() -> list[Pool]:
    def pool(node: int | None, bus: int) -> Pool:
        key = {**VF_KEY, "numa_node": None if node is None else str(node), "address": f"n{node}"}
        return Pool(PoolKey.of(key), [PciAddress(0, bus, 2, i) for i in range(2)])

    return [pool(2, 0x10), pool(None, 0x11), pool(1, 0x12), pool(0, 0x13)]


SOCKETS = {0: 0, 1: 0, 2: 1}


@pytest.mark.parametrize(
    ("policy", "count", "cells", "sockets", "expected"),
    [
        pytest.param("required", 2, {0}, SOCKETS, [0], id="required: the instance's cells"),
        pytest.param(
            "required", 3, {0}, SOCKETS, None, id="required: never elsewhere, never unknown"
        ),
        pytest.param(
            "required", 4, {0, 1}, SOCKETS, [1, 0], id="required: every instance cell counts"
        ),
        pytest.param("legacy", 2, {0}, SOCKETS, [0], id="legacy: the cells when enough"),
        pytest.param("legacy", 3, {0}, SOCKETS, [None, 0], id="legacy: then unknown-numa devices"),
        pytest.param("legacy", 5, {0}, SOCKETS, None, id="legacy: never other nodes"),
        pytest.param("preferred", 2, {0}, SOCKETS, [0], id="preferred: the cells when enough"),
        pytest.param(
            "preferred", 3, {0}, SOCKETS, [None, 0], id="preferred: then unknown-numa devices"
        ),
        pytest.param(
            "preferred",
            7,
            {0},
            SOCKETS,
            [0, None, 2, 1],
            id="preferred: then anything, affine first",
        ),
        pytest.param(
            "preferred", 9, {0}, SOCKETS, None, id="preferred: still not more than exists"
        ),
        pytest.param("socket", 2, {0}, SOCKETS, [0], id="socket: the cells when enough"),
        pytest.param(
            "socket", 3, {0}, SOCKETS, [1, 0], id="socket: then same-socket nodes, not unknown"
        ),
        pytest.param("socket", 5, {0}, SOCKETS, None, id="socket: never another socket"),
        pytest.param(
            "socket",
            3,
            {0},
            {0: 0, 1: 0, 2: None},
            None,
            id="socket: a host cell without socket fails",
        ),
        pytest.param("socket", 3, {0}, {}, None, id="socket: no socket map fails"),
    ],
)
def test_numa_policies(
    policy: str,
    count: int,
    cells: set[int],
    sockets: dict[int, int | None],
    expected: list[int | None] | None,
) -> None:
    request = PciRequest(count, ({},), numa_policy=NumaPolicy.parse(policy))
    found = filter_pools(numa_pools(), request, frozenset(cells), sockets)
    assert [pool.numa_node for pool in found] == (expected or [])


@pytest.mark.parametrize("policy", list(NumaPolicy))
def test_an_instance_without_numa_topology_gets_no_numa_filtering(policy: NumaPolicy) -> None:
    found = filter_pools(numa_pools(), PciRequest(8, ({},), numa_policy=policy), None)
    assert [pool.numa_node for pool in found] == [2, None, 1, 0]


def anti_affinity_host() -> list[Pool]:
    # PF 0's pool has fewer keys, so it comes first and greedy fitting would take it.
    return build_pools(
        [
            *card(0, 2, physical_network="physnet1"),
            *card(1, 2, physical_network="physnet1", trusted="true"),
        ]
    )


@pytest.mark.parametrize(
    ("pools", "requests", "fits"),
    [
        pytest.param(
            build_pools(card(0, 4, physical_network="physnet1")),
            [PciRequest(3, (DIRECT_PORT,)), PciRequest(2, (DIRECT_PORT,))],
            False,
            id="requests fit together or not at all",
        ),
        pytest.param(
            build_pools(
                card(0, 4, physical_network="physnet1") + card(1, 4, physical_network="physnet1")
            ),
            [PciRequest(3, (DIRECT_PORT,)), PciRequest(2, (DIRECT_PORT,))],
            True,
            id="two pfs hold both requests",
        ),
        pytest.param(
            build_pools(card(0, 4)),
            [PciRequest(1, ({"product_id": "154c"},)), PciRequest(1, ({"dev_type": "type-PF"},))],
            False,
            id="a vf taken blocks its pf",
        ),
        pytest.param(
            build_pools(card(0, 4)),
            [PciRequest(1, ({"dev_type": "type-PF"},)), PciRequest(1, ({"product_id": "154c"},))],
            False,
            id="a pf taken blocks its vfs",
        ),
        pytest.param(
            build_pools(card(0, 4) + card(1, 4)),
            [PciRequest(1, ({"dev_type": "type-PF"},)), PciRequest(1, ({"product_id": "154c"},))],
            True,
            id="a pf and a vf of another pf fit",
        ),
        pytest.param(
            build_pools(card(0, 4, physical_network="physnet1")),
            [
                PciRequest(1, (DIRECT_PORT,), pf_group="ha"),
                PciRequest(1, (DIRECT_PORT,), pf_group="ha"),
            ],
            False,
            id="an anti-affine pair needs two pfs",
        ),
        pytest.param(
            build_pools(card(0, 4, physical_network="physnet1")),
            [
                PciRequest(1, (DIRECT_PORT,), pf_group="a"),
                PciRequest(1, (DIRECT_PORT,), pf_group="b"),
            ],
            True,
            id="different groups may share a pf",
        ),
        pytest.param(
            anti_affinity_host(),
            [
                PciRequest(1, ({"physical_network": "physnet1"},), pf_group="ha"),
                PciRequest(1, ({"physical_network": "physnet1", "trusted": None},), pf_group="ha"),
            ],
            True,
            id="anti-affinity backtracks from the first choice",
        ),
    ],
)
def test_support_requests(pools: list[Pool], requests: list[PciRequest], fits: bool) -> None:
    before = [(pool.key, list(pool.free)) for pool in pools]
    assert support_requests(pools, requests) is fits
    assert [(pool.key, pool.free) for pool in pools] == before


def test_an_anti_affine_plan_uses_two_pfs() -> None:
    pools = anti_affinity_host()
    requests = [
        PciRequest(1, ({"physical_network": "physnet1"},), pf_group="ha"),
        PciRequest(1, ({"physical_network": "physnet1", "trusted": None},), pf_group="ha"),
    ]
    plan = PoolMatcher(pools).plan(requests)
    assert plan is not None
    pfs = [pools[index].key.get("address") for takes in plan for index, _ in takes]
    assert pfs == ["0000:3c:00.0", "0000:3b:00.0"]


def test_support_requests_with_numa_cells_applies_the_policy_to_every_request() -> None:
    pools = numa_pools()
    required = [PciRequest(2, ({},), numa_policy=NumaPolicy.REQUIRED)] * 2
    assert support_requests(pools, required, frozenset({0, 1})) is True
    assert support_requests(pools, [*required, required[0]], frozenset({0, 1})) is False


def test_an_alias_spec_with_capability_type_pci_still_matches_its_devices() -> None:
    pools = build_pools([pci(0x81)])
    spec = {"vendor_id": "10de", "product_id": "1eb8", "capability_type": "pci"}
    assert support_requests(pools, [PciRequest(1, (spec,))], None, {})


def test_device_plugin_pools_do_not_merge_even_when_their_devices_look_alike() -> None:
    a = vf(0, 0, physical_network="physnet1")
    b = vf(0, 1, physical_network="physnet1")
    pools = build_pools(
        [replace(a, resource_name="intel.com/a"), replace(b, resource_name="intel.com/b")]
    )
    assert len(pools) == 2

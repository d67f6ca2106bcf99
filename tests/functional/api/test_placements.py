"""Placements end to end: report inventory, place an instance, read it back, release it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.functional.api.conftest import Api

PF0, PF1 = "0000:3b:00.0", "0000:3b:00.1"


def vf(pf: str, index: int, numa_node: int = 0) -> dict[str, Any]:
    bus_slot = "0000:3b:02" if pf == PF0 else "0000:3b:0a"
    return {
        "address": f"{bus_slot}.{index}",
        "dev_type": "type-VF",
        "vendor_id": "8086",
        "product_id": "154c",
        "parent_addr": pf,
        "vf_index": index,
        "numa_node": numa_node,
        "tags": {"physical_network": "physnet1"},
    }


@pytest.fixture
def fleet(api: Api) -> Api:
    """compute-1: two PFs with two VFs each on physnet1 (NUMA 0); compute-2: nothing."""
    devices = [vf(PF0, 0), vf(PF0, 1), vf(PF1, 0), vf(PF1, 1)]
    body = {"report_generation": 1, "devices": devices}
    response = api.call("PUT", "/v1/hosts/compute-1/inventory", "agent", json=body)
    assert response.status_code == 200, response.text
    return api


def port(name: str, **extra: Any) -> dict[str, Any]:
    return {"id": name, "vnic_type": "direct", "physnet": "physnet1", **extra}


def free_vfs(api: Api) -> int:
    devices = api.call("GET", "/v1/devices?host=compute-1&state=available", "admin").json()
    return len(devices["devices"])


def test_placing_an_instance_claims_its_devices_on_the_host_that_has_them(fleet: Api) -> None:
    body = {"instance_id": "vm-1", "ports": [port("p1")], "flavor": "small"}
    response = fleet.call("POST", "/v1/placements", "member", json=body)
    assert response.status_code == 201, response.text
    placed = response.json()
    assert (placed["host"], placed["project"]) == ("compute-1", "blue")
    assert len(placed["devices"]) == 2
    assert free_vfs(fleet) == 2
    assert fleet.call("GET", "/v1/placements/vm-1", "member").json() == placed


def test_deleting_a_placement_gives_its_devices_back(fleet: Api) -> None:
    body = {"instance_id": "vm-1", "ports": [port("p1"), port("p2")]}
    assert fleet.call("POST", "/v1/placements", "member", json=body).status_code == 201
    assert free_vfs(fleet) == 2
    assert fleet.call("DELETE", "/v1/placements/vm-1", "member").status_code == 204
    assert free_vfs(fleet) == 4


@pytest.mark.parametrize(
    "body",
    [
        {"ports": [port(f"p{i}") for i in range(5)]},
        {"ports": [port("p1", physnet="physnet9")]},
        {"pci_requests": [{"alias": "cx5-pf"}]},
        {"ports": [port(f"p{i}", pf_group="ha") for i in range(3)]},
        {"ports": [port("p1", numa_policy="required")], "numa_cells": [1]},
    ],
    ids=[
        "more VFs than exist",
        "unknown physnet",
        "no such PF",
        "three PFs for an HA trio",
        "required NUMA on an empty node",
    ],
)
def test_a_request_no_host_can_serve_is_a_409_and_claims_nothing(
    fleet: Api, body: dict[str, Any]
) -> None:
    response = fleet.call("POST", "/v1/placements", "member", json={"instance_id": "vm-1", **body})
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "no_valid_host"
    assert free_vfs(fleet) == 4
    assert fleet.call("GET", "/v1/placements/vm-1", "member").status_code == 404


def test_an_anti_affinity_pair_gets_vfs_of_two_different_pfs(fleet: Api) -> None:
    body = {"instance_id": "vm-ha", "ports": [port("a", pf_group="ha"), port("b", pf_group="ha")]}
    response = fleet.call("POST", "/v1/placements", "admin", json=body)
    assert response.status_code == 201, response.text
    addresses = [device["address"] for device in response.json()["devices"]]
    devices = fleet.call("GET", "/v1/devices?host=compute-1", "admin").json()["devices"]
    parents = {d["parent_addr"] for d in devices if d["address"] in addresses}
    assert parents == {PF0, PF1}


def test_an_inline_alias_request_is_served_like_a_flavor_one(fleet: Api) -> None:
    body = {"instance_id": "vm-1", "pci_requests": [{"alias": "x710-vf", "count": 3}]}
    response = fleet.call("POST", "/v1/placements", "member", json=body)
    assert response.status_code == 201, response.text
    assert len(response.json()["devices"]) == 3

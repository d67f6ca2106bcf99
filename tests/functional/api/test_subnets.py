"""Subnets over HTTP: gateways and allocation pools, the addresses ports get, and refusals."""

from __future__ import annotations

from typing import Any

import pytest

from tests.functional.api.conftest import Api
from tests.functional.api.networking import error_of, network, port, subnet

POOLS = "allocation_pools"


def test_a_subnet_left_to_its_defaults_gets_the_first_address_as_gateway(api: Api) -> None:
    net = network(api)
    made = api.call("GET", f"/v1/subnets/{subnet(api, net)}", "member").json()
    assert (made["cidr"], made["ip_version"], made["gateway_ip"]) == (
        "192.0.2.0/24",
        4,
        "192.0.2.1",
    )
    assert made[POOLS] == [{"start": "192.0.2.2", "end": "192.0.2.254"}]
    assert api.call("GET", f"/v1/networks/{net}", "member").json()["subnets"] == [made["id"]]


def test_a_subnet_with_a_null_gateway_has_none_and_pools_from_the_first_address(api: Api) -> None:
    made = api.call("GET", f"/v1/subnets/{subnet(api, network(api), gateway_ip=None)}", "admin")
    assert made.json()["gateway_ip"] is None
    assert made.json()[POOLS][0]["start"] == "192.0.2.1"


@pytest.mark.parametrize(
    ("pools", "field", "words"),
    [
        (
            [
                {"start": "192.0.2.10", "end": "192.0.2.20"},
                {"start": "192.0.2.15", "end": "192.0.2.30"},
            ],
            POOLS,
            "overlap",
        ),
        ([{"start": "192.0.2.10", "end": "198.51.100.5"}], f"{POOLS}[0]", "not inside"),
        ([{"start": "10.0.0.1", "end": "10.0.0.9"}], f"{POOLS}[0]", "not inside"),
        ([{"start": "192.0.2.1", "end": "192.0.2.9"}], f"{POOLS}[0]", "gateway"),
    ],
    ids=["overlapping pools", "pool running out of the CIDR", "pool outside the CIDR", "gateway"],
)
def test_a_bad_allocation_pool_is_refused_naming_the_pool(
    api: Api, pools: list[dict[str, str]], field: str, words: str
) -> None:
    body = {"network_id": network(api), "cidr": "192.0.2.0/24", POOLS: pools}
    error = error_of(api.call("POST", "/v1/subnets", "admin", json=body), 400)
    assert (error["code"], error["field"]) == ("invalid_value", field)
    assert field in error["message"] and words in error["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"cidr": "192.0.2.7/24"}, "cidr"),
        ({"cidr": "not-a-cidr"}, "cidr"),
        ({"cidr": "192.0.2.0/24", "gateway_ip": "198.51.100.1"}, "gateway_ip"),
        ({"cidr": "192.0.2.0/24", "ip_version": 6}, "ip_version"),
        ({"cidr": "192.0.2.0/24", "dns": ["x"]}, "dns"),
    ],
    ids=["host bits set", "not a CIDR", "gateway outside", "wrong version", "unknown field"],
)
def test_a_bad_subnet_is_refused_naming_the_field(
    api: Api, body: dict[str, Any], field: str
) -> None:
    response = api.call("POST", "/v1/subnets", "admin", json={"network_id": network(api), **body})
    assert error_of(response, 400)["field"] == field


def test_a_cidr_overlapping_another_subnet_of_the_network_is_a_conflict(api: Api) -> None:
    net = network(api)
    subnet(api, net, "192.0.2.0/24")
    body = {"network_id": net, "cidr": "192.0.2.128/25"}
    error = error_of(api.call("POST", "/v1/subnets", "admin", json=body), 409)
    assert "overlaps" in error["message"]


def test_an_ipv6_subnet_serves_addresses_too(api: Api) -> None:
    net = network(api)
    subnet(api, net, "2001:db8::/64")
    made = port(api, net)
    assert made["fixed_ips"][0]["ip_address"] == "2001:db8::2"


def test_a_full_subnet_refuses_the_next_port_with_its_pools(api: Api) -> None:
    net = network(api)
    subnet(api, net, "192.0.2.0/29", **{POOLS: [{"start": "192.0.2.2", "end": "192.0.2.3"}]})
    assert [port(api, net)["fixed_ips"][0]["ip_address"] for _ in range(2)] == [
        "192.0.2.2",
        "192.0.2.3",
    ]
    error = error_of(api.call("POST", "/v1/ports", "member", json={"network_id": net}), 409)
    assert error["code"] == "ip_address_exhausted"
    assert "192.0.2.2-192.0.2.3" in error["message"]


def test_a_subnet_with_allocated_addresses_cannot_be_deleted(api: Api) -> None:
    net = network(api)
    sub = subnet(api, net)
    made = port(api, net)
    assert error_of(api.call("DELETE", f"/v1/subnets/{sub}", "admin"), 409)["code"] == "in_use"
    api.call("DELETE", f"/v1/ports/{made['id']}", "member")
    assert api.call("DELETE", f"/v1/subnets/{sub}", "admin").status_code == 204


def test_an_update_renames_a_subnet_and_keeps_the_rest(api: Api) -> None:
    sub = subnet(api, network(api))
    response = api.call("PUT", f"/v1/subnets/{sub}", "admin", json={"name": "renamed"})
    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["gateway_ip"]) == ("renamed", "192.0.2.1")


def test_a_member_sees_no_subnet_of_a_network_it_cannot_see(api: Api) -> None:
    hidden = subnet(api, network(api, "red", shared=False, project_id="red"))
    visible = subnet(api, network(api, "shared", vlan=101), "198.51.100.0/24")
    listed = api.call("GET", "/v1/subnets", "member").json()["subnets"]
    assert [s["id"] for s in listed] == [visible]
    assert api.call("GET", f"/v1/subnets/{hidden}", "member").status_code == 404
    assert (
        api.call(
            "POST", "/v1/subnets", "member", json={"network_id": "x", "cidr": "10.0.0.0/8"}
        ).status_code
        == 403
    )

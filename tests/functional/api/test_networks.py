"""Networks over HTTP: provider segments, who may make and see them, and deletion."""

from __future__ import annotations

from typing import Any

import pytest

from tests.functional.api.conftest import Api
from tests.functional.api.networking import FLAT, VLAN, error_of, network, port

SEGMENT_ID = "provider:segmentation_id"


def test_an_admin_creates_a_vlan_network_shown_with_neutron_field_names(api: Api) -> None:
    body = {"name": "net1", **VLAN, SEGMENT_ID: 100}
    response = api.call("POST", "/v1/networks", "admin", json=body)
    assert response.status_code == 201, response.text
    made = response.json()
    assert made["provider:network_type"] == "vlan"
    assert made["provider:physical_network"] == "physnet1"
    assert made[SEGMENT_ID] == 100
    assert (made["status"], made["shared"], made["subnets"]) == ("ACTIVE", False, [])
    assert api.call("GET", f"/v1/networks/{made['id']}", "admin").json() == made


@pytest.mark.parametrize(
    ("segment", "words"),
    [
        (VLAN | {SEGMENT_ID: 0}, "1-4094"),
        (VLAN | {SEGMENT_ID: 4095}, "1-4094"),
        (VLAN, "required"),
        (FLAT | {SEGMENT_ID: 100}, "flat network takes no segment id"),
    ],
    ids=["VLAN 0", "VLAN 4095", "vlan without an id", "segment id on flat"],
)
def test_a_bad_segment_id_is_refused_naming_the_field(
    api: Api, segment: dict[str, Any], words: str
) -> None:
    response = api.call("POST", "/v1/networks", "admin", json={"name": "n", **segment})
    error = error_of(response, 400)
    assert (error["code"], error["field"]) == ("invalid_value", SEGMENT_ID)
    assert SEGMENT_ID in error["message"] and words in error["message"]


def test_a_network_on_a_physnet_no_host_has_is_accepted(api: Api) -> None:
    body = {"name": "far", "provider:network_type": "flat", "provider:physical_network": "nowhere"}
    response = api.call("POST", "/v1/networks", "admin", json=body)
    assert response.status_code == 201, response.text


def test_a_vlan_already_used_on_the_physnet_is_a_conflict(api: Api) -> None:
    network(api, "first", vlan=100)
    body = {"name": "second", **VLAN, SEGMENT_ID: 100}
    error = error_of(api.call("POST", "/v1/networks", "admin", json=body), 409)
    assert error["code"] == "conflict" and "VLAN 100" in error["message"]


def test_a_field_without_its_provider_prefix_is_an_unknown_field(api: Api) -> None:
    body = {"name": "n", "network_type": "vlan"}
    error = error_of(api.call("POST", "/v1/networks", "admin", json=body), 400)
    assert (error["code"], error["field"]) == ("unknown_field", "network_type")


def test_a_member_may_not_create_a_network(api: Api) -> None:
    body = {"name": "mine", **VLAN, SEGMENT_ID: 7}
    assert error_of(api.call("POST", "/v1/networks", "member", json=body), 403)["code"] == (
        "forbidden"
    )


def test_a_member_sees_shared_and_own_networks_and_nothing_else(api: Api) -> None:
    shared = network(api, "shared", vlan=10)
    own = network(api, "blue", vlan=11, shared=False, project_id="blue")
    other = network(api, "red", vlan=12, shared=False, project_id="red")
    listed = api.call("GET", "/v1/networks", "member").json()["networks"]
    assert {n["id"] for n in listed} == {shared, own}
    missing = api.call("GET", "/v1/networks/no-such-network", "member")
    hidden = api.call("GET", f"/v1/networks/{other}", "member")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["error"]["code"] == "not_found"


def test_an_update_changes_only_the_fields_it_names(api: Api) -> None:
    net = network(api, "before", vlan=20)
    response = api.call("PUT", f"/v1/networks/{net}", "admin", json={"admin_state_up": False})
    assert response.status_code == 200, response.text
    updated = response.json()
    assert (updated["name"], updated["shared"], updated[SEGMENT_ID]) == ("before", True, 20)
    assert (updated["admin_state_up"], updated["status"]) == (False, "DOWN")


def test_the_segment_of_a_network_cannot_be_updated(api: Api) -> None:
    net = network(api, vlan=20)
    response = api.call("PUT", f"/v1/networks/{net}", "admin", json={SEGMENT_ID: 21})
    assert error_of(response, 400)["code"] == "unknown_field"


def test_deleting_a_network_that_still_has_ports_is_refused_until_they_go(api: Api) -> None:
    net = network(api)
    made = port(api, net)
    error = error_of(api.call("DELETE", f"/v1/networks/{net}", "admin"), 409)
    assert error["code"] == "in_use" and "1 port" in error["message"]
    assert api.call("DELETE", f"/v1/ports/{made['id']}", "member").status_code == 204
    assert api.call("DELETE", f"/v1/networks/{net}", "admin").status_code == 204
    assert api.call("GET", f"/v1/networks/{net}", "admin").status_code == 404

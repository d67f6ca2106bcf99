"""A network's MTU over HTTP: given on creation or later, checked, shown, and carried to the
hosts where its ports are bound (their desired state moves and shows it)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.functional.api.conftest import Api
from tests.functional.api.networking import VLAN, error_of, network
from tests.functional.api.test_desired import bind, bound_port, desired, fleet  # noqa: F401

SEGMENT_ID = "provider:segmentation_id"


def made(api: Api, **fields: Any) -> dict[str, Any]:
    response = api.call("POST", "/v1/networks", "admin", json={"name": "n", **VLAN,
                        SEGMENT_ID: 100, **fields})  # fmt: skip
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_a_network_created_without_an_mtu_has_ethernet_s_1500(api: Api) -> None:
    assert made(api)["mtu"] == 1500


def test_a_jumbo_mtu_given_on_creation_is_kept_and_shown(api: Api) -> None:
    network_id = made(api, mtu=9000)["id"]
    assert api.call("GET", f"/v1/networks/{network_id}", "admin").json()["mtu"] == 9000
    listed = api.call("GET", "/v1/networks", "admin").json()["networks"]
    assert [n["mtu"] for n in listed] == [9000]


@pytest.mark.parametrize(
    ("mtu", "words"),
    [(67, "greater than or equal to 68"), (9217, "less than or equal to 9216"),
     ("1500", "integer"), (True, "integer"), (None, "integer")],
    ids=["below IPv4's minimum", "above jumbo", "text", "a boolean", "null"],
)  # fmt: skip
def test_a_bad_mtu_on_creation_is_refused_naming_mtu(api: Api, mtu: object, words: str) -> None:
    body = {"name": "n", **VLAN, SEGMENT_ID: 100, "mtu": mtu}
    error = error_of(api.call("POST", "/v1/networks", "admin", json=body), 400)
    assert (error["code"], error["field"]) == ("invalid_value", "mtu")
    assert words in error["message"]
    assert api.call("GET", "/v1/networks", "admin").json()["networks"] == []


def test_an_admin_changes_the_mtu_and_a_bad_one_changes_nothing(api: Api) -> None:
    network_id = network(api)
    path = f"/v1/networks/{network_id}"
    response = api.call("PUT", path, "admin", json={"mtu": 1450})
    assert response.status_code == 200, response.text
    assert response.json()["mtu"] == 1450
    error = error_of(api.call("PUT", path, "admin", json={"mtu": 65000}), 400)
    assert error["field"] == "mtu"
    assert api.call("GET", path, "admin").json()["mtu"] == 1450


def test_a_member_cannot_change_a_network_s_mtu(api: Api) -> None:
    network_id = network(api)
    response = api.call("PUT", f"/v1/networks/{network_id}", "member", json={"mtu": 9000})
    assert response.status_code in (403, 404), response.text
    assert api.call("GET", f"/v1/networks/{network_id}", "admin").json()["mtu"] == 1500


def test_a_bound_port_s_vf_gets_its_network_s_mtu(fleet: Api) -> None:  # noqa: F811
    bound = bound_port(fleet)
    document = desired(fleet)
    assert document["devices"][bound["binding:profile"]["pci_slot"]]["mtu"] == 1500
    before = document["generation"]
    response = fleet.call("PUT", f"/v1/networks/{bound['network_id']}", "admin", json={"mtu": 9000})
    assert response.status_code == 200, response.text
    after = desired(fleet)
    assert after["generation"] > before
    assert after["devices"][bound["binding:profile"]["pci_slot"]]["mtu"] == 9000


def test_an_mtu_change_on_a_network_without_bound_ports_moves_no_host(fleet: Api) -> None:  # noqa: F811
    network_id = network(fleet, "idle", vlan=900)
    before = desired(fleet)["generation"]
    response = fleet.call("PUT", f"/v1/networks/{network_id}", "admin", json={"mtu": 9000})
    assert response.status_code == 200, response.text
    assert desired(fleet)["generation"] == before

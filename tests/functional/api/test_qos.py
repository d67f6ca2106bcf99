"""QoS policies over HTTP: rules a VF can enforce, refusals naming the rule, and attachment."""

from __future__ import annotations

from typing import Any

import pytest

from tests.functional.api.conftest import Api
from tests.functional.api.networking import created, error_of, network

LIMIT = {"type": "bandwidth_limit", "max_kbps": 10_000}
MINIMUM = {"type": "minimum_bandwidth", "min_kbps": 2_000}


def policy(api: Api, *rules: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return created(api, "/v1/qos-policies", {"name": "gold", "rules": list(rules), **fields})


def test_a_policy_keeps_its_rules_egress(api: Api) -> None:
    made = policy(api, LIMIT, MINIMUM, shared=True)
    assert made["rules"] == [LIMIT | {"direction": "egress"}, MINIMUM | {"direction": "egress"}]
    assert api.call("GET", f"/v1/qos-policies/{made['id']}", "member").json() == made


@pytest.mark.parametrize(
    ("rules", "field", "words"),
    [
        ([LIMIT | {"max_kbps": -1}], "rules[0].max_kbps", "negative"),
        ([MINIMUM | {"min_kbps": -5}], "rules[0].min_kbps", "negative"),
        ([LIMIT | {"max_kbps": 2**31}], "rules[0].max_kbps", "faster than any NIC"),
        ([LIMIT, MINIMUM | {"min_kbps": 20_000}], "rules[1].min_kbps", "above"),
        ([{"type": "dscp_marking"}], "rules[0].type", "DSCP"),
        ([LIMIT | {"direction": "ingress"}], "rules[0].direction", "egress"),
        ([LIMIT | {"max_burst_kbps": 100}], "rules[0].max_burst_kbps", "burst"),
        ([LIMIT, LIMIT], "rules", "already has"),
        ([LIMIT | {"max_kbps": "fast"}], "rules[0].max_kbps", ""),
    ],
    ids=[
        "negative max",
        "negative min",
        "absurd max",
        "min above max",
        "dscp marking",
        "ingress",
        "burst",
        "two limits",
        "not a number",
    ],
)
def test_a_rule_a_vf_cannot_enforce_is_refused_naming_the_rule_field(
    api: Api, rules: list[dict[str, Any]], field: str, words: str
) -> None:
    body = {"name": "bad", "rules": rules}
    error = error_of(api.call("POST", "/v1/qos-policies", "admin", json=body), 400)
    assert (error["code"], error["field"]) == ("invalid_value", field)
    assert field in error["message"] and words in error["message"]


def test_an_update_with_rules_replaces_them_all(api: Api) -> None:
    made = policy(api, LIMIT, MINIMUM)
    body = {"rules": [LIMIT | {"max_kbps": 500}]}
    response = api.call("PUT", f"/v1/qos-policies/{made['id']}", "admin", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["rules"] == [LIMIT | {"max_kbps": 500, "direction": "egress"}]
    assert response.json()["name"] == "gold"


def test_a_member_reads_shared_policies_only_and_writes_none(api: Api) -> None:
    shared = policy(api, LIMIT, shared=True)
    private = policy(api, LIMIT, project_id="red")
    listed = api.call("GET", "/v1/qos-policies", "member").json()["qos_policies"]
    assert [p["id"] for p in listed] == [shared["id"]]
    assert error_of(api.call("GET", f"/v1/qos-policies/{private['id']}", "member"), 404)
    body = {"name": "mine", "rules": [LIMIT]}
    assert error_of(api.call("POST", "/v1/qos-policies", "member", json=body), 403)


def test_a_policy_attached_to_a_network_cannot_be_deleted_until_detached(api: Api) -> None:
    made = policy(api, LIMIT, shared=True)
    net = network(api, qos_policy_id=made["id"])
    assert api.call("GET", f"/v1/networks/{net}", "admin").json()["qos_policy_id"] == made["id"]
    path = f"/v1/qos-policies/{made['id']}"
    assert error_of(api.call("DELETE", path, "admin"), 409)["code"] == "in_use"
    detach = api.call("PUT", f"/v1/networks/{net}", "admin", json={"qos_policy_id": None})
    assert detach.json()["qos_policy_id"] is None
    assert api.call("DELETE", path, "admin").status_code == 204


def test_a_port_with_a_policy_it_cannot_see_is_refused_as_missing(api: Api) -> None:
    private = policy(api, LIMIT, project_id="red")
    body = {"network_id": network(api), "qos_policy_id": private["id"]}
    assert error_of(api.call("POST", "/v1/ports", "member", json=body), 404)["code"] == (
        "not_found"
    )


def test_a_network_naming_a_missing_policy_is_refused(api: Api) -> None:
    body = {"name": "n", "provider:network_type": "flat", "provider:physical_network": "p",
            "qos_policy_id": "no-such-policy"}  # fmt: skip
    assert error_of(api.call("POST", "/v1/networks", "admin", json=body), 404)

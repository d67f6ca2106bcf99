"""Ports over HTTP: MACs, fixed IPs, vnic types, the profile, mirroring, and who sees what."""

from __future__ import annotations

from random import Random
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.functional.api.conftest import Api
from tests.functional.api.networking import error_of, network, port, subnet
from vfnet.api.app import create_app
from vfnet.api.settings import ApiSettings
from vfnet.network.macs import MacBase

MAC = "fa:16:3e:12:34:56"


@pytest.fixture
def net(api: Api) -> str:
    made = network(api)
    subnet(api, made)
    return made


def test_a_member_port_gets_a_generated_mac_the_lowest_address_and_stays_down(
    api: Api, net: str
) -> None:
    made = port(api, net, **{"binding:vnic_type": "direct"})
    assert made["mac_address"].startswith("fa:16:3e:")
    assert [ip["ip_address"] for ip in made["fixed_ips"]] == ["192.0.2.2"]
    assert (made["project_id"], made["status"]) == ("blue", "DOWN")
    assert (made["binding:vif_type"], made["binding:host_id"]) == ("unbound", None)
    assert (made["binding:vnic_type"], made["binding:profile"]) == ("direct", {})
    assert api.call("GET", f"/v1/ports/{made['id']}", "member").json() == made


def test_a_given_mac_is_kept_in_lower_case_colon_form(api: Api, net: str) -> None:
    assert port(api, net, mac_address="FA-16-3E-12-34-56")["mac_address"] == MAC


@pytest.mark.parametrize(
    ("mac", "words"),
    [
        ("fa:16:3e:12:34", "not a MAC"),
        ("zz:16:3e:12:34:56", "not a MAC"),
        ("01:00:5e:00:00:01", "multicast"),
    ],
    ids=["too short", "not hex", "multicast"],
)
def test_a_bad_mac_is_refused_naming_the_field(api: Api, net: str, mac: str, words: str) -> None:
    body = {"network_id": net, "mac_address": mac}
    error = error_of(api.call("POST", "/v1/ports", "member", json=body), 400)
    assert (error["code"], error["field"]) == ("invalid_value", "mac_address")
    assert "mac_address" in error["message"] and words in error["message"]


def test_a_mac_already_on_the_network_is_a_conflict(api: Api, net: str) -> None:
    port(api, net, mac_address=MAC)
    body = {"network_id": net, "mac_address": MAC}
    error = error_of(api.call("POST", "/v1/ports", "member", json=body), 409)
    assert "mac_address" in error["message"]


def test_a_requested_fixed_ip_is_given_when_free(api: Api, net: str) -> None:
    made = port(api, net, fixed_ips=[{"ip_address": "192.0.2.50"}])
    assert [ip["ip_address"] for ip in made["fixed_ips"]] == ["192.0.2.50"]


def test_a_requested_ip_outside_the_subnet_is_refused_naming_the_field(api: Api, net: str) -> None:
    sub = api.call("GET", f"/v1/networks/{net}", "member").json()["subnets"][0]
    body = {"network_id": net, "fixed_ips": [{"subnet_id": sub, "ip_address": "198.51.100.7"}]}
    error = error_of(api.call("POST", "/v1/ports", "member", json=body), 400)
    assert error["field"] == "fixed_ips" and "outside" in error["message"]


def test_a_requested_ip_already_in_use_is_a_conflict_naming_the_field(api: Api, net: str) -> None:
    port(api, net, fixed_ips=[{"ip_address": "192.0.2.50"}])
    body = {"network_id": net, "fixed_ips": [{"ip_address": "192.0.2.50"}]}
    error = error_of(api.call("POST", "/v1/ports", "member", json=body), 409)
    assert "fixed_ips" in error["message"] and "already in use" in error["message"]


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"binding:vnic_type": "remote-managed"}, "binding:vnic_type", "DPU"),
        ({"binding:vnic_type": "sriov"}, "binding:vnic_type", "unknown"),
        (
            {"binding:vnic_type": "direct", "security_groups": ["default"]},
            "security_groups",
            "cannot enforce",
        ),
        ({"binding:vnic_type": 3}, "binding:vnic_type", ""),
    ],
    ids=["remote-managed", "unknown vnic type", "security groups", "not a string"],
)
def test_a_port_vfnet_cannot_serve_is_refused_with_why(
    api: Api, net: str, fields: dict[str, Any], field: str, words: str
) -> None:
    body = {"network_id": net, **fields}
    error = error_of(api.call("POST", "/v1/ports", "member", json=body), 400)
    assert error["field"] == field and words in error["message"]


def test_a_member_setting_the_binding_profile_is_forbidden(api: Api, net: str) -> None:
    body = {"network_id": net, "binding:profile": {"trusted": True}}
    error = error_of(api.call("POST", "/v1/ports", "member", json=body), 403)
    assert error["code"] == "forbidden" and "binding:profile" in error["message"]
    made = port(api, net)
    update = {"binding:profile": {"trusted": True}}
    response = api.call("PUT", f"/v1/ports/{made['id']}", "member", json=update)
    assert error_of(response, 403)["code"] == "forbidden"


def test_an_admin_sets_trusted_but_never_a_device_key(api: Api, net: str) -> None:
    made = port(api, net, "admin", **{"binding:profile": {"trusted": "true"}})
    assert made["binding:profile"] == {"trusted": True}
    body = {"network_id": net, "binding:profile": {"pci_slot": "0000:3b:02.0"}}
    error = error_of(api.call("POST", "/v1/ports", "admin", json=body), 400)
    assert error["field"] == "binding:profile.pci_slot"


def test_a_port_cannot_mirror_to_itself(api: Api, net: str) -> None:
    made = port(api, net, **{"binding:vnic_type": "direct"})
    body = {"mirror_to": made["id"]}
    error = error_of(api.call("PUT", f"/v1/ports/{made['id']}", "member", json=body), 400)
    assert error["field"] == "mirror_to" and "itself" in error["message"]


def test_a_port_cannot_mirror_to_a_port_on_another_physnet(api: Api, net: str) -> None:
    far = network(api, "far", vlan=None, **{"provider:physical_network": "physnet2"})
    target = port(api, far, **{"binding:vnic_type": "direct"})
    body = {"network_id": net, "binding:vnic_type": "direct", "mirror_to": target["id"]}
    error = error_of(api.call("POST", "/v1/ports", "member", json=body), 400)
    assert error["field"] == "mirror_to" and "physnet2" in error["message"]


def test_a_port_mirrors_to_a_vf_port_on_its_physnet(api: Api, net: str) -> None:
    target = port(api, net, **{"binding:vnic_type": "direct"})
    made = port(api, net, **{"binding:vnic_type": "macvtap", "mirror_to": target["id"]})
    assert made["mirror_to"] == target["id"]


def test_an_update_changes_only_the_fields_it_names(api: Api, net: str) -> None:
    made = port(api, net, name="p")
    body = {"admin_state_up": False}
    response = api.call("PUT", f"/v1/ports/{made['id']}", "member", json=body)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert (updated["name"], updated["admin_state_up"]) == ("p", False)
    assert updated["mac_address"] == made["mac_address"]


def test_a_member_never_sees_another_projects_port(api: Api, net: str) -> None:
    theirs = port(api, net, "other-member")
    mine = port(api, net)
    listed = api.call("GET", "/v1/ports", "member").json()["ports"]
    assert [p["id"] for p in listed] == [mine["id"]]
    for method in ("GET", "DELETE"):
        error = error_of(api.call(method, f"/v1/ports/{theirs['id']}", "member"), 404)
        assert error["code"] == "not_found"


def test_a_member_cannot_make_a_port_on_another_projects_network(api: Api) -> None:
    red = network(api, "red", vlan=300, shared=False, project_id="red")
    error = error_of(api.call("POST", "/v1/ports", "member", json={"network_id": red}), 404)
    assert error["code"] == "not_found"


def test_a_member_cannot_make_a_port_for_another_project(api: Api, net: str) -> None:
    body = {"network_id": net, "project_id": "red"}
    assert error_of(api.call("POST", "/v1/ports", "member", json=body), 403)["code"] == "forbidden"


def test_deleting_a_port_gives_its_address_back(api: Api, net: str) -> None:
    made = port(api, net)
    assert api.call("DELETE", f"/v1/ports/{made['id']}", "member").status_code == 204
    assert port(api, net)["fixed_ips"] == made["fixed_ips"]


def test_generated_macs_come_from_the_configured_base_and_random_source(api: Api) -> None:
    net = network(api)
    settings = ApiSettings(base_mac=MacBase.parse("02:aa:bb:00:00:00"))
    app = create_app(api.store, settings, random=Random(7))
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {api.tokens['member']}"}
        macs = [
            client.post("/v1/ports", json={"network_id": net}, headers=headers).json()[
                "mac_address"
            ]
            for _ in range(2)
        ]
    expected = Random(7)
    assert macs == [
        "02:aa:bb:" + ":".join(f"{b:02x}" for b in expected.getrandbits(24).to_bytes(3, "big"))
        for _ in range(2)
    ]

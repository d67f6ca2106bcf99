"""An agent's status report over HTTP: ports ACTIVE, or ERROR with the reason; verified resets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.functional.api.conftest import Api
from tests.functional.api.test_desired import bind, bound_port, desired, fleet, state_of
from vfnet.client import Client

__all__ = ["fleet"]  # the fixture, shared with the desired-state tests


def report(api: Api, body: dict[str, Any], caller: str = "agent") -> dict[str, Any]:
    response = api.call("POST", "/v1/hosts/compute-1/status", caller, json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def port_report(port_id: str, status: str = "ACTIVE", **fields: Any) -> dict[str, Any]:
    return {"port_id": port_id, "status": status, "reason": None, "refused": [], **fields}


def shown(api: Api, port_id: str) -> dict[str, Any]:
    return dict(api.call("GET", f"/v1/ports/{port_id}", "admin").json())


@pytest.fixture
def agent(fleet: Api) -> Iterator[Client]:
    """The shared client, as compute-1's agent, against the app in-process."""
    transport: httpx.BaseTransport = fleet.client._transport
    with Client("http://testserver", fleet.tokens["agent"], transport=transport) as client:
        yield client


def test_a_port_the_agent_applied_goes_active(fleet: Api) -> None:
    bound = bound_port(fleet)
    generation = desired(fleet)["generation"]
    answer = report(fleet, {"generation": generation, "ports": [port_report(bound["id"])]})
    assert answer["ports"] == {bound["id"]: "ACTIVE"}
    port = shown(fleet, bound["id"])
    assert (port["status"], port["status_reason"]) == ("ACTIVE", None)


def test_a_port_in_error_shows_the_agent_s_reason_and_what_the_nic_refused(fleet: Api) -> None:
    bound = bound_port(fleet)
    failed = port_report(
        bound["id"],
        "ERROR",
        reason="rate refused by ens1f0: igb has no min_tx_rate",
        refused=["rate", "trust"],
    )
    report(fleet, {"generation": desired(fleet)["generation"], "ports": [failed]})
    port = shown(fleet, bound["id"])
    assert port["status"] == "ERROR"
    assert port["status_reason"] == (
        "rate refused by ens1f0: igb has no min_tx_rate (refused: trust)"
    )


def test_an_admin_down_port_applied_stays_down(fleet: Api) -> None:
    bound = bound_port(fleet)
    fleet.call("PUT", f"/v1/ports/{bound['id']}", "admin", json={"admin_state_up": False})
    report(fleet, {"generation": desired(fleet)["generation"], "ports": [port_report(bound["id"])]})
    assert shown(fleet, bound["id"])["status"] == "DOWN"


def test_a_port_not_bound_on_the_reporting_host_is_ignored(fleet: Api) -> None:
    bound = bound_port(fleet)
    bind(fleet, bound["id"], None)
    answer = report(
        fleet, {"generation": desired(fleet)["generation"], "ports": [port_report(bound["id"])]}
    )
    assert answer["ignored"] == [bound["id"]]
    assert shown(fleet, bound["id"])["status"] == "DOWN"


def test_a_report_about_an_older_desired_generation_changes_no_port(fleet: Api) -> None:
    bound = bound_port(fleet)
    old = desired(fleet)["generation"]
    fleet.call("PUT", f"/v1/ports/{bound['id']}", "admin", json={"admin_state_up": False})
    answer = report(fleet, {"generation": old, "ports": [port_report(bound["id"])]})
    assert (answer["ignored"], answer["generation"] > old) == ([bound["id"]], True)
    assert shown(fleet, bound["id"])["status"] == "DOWN"


def test_a_verified_reset_puts_the_released_vf_back_in_the_pool(fleet: Api) -> None:
    bound = bound_port(fleet)
    slot = bound["binding:profile"]["pci_slot"]
    bind(fleet, bound["id"], None)
    document = desired(fleet)
    release = {"address": slot, "claim_generation": document["released"][slot],
               "verified": True, "reason": None}  # fmt: skip
    answer = report(fleet, {"generation": document["generation"], "releases": [release]})
    assert answer["freed"] == [slot]
    assert state_of(fleet, slot) == "available"
    assert desired(fleet)["released"] == {}


def test_a_verification_for_an_older_claim_generation_is_ignored(fleet: Api) -> None:
    first = bound_port(fleet)
    slot = first["binding:profile"]["pci_slot"]
    bind(fleet, first["id"], None)
    report(fleet, {"generation": 0, "releases": [
        {"address": slot, "claim_generation": 1, "verified": True, "reason": None}]})  # fmt: skip
    # The VF is claimed again (claim generation 2) and released; a late report about the
    # first claim must not free it.
    again = bound_port(fleet, vlan=101)
    assert again["binding:profile"]["pci_slot"] == slot
    bind(fleet, again["id"], None)
    late = {"address": slot, "claim_generation": 1, "verified": True, "reason": None}
    assert report(fleet, {"generation": 0, "releases": [late]})["freed"] == []
    assert state_of(fleet, slot) == "releasing"
    assert desired(fleet)["released"] == {slot: 2}


def test_an_unverified_reset_keeps_the_vf_releasing(fleet: Api) -> None:
    bound = bound_port(fleet)
    slot = bound["binding:profile"]["pci_slot"]
    bind(fleet, bound["id"], None)
    failed = {"address": slot, "claim_generation": 1, "verified": False,
              "reason": "reads back vlan 100"}  # fmt: skip
    assert report(fleet, {"generation": 0, "releases": [failed]})["freed"] == []
    assert state_of(fleet, slot) == "releasing"


def test_a_report_with_an_unknown_field_is_refused(fleet: Api) -> None:
    body = {"generation": 0, "ports": [], "releases": [], "extra": 1}
    response = fleet.call("POST", "/v1/hosts/compute-1/status", "agent", json=body)
    assert response.status_code == 400, response.text


def test_the_client_reads_the_desired_state_reports_and_lists_the_host_s_devices(
    fleet: Api, agent: Client
) -> None:
    bound = bound_port(fleet)
    slot = bound["binding:profile"]["pci_slot"]
    document = agent.get_desired("compute-1")
    assert agent.get_desired("compute-1", since=document["generation"], wait=0.2) == document
    body = {"generation": document["generation"], "ports": [port_report(bound["id"])],
            "releases": []}  # fmt: skip
    assert agent.report_status("compute-1", body)["ports"] == {bound["id"]: "ACTIVE"}
    devices = {d["address"]: d for d in agent.list_host_devices("compute-1")}
    assert (devices[slot]["state"], devices[slot]["owner"]) == ("claimed", f"port:{bound['id']}")
    assert agent.register_host("compute-1", physnets=["physnet1"])["manages_vfs"] is False

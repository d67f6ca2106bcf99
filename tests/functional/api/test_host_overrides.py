"""What operators see and override about hosts over HTTP: refused VF attributes, forced releases."""

from __future__ import annotations

from typing import Any

import pytest

from tests.functional.api.conftest import Api
from tests.functional.api.networking import created, error_of
from tests.functional.api.test_binding import PF0
from tests.functional.api.test_desired import bind, bound_port, desired, fleet, state_of
from tests.functional.api.test_status import port_report, report

__all__ = ["fleet"]  # the fixture, shared with the desired-state tests

HOST_PATH = "/v1/hosts/compute-1"


def min_bw_policy(api: Api) -> str:
    rules = [{"type": "minimum_bandwidth", "min_kbps": 1_000_000}]
    return str(created(api, "/v1/qos-policies", {"name": "gold", "rules": rules})["id"])


def refused_port(api: Api, *refused: str, **fields: Any) -> dict[str, Any]:
    """A port bound on compute-1 whose agent reported ERROR with ``refused``."""
    bound = bound_port(api, **fields)
    failed = port_report(bound["id"], "ERROR", reason="the NIC said no", refused=list(refused))
    report(api, {"generation": desired(api)["generation"], "ports": [failed]})
    return bound


def refused_or_problems(api: Api, field: str) -> Any:
    response: Any = api.call("GET", HOST_PATH, "admin")
    assert response.status_code == 200, response.text
    return response.json()[field]


def refused_of(api: Api) -> dict[str, list[str]]:
    return dict(refused_or_problems(api, "refused"))


def release(api: Api, address: str, body: dict[str, Any], caller: str = "admin") -> Any:
    path = f"{HOST_PATH}/devices/{address}/release"
    return api.call("POST", path, caller, json=body)


def released_slot(api: Api) -> str:
    bound = bound_port(api)
    bind(api, bound["id"], None)
    return str(bound["binding:profile"]["pci_slot"])


# Refused attributes


def test_a_host_shows_no_refusals_until_a_port_meets_one(fleet: Api) -> None:
    assert refused_of(fleet) == {}


def test_what_a_nic_refused_is_recorded_against_the_pf_of_the_port_s_vf(fleet: Api) -> None:
    refused_port(fleet, "link_state", propagate_uplink_status=True)
    # Not one needing link_state: a scheduler honouring the refusal places it on PF0 too.
    refused_port(fleet, "mirror", vlan=101, propagate_uplink_status=False)
    assert refused_of(fleet) == {PF0: ["link_state", "mirror"]}


def test_a_rate_refused_to_a_port_with_a_minimum_is_recorded_as_min_tx_rate(fleet: Api) -> None:
    refused_port(fleet, "rate", qos_policy_id=min_bw_policy(fleet))
    assert refused_of(fleet) == {PF0: ["min_tx_rate"]}


def test_a_rate_refused_to_a_port_without_a_minimum_stays_rate(fleet: Api) -> None:
    refused_port(fleet, "rate")
    assert refused_of(fleet) == {PF0: ["rate"]}


def test_refusals_outlive_the_port_and_later_reports(fleet: Api) -> None:
    bound = refused_port(fleet, "mirror")
    bind(fleet, bound["id"], None)
    report(fleet, {"generation": desired(fleet)["generation"], "ports": []})
    assert refused_of(fleet) == {PF0: ["mirror"]}


def test_an_active_port_records_no_refusal(fleet: Api) -> None:
    bound = bound_port(fleet)
    ok = port_report(bound["id"], refused=["mirror"])
    report(fleet, {"generation": desired(fleet)["generation"], "ports": [ok]})
    assert refused_of(fleet) == {}


def test_an_admin_forgets_one_pf_s_refusals(fleet: Api) -> None:
    refused_port(fleet, "mirror")
    response: Any = fleet.call(
        "DELETE", f"{HOST_PATH}/refused", "admin", params={"pf": PF0.upper()}
    )
    assert (response.status_code, response.json()["refused"]) == (200, {})


def test_an_admin_forgets_every_pf_s_refusals(fleet: Api) -> None:
    refused_port(fleet, "mirror")
    response: Any = fleet.call("DELETE", f"{HOST_PATH}/refused", "admin")
    assert (response.status_code, response.json()["refused"]) == (200, {})


@pytest.mark.parametrize(
    ("caller", "path", "params", "status", "code", "field"),
    [
        ("admin", f"{HOST_PATH}/refused", {"pf": "0000:3b:00.1"}, 404, "not_found", None),
        ("admin", f"{HOST_PATH}/refused", {"pf": "3b:00"}, 400, "invalid_value", "pf"),
        ("admin", "/v1/hosts/nowhere/refused", {}, 404, "not_found", None),
        ("agent", f"{HOST_PATH}/refused", {}, 403, "forbidden", None),
        ("member", f"{HOST_PATH}/refused", {}, 403, "forbidden", None),
    ],
)
def test_forgetting_refusals_is_refused_with_a_code(
    fleet: Api,
    caller: str,
    path: str,
    params: dict[str, str],
    status: int,
    code: str,
    field: str | None,
) -> None:
    error = error_of(fleet.call("DELETE", path, caller, params=params), status)
    assert (error["code"], error["field"]) == (code, field)


def test_an_unknown_pf_is_named_in_the_404(fleet: Api) -> None:
    response = fleet.call("DELETE", f"{HOST_PATH}/refused", "admin", params={"pf": "0000:3b:00.1"})
    assert "0000:3b:00.1" in error_of(response, 404)["message"]


# Forced release


def test_a_forced_release_frees_a_releasing_vf_and_says_so_in_the_host(fleet: Api) -> None:
    slot = released_slot(fleet)
    assert state_of(fleet, slot) == "releasing"
    response: Any = release(fleet, slot, {"force": True})
    assert response.status_code == 200, response.text
    assert (response.json()["address"], response.json()["state"]) == (slot, "available")
    assert desired(fleet)["released"] == {}
    problems = refused_or_problems(fleet, "problems")
    assert problems == [
        f"{slot} freed by an admin without a verified reset (claim generation 1): "
        "its VF may keep the last owner's settings"
    ]


def test_a_release_without_force_is_refused_saying_why(fleet: Api) -> None:
    slot = released_slot(fleet)
    error = error_of(release(fleet, slot, {}), 400)
    assert error["field"] == "force"
    assert "agent reports its reset verified" in error["message"]
    assert state_of(fleet, slot) == "releasing"


def test_forcing_the_release_of_a_vf_in_use_is_a_conflict(fleet: Api) -> None:
    slot = bound_port(fleet)["binding:profile"]["pci_slot"]
    error = error_of(release(fleet, slot, {"force": True}), 409)
    assert error["code"] == "invalid_device_state"
    assert f"{slot} of host compute-1 is claimed, not releasing" in error["message"]


@pytest.mark.parametrize(
    ("caller", "address", "body", "status", "code", "field"),
    [
        ("admin", "0000:3b:07.7", {"force": True}, 404, "not_found", None),
        ("admin", "nonsense", {"force": True}, 400, "invalid_value", "address"),
        ("admin", "0000:3b:02.0", {"force": "yes"}, 400, "invalid_value", "force"),
        ("admin", "0000:3b:02.0", {"force": True, "why": "x"}, 400, "unknown_field", "why"),
        ("agent", "0000:3b:02.0", {"force": True}, 403, "forbidden", None),
    ],
)
def test_a_forced_release_is_refused_with_a_code(
    fleet: Api,
    caller: str,
    address: str,
    body: dict[str, Any],
    status: int,
    code: str,
    field: str | None,
) -> None:
    error = error_of(release(fleet, address, body, caller), status)
    assert (error["code"], error["field"]) == (code, field)

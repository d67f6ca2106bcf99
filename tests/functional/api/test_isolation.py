"""Members see their own project's placements only, and never learn that others exist."""

from __future__ import annotations

import pytest

from tests.functional.api.conftest import Api
from vfnet.store.records import ClaimRecord


@pytest.fixture
def placed(api: Api) -> Api:
    """vm-blue belongs to project blue, vm-red to project red (both on compute-1)."""
    for instance, project in (("vm-blue", "blue"), ("vm-red", "red")):
        claim = ClaimRecord(owner=f"owner-{instance}", host="compute-1", devices=(), generation=0)
        api.store.record_placement(instance, claim, project=project, request={})
    return api


@pytest.mark.parametrize(
    ("caller", "instance", "status"),
    [
        ("member", "vm-blue", 200),
        ("member", "vm-red", 404),
        ("member", "vm-missing", 404),
        ("other-member", "vm-red", 200),
        ("other-member", "vm-blue", 404),
        ("admin", "vm-red", 200),
        ("agent", "vm-blue", 403),
    ],
)
def test_a_member_reads_its_own_placements_and_others_look_missing(
    placed: Api, caller: str, instance: str, status: int
) -> None:
    response = placed.call("GET", f"/v1/placements/{instance}", caller)
    assert response.status_code == status
    if status == 404:
        assert response.json()["error"] == {
            "code": "not_found",
            "message": f"placement {instance!r} not found",
            "field": None,
        }


@pytest.mark.parametrize(
    ("caller", "visible"),
    [("member", ["vm-blue"]), ("other-member", ["vm-red"]), ("admin", ["vm-blue", "vm-red"])],
)
def test_listing_placements_shows_only_the_callers_project(
    placed: Api, caller: str, visible: list[str]
) -> None:
    response = placed.call("GET", "/v1/placements", caller)
    assert response.status_code == 200
    assert [p["instance_id"] for p in response.json()["placements"]] == visible


def test_deleting_another_projects_placement_answers_like_a_missing_one_and_keeps_it(
    placed: Api,
) -> None:
    other = placed.call("DELETE", "/v1/placements/vm-red", "member")
    missing = placed.call("DELETE", "/v1/placements/vm-missing", "member")
    assert (other.status_code, other.content) == (missing.status_code, missing.content)
    assert placed.store.get_placement("vm-red").project == "red"


def test_deleting_a_placement_twice_is_fine(placed: Api) -> None:
    first = placed.call("DELETE", "/v1/placements/vm-blue", "member")
    second = placed.call("DELETE", "/v1/placements/vm-blue", "member")
    assert (first.status_code, second.status_code) == (204, 204)
    assert placed.call("GET", "/v1/placements/vm-blue", "member").status_code == 404


def test_an_instance_already_placed_is_a_conflict(placed: Api) -> None:
    response = placed.call("POST", "/v1/placements", "member", json={"instance_id": "vm-blue"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"

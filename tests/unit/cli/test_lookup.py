"""A name or an id on the command line reaches one object, or the user learns which ids to use."""

from __future__ import annotations

import pytest

from vfnet.cli.lookup import find, pick
from vfnet.errors import NotFound, ValidationError

NETWORKS = [
    {"id": "6f1c", "name": "net1"},
    {"id": "9a2b", "name": "storage"},
    {"id": "c3d4", "name": "storage"},
    {"id": "e5f6", "name": "6f1c"},
]


@pytest.mark.parametrize(
    ("ident", "found"),
    [("net1", "6f1c"), ("9a2b", "9a2b"), ("6f1c", "6f1c"), ("e5f6", "e5f6")],
)
def test_an_id_or_a_unique_name_picks_one_object(ident: str, found: str) -> None:
    assert pick("network", ident, NETWORKS)["id"] == found


def test_an_id_wins_over_a_name_spelled_like_it() -> None:
    assert pick("network", "6f1c", NETWORKS)["name"] == "net1"


def test_a_shared_name_is_refused_naming_every_id() -> None:
    with pytest.raises(ValidationError) as raised:
        pick("network", "storage", NETWORKS)
    assert str(raised.value) == (
        "network: 2 networks are named 'storage' (9a2b, c3d4); give an id instead"
    )


def test_an_unknown_name_is_not_found() -> None:
    with pytest.raises(NotFound, match="network 'nope' not found"):
        pick("network", "nope", NETWORKS)


class Calls:
    """A tiny server of two networks that records which calls a lookup made."""

    def __init__(self) -> None:
        self.made: list[str] = []
        self.networks = [
            {"id": "0b8e0d0c-3a52-4a8d-9d1c-3f0c7e0d2a11", "name": "net1"},
            {
                "id": "5c0e2e9f-8d6b-4b0a-a7a4-2c1d9e8f7b66",
                "name": "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
            },
        ]

    def get(self, ident: str) -> dict[str, str]:
        self.made.append("get")
        for network in self.networks:
            if network["id"] == ident:
                return network
        raise NotFound("network", ident)

    def listing(self) -> list[dict[str, str]]:
        self.made.append("list")
        return self.networks


def test_an_id_is_fetched_directly_without_listing() -> None:
    calls = Calls()
    found = find("network", "0b8e0d0c-3a52-4a8d-9d1c-3f0c7e0d2a11", calls.get, calls.listing)
    assert (found["name"], calls.made) == ("net1", ["get"])


def test_a_name_is_looked_up_in_the_listing_only() -> None:
    calls = Calls()
    assert find("network", "net1", calls.get, calls.listing)["name"] == "net1"
    assert calls.made == ["list"]


def test_a_name_spelled_like_a_uuid_is_still_found_by_name() -> None:
    calls = Calls()
    found = find("network", "1b4e28ba-2fa1-11d2-883f-0016d3cca427", calls.get, calls.listing)
    assert found["id"] == "5c0e2e9f-8d6b-4b0a-a7a4-2c1d9e8f7b66"
    assert calls.made == ["get", "list"]

"""A name or an id on the command line reaches one object, or the user learns which ids to use."""

from __future__ import annotations

import pytest

from vfnet.cli.lookup import pick
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

"""Tokens: an admin mints one, its plaintext is shown once and then works as that role."""

from __future__ import annotations

import pytest

from tests.functional.api.conftest import Api


@pytest.mark.parametrize(
    ("body", "whoami"),
    [
        ({"role": "member", "project": "green"}, {"role": "member", "project": "green"}),
        ({"role": "agent", "host": "compute-9"}, {"role": "agent", "host": "compute-9"}),
        ({"role": "admin", "name": "ops"}, {"role": "admin", "name": "ops"}),
    ],
)
def test_a_minted_token_authenticates_as_its_role_and_scope(
    api: Api, body: dict[str, str], whoami: dict[str, str]
) -> None:
    minted = api.call("POST", "/v1/tokens", "admin", json=body)
    assert minted.status_code == 201, minted.text
    token = minted.json()["token"]
    me = api.client.get("/v1/tokens/self", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json().items() >= whoami.items()


def test_the_plaintext_is_not_stored(api: Api) -> None:
    token = api.call("POST", "/v1/tokens", "admin", json={"role": "admin"}).json()["token"]
    assert all(token not in repr(record) for record in api.store.list_tokens())

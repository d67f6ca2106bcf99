"""Tokens: plaintext handed out once, only a hash kept, roles checked at creation."""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa

from vfnet.errors import NotFound, ValidationError


@pytest.mark.parametrize(
    ("role", "scope", "field"),
    [
        ("root", {}, "role"),
        ("member", {}, "project"),
        ("agent", {}, "host"),
        ("agent", {"project": "p1"}, "host"),
    ],
)
def test_a_token_without_what_its_role_needs_is_refused(store, role, scope, field):
    with pytest.raises(ValidationError) as refused:
        store.create_token(role, **scope)
    assert refused.value.field == field


@pytest.mark.parametrize(
    ("role", "scope"),
    [("admin", {}), ("member", {"project": "p1"}), ("agent", {"host": "compute-1"})],
)
def test_a_created_token_is_found_by_its_plaintext(store, role, scope):
    plaintext, record = store.create_token(role, name="ci", **scope)
    found = store.token_for(plaintext)
    assert found == record
    assert (found.role, found.project, found.host) == (
        role,
        scope.get("project"),
        scope.get("host"),
    )


def test_only_the_hash_of_a_token_is_stored(store):
    plaintext, _ = store.create_token("admin")
    with store.engine.connect() as conn:
        stored = [tuple(row) for row in conn.execute(sa.text("SELECT * FROM tokens"))]
    assert not any(plaintext in str(value) for row in stored for value in row)
    assert any(hashlib.sha256(plaintext.encode()).hexdigest() in row for row in stored)


def test_an_unknown_plaintext_finds_no_token(store):
    store.create_token("admin")
    assert store.token_for("not-a-token") is None


def test_a_revoked_token_is_no_longer_found_or_listed(store):
    plaintext, record = store.create_token("admin")
    kept, _ = store.create_token("member", project="p1")
    store.revoke_token(record.id)
    assert store.token_for(plaintext) is None
    assert store.token_for(kept) is not None
    assert record.id not in [token.id for token in store.list_tokens()]


def test_revoking_an_unknown_token_is_not_found(store):
    with pytest.raises(NotFound):
        store.revoke_token("0a2f6c1e-0000-0000-0000-000000000000")

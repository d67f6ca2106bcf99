"""The API's token cache: valid tokens remembered for seconds, unknown ones never."""

from __future__ import annotations

from datetime import UTC, datetime

from vfnet.api.auth import Principal, Role, TokenCache, authenticate, authenticate_held
from vfnet.store.records import TokenRecord

CREATED = datetime(2026, 1, 1, tzinfo=UTC)


class Tokens:
    """A token table in memory that counts its look-ups."""

    def __init__(self) -> None:
        self.valid: dict[str, TokenRecord] = {}
        self.lookups = 0

    def token_for(self, plaintext: str) -> TokenRecord | None:
        self.lookups += 1
        return self.valid.get(plaintext)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def admin(name: str = "ops") -> TokenRecord:
    return TokenRecord(
        id="t1", role="admin", project=None, host=None, name=name, created_at=CREATED
    )


def test_a_valid_token_is_looked_up_once_within_the_ttl() -> None:
    tokens, clock = Tokens(), Clock()
    tokens.valid["secret"] = admin()
    cache = TokenCache(tokens, ttl=5.0, clock=clock)
    assert cache.token_for("secret") == admin()
    clock.now += 4.9
    assert cache.token_for("secret") == admin()
    assert tokens.lookups == 1


def test_a_revoked_token_is_refused_once_the_ttl_has_passed() -> None:
    tokens, clock = Tokens(), Clock()
    tokens.valid["secret"] = admin()
    cache = TokenCache(tokens, ttl=5.0, clock=clock)
    cache.token_for("secret")
    del tokens.valid["secret"]
    clock.now += 5.0
    assert cache.token_for("secret") is None


def test_forgetting_makes_a_revoked_token_refused_at_once() -> None:
    tokens = Tokens()
    tokens.valid["secret"] = admin()
    cache = TokenCache(tokens, clock=Clock())
    cache.token_for("secret")
    del tokens.valid["secret"]
    cache.forget_all()
    assert cache.token_for("secret") is None


def test_an_unknown_token_is_not_remembered_so_it_works_once_created() -> None:
    tokens = Tokens()
    cache = TokenCache(tokens, clock=Clock())
    assert cache.token_for("new") is None
    tokens.valid["new"] = admin("new")
    assert cache.token_for("new") == admin("new")


def test_a_full_cache_starts_over_instead_of_growing() -> None:
    tokens = Tokens()
    for n in range(3):
        tokens.valid[f"t{n}"] = admin(f"t{n}")
    cache = TokenCache(tokens, size=2, clock=Clock())
    for n in range(3):
        cache.token_for(f"t{n}")
    cache.token_for("t2")
    cache.token_for("t0")
    assert tokens.lookups == 4  # t2 was kept after the clear; t0 was dropped with it


def test_held_answers_only_from_memory_and_only_while_fresh() -> None:
    tokens, clock = Tokens(), Clock()
    tokens.valid["secret"] = admin()
    cache = TokenCache(tokens, ttl=5.0, clock=clock)
    assert cache.held("secret") is None
    assert tokens.lookups == 0
    cache.token_for("secret")
    assert cache.held("secret") == admin()
    clock.now += 5.0
    assert cache.held("secret") is None
    assert tokens.lookups == 1


def test_a_held_token_authenticates_without_a_look_up() -> None:
    tokens = Tokens()
    tokens.valid["secret"] = admin()
    cache = TokenCache(tokens, clock=Clock())
    assert authenticate_held(cache, "Bearer secret") is None
    assert authenticate(cache, "Bearer secret") == Principal(Role.ADMIN, name="ops")
    assert authenticate_held(cache, "Bearer secret") == Principal(Role.ADMIN, name="ops")
    assert tokens.lookups == 1

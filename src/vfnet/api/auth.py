"""Who is calling and what they may do: bearer tokens, roles and per-route access.

Roles: ``admin`` may do everything; ``member`` sees its own project's placements, ports,
networks and policies (and shared ones), reads flavors and aliases, never hosts, devices
or pools; ``agent`` acts for its own host only, and reads networks, subnets and policies.
Refusals never reveal whether the target exists: an agent naming another host gets 403
whether or not that host is registered.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from vfnet.errors import Forbidden, Unauthorized
from vfnet.store.records import TokenRecord


class Role(StrEnum):
    ADMIN = "admin"
    MEMBER = "member"
    AGENT = "agent"


class TokenLookup(Protocol):
    def token_for(self, plaintext: str) -> TokenRecord | None: ...


class TokenCache:
    """Valid tokens remembered for ``ttl`` seconds, in front of the store's lookup.

    Every request presents a token, and looking it up costs a database round trip: as
    much as a tenth of a port creation. A token revoked in the database is refused
    within ``ttl`` seconds by every server process; ``forget_all`` makes this one
    refuse it at once. Unknown tokens are never remembered, so a token just created
    works on its first request.
    """

    def __init__(
        self,
        lookup: TokenLookup,
        *,
        ttl: float = 5.0,
        size: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lookup = lookup
        self._ttl, self._size, self._clock = ttl, size, clock
        self._known: dict[str, tuple[float, TokenRecord]] = {}

    def token_for(self, plaintext: str) -> TokenRecord | None:
        known = self.held(plaintext)
        if known is not None:
            return known
        key = _key(plaintext)
        record = self._lookup.token_for(plaintext)
        if record is None:
            self._known.pop(key, None)
            return None
        if len(self._known) >= self._size:
            self._known.clear()  # many distinct tokens: start over rather than grow
        self._known[key] = (self._clock() + self._ttl, record)
        return record

    def held(self, plaintext: str) -> TokenRecord | None:
        """The token's record if remembered and fresh, without a look-up (no I/O: safe on
        the event loop); None means ``token_for`` must ask the database."""
        known = self._known.get(_key(plaintext))
        if known is not None and known[0] > self._clock():
            return known[1]
        return None

    def forget_all(self) -> None:
        """Look every token up again on its next use (after a revocation)."""
        self._known.clear()


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller behind a valid token."""

    role: Role
    project: str | None = None
    host: str | None = None
    name: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def reads_everything(self) -> bool:
        """Admins, and agents: the ports bound on an agent's host may be on any network."""
        return self.role in (Role.ADMIN, Role.AGENT)

    def check_host(self, host: str) -> None:
        """Agents act for their own host only; everyone else is decided by the route."""
        if self.role is Role.AGENT and host != self.host:
            raise Forbidden("an agent token acts for its own host only")

    def owns_project(self, project: str | None) -> bool:
        return self.is_admin or (project is not None and project == self.project)


@dataclass(frozen=True, slots=True)
class Access:
    """Which roles may call a route; ``own_host`` limits agents to ``{name}`` = their host."""

    roles: frozenset[Role]
    own_host: bool = False

    def check(self, principal: Principal, path_params: Mapping[str, Any]) -> None:
        if principal.role not in self.roles:
            raise Forbidden(f"the {principal.role} role may not do this")
        if self.own_host:
            principal.check_host(str(path_params.get("name", "")))


ADMIN = Access(frozenset({Role.ADMIN}))
AGENT = Access(frozenset({Role.ADMIN, Role.AGENT}))
OWN_HOST = Access(frozenset({Role.ADMIN, Role.AGENT}), own_host=True)
PROJECT = Access(frozenset({Role.ADMIN, Role.MEMBER}))
EVERYONE = Access(frozenset(Role))


def bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("a bearer token is required")
    return token.strip()


def authenticate(tokens: TokenLookup, authorization: str | None) -> Principal:
    """The principal of a bearer token; Unauthorized when it is missing or unknown."""
    record = tokens.token_for(bearer_token(authorization))
    if record is None:
        raise Unauthorized("the token is not valid")
    return _principal(record)


def authenticate_held(tokens: TokenCache, authorization: str | None) -> Principal | None:
    """The principal of a bearer token ``tokens`` holds, without I/O; None when it has to
    be looked up (``authenticate``). Unauthorized when there is no bearer token at all."""
    record = tokens.held(bearer_token(authorization))
    return None if record is None else _principal(record)


def _principal(record: TokenRecord) -> Principal:
    return Principal(
        role=Role(record.role), project=record.project, host=record.host, name=record.name
    )


def _key(plaintext: str) -> str:
    # The cache keeps the token's hash: the plaintext is not kept past the request.
    return hashlib.sha256(plaintext.encode()).hexdigest()

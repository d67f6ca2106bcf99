"""Who is calling and what they may do: bearer tokens, roles and per-route access.

Roles: ``admin`` may do everything; ``member`` sees its own project's placements, ports,
networks and policies (and shared ones), reads flavors and aliases, never hosts, devices
or pools; ``agent`` acts for its own host only, and reads networks, subnets and policies.
Refusals never reveal whether the target exists: an agent naming another host gets 403
whether or not that host is registered.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    return Principal(
        role=Role(record.role), project=record.project, host=record.host, name=record.name
    )

"""The per-request context handed to handlers: store, settings and the authorized caller."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request

from vfnet.api.auth import Access, Principal, authenticate
from vfnet.api.settings import ApiSettings
from vfnet.network.macs import RandomSource
from vfnet.store import Store

if TYPE_CHECKING:
    from vfnet.api.placing import Chooser


@dataclass(frozen=True, slots=True)
class Context:
    store: Store
    settings: ApiSettings
    principal: Principal
    chooser: Chooser
    #: Where generated MACs take their random octets from.
    random: RandomSource


def route_access(request: Request) -> Access | None:
    """The access rule the route table declares for the matched route."""
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    access: dict[tuple[str, str], Access] = request.app.state.access
    return access.get((request.method, str(path)))


def authorize(request: Request) -> Principal:
    """Authenticate the bearer token, then apply the route's access rule.

    Raises:
        Unauthorized: no token or an unknown one.
        Forbidden: the caller's role (or host) may not use this route.
    """
    principal = authenticate(request.app.state.store, request.headers.get("authorization"))
    access = route_access(request)
    if access is not None:
        access.check(principal, request.path_params)
    return principal


def context(request: Request) -> Context:
    """FastAPI dependency: every handler takes ``ctx: Ctx``."""
    state = request.app.state
    return Context(state.store, state.settings, authorize(request), state.chooser, state.random)


Ctx = Annotated[Context, Depends(context)]

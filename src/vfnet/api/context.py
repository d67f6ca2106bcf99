"""The per-request context handed to handlers: store, settings and the authorized caller."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from vfnet.api.auth import Access, Principal, authenticate, authenticate_held
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
    """Authenticate the bearer token (through the token cache), then apply the route's
    access rule.

    Raises:
        Unauthorized: no token or an unknown one.
        Forbidden: the caller's role (or host) may not use this route.
    """
    principal = authenticate(request.app.state.tokens, request.headers.get("authorization"))
    return _allowed(request, principal)


def _allowed(request: Request, principal: Principal) -> Principal:
    access = route_access(request)
    if access is not None:
        access.check(principal, request.path_params)
    return principal


async def context(request: Request) -> Context:
    """FastAPI dependency: every handler takes ``ctx: Ctx``.

    A token the cache holds is checked here on the event loop, with no I/O; only a
    database lookup goes to a worker thread.
    """
    state = request.app.state
    held = authenticate_held(state.tokens, request.headers.get("authorization"))
    if held is None:
        principal = await run_in_threadpool(authorize, request)
    else:
        principal = _allowed(request, held)
    return Context(state.store, state.settings, principal, state.chooser, state.random)


Ctx = Annotated[Context, Depends(context)]

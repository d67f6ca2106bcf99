"""The FastAPI application factory: the store and settings go in, an ASGI app comes out."""

from __future__ import annotations

from random import SystemRandom

from fastapi import FastAPI

from vfnet import __version__
from vfnet.api import errors
from vfnet.api.auth import Access, TokenCache
from vfnet.api.fleet import FleetCache
from vfnet.api.limits import BodyLimit
from vfnet.api.placing import Chooser
from vfnet.api.routes import ROUTES
from vfnet.api.settings import ApiSettings
from vfnet.api.wakeups import WakeOnWrite, Writes
from vfnet.network.macs import RandomSource
from vfnet.store import Store

OPENAPI_PATH = "/v1/openapi.json"


def create_app(
    store: Store,
    settings: ApiSettings | None = None,
    chooser: Chooser | None = None,
    random: RandomSource | None = None,
) -> FastAPI:
    """An app serving ``ROUTES`` over ``store``; nothing is read from globals.

    ``chooser`` picks the host for a placement; by default the scheduler over a
    fleet view (``app.state.fleet``) kept in step with the store's host changes.
    ``random`` draws generated port MACs; by default the system's random source.
    """
    settings = settings or ApiSettings()
    app = FastAPI(
        title="vfnet",
        version=__version__,
        summary="SR-IOV Virtual Functions for virtual machines and containers",
        openapi_url=OPENAPI_PATH,
        docs_url=None,
        redoc_url=None,
    )
    app.state.store = store
    app.state.tokens = TokenCache(store)
    app.state.settings = settings
    app.state.fleet = FleetCache(store)
    app.state.chooser = chooser or app.state.fleet
    app.state.random = random or SystemRandom()
    access: dict[tuple[str, str], Access] = {}
    for route in ROUTES:
        app.add_api_route(
            route.path,
            route.handler,
            methods=[route.method],
            status_code=route.status,
            name=route.handler.__name__,
            response_model_exclude_none=False,
        )
        access[(route.method, route.path)] = route.access
    app.state.access = access
    errors.install(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.state.writes = Writes()
    app.add_middleware(WakeOnWrite, writes=app.state.writes)
    return app

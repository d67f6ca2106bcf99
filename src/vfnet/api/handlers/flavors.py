"""Handlers of /v1/flavors: admins create and delete, everyone reads."""

from __future__ import annotations

from vfnet.api.context import Ctx
from vfnet.api.schemas.flavors import FlavorIn, FlavorList, FlavorOut
from vfnet.scheduler.requests import requests_for_flavor
from vfnet.store.records import FlavorRecord


def _render(flavor: FlavorRecord) -> FlavorOut:
    return FlavorOut(
        name=flavor.name,
        vcpus=flavor.vcpus,
        ram_mb=flavor.ram_mb,
        numa_cells=flavor.numa_cells,
        extra_specs=dict(flavor.extra_specs),
        created_at=flavor.created_at,
    )


def list_flavors(ctx: Ctx) -> FlavorList:
    """GET /v1/flavors."""
    return FlavorList(flavors=[_render(flavor) for flavor in ctx.store.list_flavors()])


def get_flavor(name: str, ctx: Ctx) -> FlavorOut:
    """GET /v1/flavors/{name}."""
    return _render(ctx.store.get_flavor(name))


def create_flavor(body: FlavorIn, ctx: Ctx) -> FlavorOut:
    """POST /v1/flavors: 201; the PCI extra specs must name configured aliases."""
    # Refuse a flavor that could never be scheduled now, not at every boot.
    requests_for_flavor(body.extra_specs, ctx.settings.aliases)
    flavor = ctx.store.create_flavor(
        body.name,
        vcpus=body.vcpus,
        ram_mb=body.ram_mb,
        numa_cells=body.numa_cells,
        extra_specs=body.extra_specs,
    )
    return _render(flavor)


def delete_flavor(name: str, ctx: Ctx) -> None:
    """DELETE /v1/flavors/{name}: 204."""
    ctx.store.delete_flavor(name)

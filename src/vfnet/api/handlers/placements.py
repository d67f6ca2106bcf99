"""Handlers of /v1/placements: schedule an instance's PCI requests, claim, and release.

A member sees only its own project's placements: another project's placement answers
exactly as a missing one does (404 on read, a no-op 204 on delete), so existence never
leaks across projects.
"""

from __future__ import annotations

from vfnet.api.context import Ctx
from vfnet.api.placing import place, requests_of
from vfnet.api.schemas.placements import (
    PlacedDeviceOut,
    PlacementIn,
    PlacementList,
    PlacementOut,
)
from vfnet.errors import Conflict, Forbidden, NotFound
from vfnet.store.records import ClaimRecord, PlacementRecord


def _render(placement: PlacementRecord, claims: list[ClaimRecord]) -> PlacementOut:
    devices = [
        PlacedDeviceOut(address=str(d.address), request_id=d.request_id, status=d.status)
        for claim in claims
        if claim.host == placement.host
        for d in claim.devices
    ]
    return PlacementOut(
        instance_id=placement.instance_id,
        project=placement.project,
        host=placement.host,
        devices=devices,
        created_at=placement.created_at,
    )


def _visible(ctx: Ctx, instance_id: str) -> PlacementRecord:
    placement = ctx.store.get_placement(instance_id)
    if not ctx.principal.owns_project(placement.project):
        raise NotFound("placement", instance_id)
    return placement


def _project_of(ctx: Ctx, asked: str | None) -> str | None:
    """Admins place for any project; a member only for its own."""
    if ctx.principal.is_admin:
        return asked
    if asked is not None and asked != ctx.principal.project:
        raise Forbidden("a member places instances in its own project only")
    return ctx.principal.project


def _exists(ctx: Ctx, instance_id: str) -> bool:
    try:
        ctx.store.get_placement(instance_id)
    except NotFound:
        return False
    return True


def list_placements(ctx: Ctx) -> PlacementList:
    """GET /v1/placements: every placement (admin) or the caller's project's (member)."""
    project = None if ctx.principal.is_admin else ctx.principal.project
    return PlacementList(
        placements=[
            _render(p, ctx.store.claims_of(p.owner))
            for p in ctx.store.list_placements(project=project)
        ]
    )


def get_placement(instance_id: str, ctx: Ctx) -> PlacementOut:
    """GET /v1/placements/{instance_id}."""
    placement = _visible(ctx, instance_id)
    return _render(placement, ctx.store.claims_of(placement.owner))


def create_placement(body: PlacementIn, ctx: Ctx) -> PlacementOut:
    """POST /v1/placements: choose a host, claim its devices, record where; 201.

    Raises:
        ValidationError: unknown alias or flavor, bad NUMA policy (400).
        NoValidHost: no host can serve every request together (409).
        Conflict: the instance is already placed (409).
    """
    project = _project_of(ctx, body.project)
    wanted = requests_of(body, ctx.store, ctx.settings.aliases)
    if _exists(ctx, body.instance_id):
        raise Conflict(f"instance {body.instance_id!r} is already placed")
    claim = place(ctx.store, ctx.chooser, wanted, ctx.settings.placement_attempts)
    request = body.model_dump(mode="json") | {"project": project}
    try:
        placement = ctx.store.record_placement(
            body.instance_id, claim, project=project, request=request
        )
    except Exception:
        # The claim's owner is fresh for this attempt: releasing it frees nothing else.
        ctx.store.release(claim.owner)
        raise
    return _render(placement, [claim])


def delete_placement(instance_id: str, ctx: Ctx) -> None:
    """DELETE /v1/placements/{instance_id}: release the devices; 204, even when already gone."""
    try:
        placement = _visible(ctx, instance_id)
    except NotFound:
        return
    ctx.store.release(placement.owner)
    ctx.store.delete_placement(instance_id)

"""Placements: which host an instance went to, under which claim owner, from which request."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from vfnet.errors import Conflict, NotFound
from vfnet.store.records import PlacementRecord
from vfnet.store.tables import placements


def record(
    conn: sa.Connection,
    instance_id: str,
    host: str,
    owner: str,
    *,
    project: str | None,
    request: Mapping[str, Any],
) -> PlacementRecord:
    if conn.execute(
        sa.select(placements.c.instance_id).where(placements.c.instance_id == instance_id)
    ).first():
        raise Conflict(f"instance {instance_id!r} is already placed")
    placed = PlacementRecord(instance_id, host, owner, project, dict(request), datetime.now(UTC))
    conn.execute(
        placements.insert().values(
            instance_id=instance_id,
            host=host,
            owner=owner,
            project=project,
            request=dict(request),
            created_at=placed.created_at,
        )
    )
    return placed


def get(conn: sa.Connection, instance_id: str) -> PlacementRecord:
    row = conn.execute(
        sa.select(placements).where(placements.c.instance_id == instance_id)
    ).one_or_none()
    if row is None:
        raise NotFound("placement", instance_id)
    return _record(row)


def list_all(conn: sa.Connection, *, project: str | None = None) -> list[PlacementRecord]:
    query = sa.select(placements).order_by(placements.c.created_at, placements.c.instance_id)
    if project is not None:
        query = query.where(placements.c.project == project)
    return [_record(row) for row in conn.execute(query)]


def move(conn: sa.Connection, instance_id: str, host: str, owner: str) -> None:
    """Point a placement at its new host and owner (after a migration)."""
    result = conn.execute(
        placements.update()
        .where(placements.c.instance_id == instance_id)
        .values(host=host, owner=owner)
    )
    if result.rowcount == 0:
        raise NotFound("placement", instance_id)


def delete(conn: sa.Connection, instance_id: str) -> None:
    conn.execute(placements.delete().where(placements.c.instance_id == instance_id))


def _record(row: sa.Row[tuple[object, ...]]) -> PlacementRecord:
    return PlacementRecord(
        instance_id=row.instance_id,
        host=row.host,
        owner=row.owner,
        project=row.project,
        request=dict(row.request),
        created_at=row.created_at,
    )

"""API tokens: created with a role, stored as a sha256 hash, looked up by plaintext."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from vfnet.errors import NotFound, ValidationError
from vfnet.store.records import TokenRecord
from vfnet.store.tables import tokens

ROLES = ("admin", "member", "agent")
TOKEN_BYTES = 32


def token_hash(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def check_role(role: str, project: str | None, host: str | None) -> None:
    """A member acts within a project, an agent for a host; an admin needs neither."""
    if role not in ROLES:
        raise ValidationError("role", f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    if role == "member" and not project:
        raise ValidationError("project", "a member token needs a project")
    if role == "agent" and not host:
        raise ValidationError("host", "an agent token needs a host")


def create(
    conn: sa.Connection, role: str, *, project: str | None, host: str | None, name: str
) -> tuple[str, TokenRecord]:
    check_role(role, project, host)
    plaintext = secrets.token_urlsafe(TOKEN_BYTES)
    record = TokenRecord(
        id=str(uuid.uuid4()),
        role=role,
        project=project,
        host=host,
        name=name,
        created_at=datetime.now(UTC),
    )
    values = {
        "id": record.id,
        "token_hash": token_hash(plaintext),
        "role": role,
        "project": project,
        "host": host,
        "name": name,
        "created_at": record.created_at,
    }
    conn.execute(tokens.insert().values(values))
    return plaintext, record


def for_plaintext(conn: sa.Connection, plaintext: str) -> TokenRecord | None:
    row = conn.execute(
        sa.select(tokens).where(tokens.c.token_hash == token_hash(plaintext))
    ).one_or_none()
    return None if row is None else _record(row)


def list_all(conn: sa.Connection) -> list[TokenRecord]:
    rows = conn.execute(sa.select(tokens).order_by(tokens.c.created_at, tokens.c.id))
    return [_record(row) for row in rows]


def revoke(conn: sa.Connection, token_id: str) -> None:
    result = conn.execute(tokens.delete().where(tokens.c.id == token_id))
    if result.rowcount == 0:
        raise NotFound("token", token_id)


def _record(row: sa.Row[tuple[object, ...]]) -> TokenRecord:
    return TokenRecord(
        id=row.id,
        role=row.role,
        project=row.project,
        host=row.host,
        name=row.name,
        created_at=row.created_at,
    )

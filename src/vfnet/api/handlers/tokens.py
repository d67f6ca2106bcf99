"""Handlers of /v1/tokens: admins mint tokens; any caller may ask who its token is."""

from __future__ import annotations

from vfnet.api.context import Ctx
from vfnet.api.schemas.tokens import NewTokenOut, TokenIn, WhoAmIOut


def create_token(body: TokenIn, ctx: Ctx) -> NewTokenOut:
    """POST /v1/tokens: 201 with the plaintext, shown this once."""
    name = body.name or f"{body.role}-{body.host or body.project or 'token'}"
    plaintext, record = ctx.store.create_token(
        body.role.value, project=body.project, host=body.host, name=name
    )
    return NewTokenOut(
        id=record.id,
        role=record.role,
        project=record.project,
        host=record.host,
        name=record.name,
        created_at=record.created_at,
        token=plaintext,
    )


def who_am_i(ctx: Ctx) -> WhoAmIOut:
    """GET /v1/tokens/self: the role and scope of the caller's token."""
    caller = ctx.principal
    return WhoAmIOut(role=caller.role, project=caller.project, host=caller.host, name=caller.name)

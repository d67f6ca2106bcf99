"""Handlers of /v1/aliases: the server's configured ``[pci] alias`` entries (read-only)."""

from __future__ import annotations

from enum import Enum
from typing import Any

from vfnet.api.context import Ctx
from vfnet.api.schemas.aliases import AliasList, AliasOut


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return str(value.value) if isinstance(value, Enum) else str(value)


def list_aliases(ctx: Ctx) -> AliasList:
    """GET /v1/aliases: every alias by name, same-named entries as one OR-ed list."""
    aliases = ctx.settings.aliases
    return AliasList(
        aliases=[
            AliasOut(
                name=name,
                device_type=_text(alias.device_type),
                numa_policy=_text(alias.numa_policy) or "legacy",
                specs=[{key: _text(v) for key, v in spec.items()} for spec in alias.specs],
            )
            for name, alias in sorted(aliases.items())
        ]
    )

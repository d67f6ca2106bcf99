"""Names or ids on the command line: find the one object a user means, or say why not."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from vfnet.errors import NotFound, ValidationError

Json = dict[str, Any]


def pick(kind: str, ident: str, items: Iterable[Mapping[str, Any]]) -> Json:
    """The item whose id is ``ident``, else the one whose name is.

    An id always wins, so a name that happens to equal another object's id still
    reaches that object; a name shared by several objects is refused with their ids.
    """
    named: list[Mapping[str, Any]] = []
    for item in items:
        if item.get("id") == ident:
            return dict(item)
        if item.get("name") == ident:
            named.append(item)
    if not named:
        raise NotFound(kind, ident)
    if len(named) > 1:
        ids = ", ".join(sorted(str(item["id"]) for item in named))
        raise ValidationError(
            kind, f"{len(named)} {kind}s are named {ident!r} ({ids}); give an id instead"
        )
    return dict(named[0])


def find(
    kind: str,
    ident: str,
    get: Callable[[str], Json],
    listing: Callable[[], Iterable[Mapping[str, Any]]],
) -> Json:
    """The object ``ident`` names: fetched at once when it reads as an id, else by ``pick``.

    Ids are uuids, so a name that parses as one is still tried as a name when no object
    has that id.
    """
    if _looks_like_id(ident):
        try:
            return get(ident)
        except NotFound:
            pass
    return pick(kind, ident, listing())


def _looks_like_id(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True

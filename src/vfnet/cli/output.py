"""How commands show results: aligned text tables for people, stable JSON for programs."""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath

EMPTY = "-"


@dataclass(frozen=True, slots=True)
class Column:
    """A table column: the row key it shows and its heading."""

    key: str
    header: str

    @classmethod
    def of(cls, spec: Column | str) -> Column:
        return spec if isinstance(spec, Column) else cls(spec, spec.upper().replace("_", " "))


def cell(value: object) -> str:
    """One value as a table cell: ``-`` for nothing, yes/no, ``k=v`` pairs, comma lists."""
    if value is None or value == "" or value == {} or value == []:
        return EMPTY
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, Mapping):
        return ",".join(f"{k}={cell(v)}" for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(cell(v) for v in value)
    return str(value)


def render_table(rows: Sequence[Mapping[str, object]], columns: Sequence[Column | str]) -> str:
    """Rows as left-aligned columns under a heading line; no trailing spaces."""
    heads = [Column.of(c) for c in columns]
    cells = [[cell(row.get(c.key)) for c in heads] for row in rows]
    widths = [max([len(c.header), *(len(line[i]) for line in cells)]) for i, c in enumerate(heads)]
    lines = [[c.header for c in heads], *cells]
    return "\n".join(
        "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def render_json(obj: object) -> str:
    """Indented JSON with sorted keys, so the output of a command is stable."""
    return json.dumps(obj, indent=2, sort_keys=True, default=_plain)


def _plain(value: object) -> object:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    # Value types (PciAddress) render as they are written; commands pass views, not records.
    return str(value)

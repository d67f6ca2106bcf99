"""How commands show results: aligned text tables for people, stable JSON for programs."""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath

import click

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
        # Pairs inside an item are comma-joined, so items of pairs need a stronger mark.
        joiner = "; " if any(isinstance(v, Mapping) for v in value) else ","
        return joiner.join(cell(v) for v in value)
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


def render_fields(obj: Mapping[str, object]) -> str:
    """One object as a FIELD/VALUE table, fields in name order (as the openstack client)."""
    rows = [{"field": key, "value": obj[key]} for key in sorted(obj)]
    return render_table(rows, (Column("field", "FIELD"), Column("value", "VALUE")))


def echo_object(obj: Mapping[str, object], as_json: bool) -> None:
    """Print one API object: its fields as a table, or its JSON as the API gave it."""
    click.echo(render_json(obj) if as_json else render_fields(obj))


def echo_rows(
    objects: Sequence[Mapping[str, object]],
    columns: Sequence[Column | str],
    as_json: bool,
    row: Callable[[Mapping[str, object]], Mapping[str, object]] = dict,
) -> None:
    """Print API objects: a table of ``row(obj)`` under ``columns``, or the objects as JSON."""
    click.echo(
        render_json(list(objects)) if as_json else render_table([row(o) for o in objects], columns)
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

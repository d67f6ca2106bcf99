"""Option values with structure: ``start=IP,end=IP``, ``subnet=X,ip-address=IP``, profiles."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

import click

json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print JSON (the API's fields) instead of a table."
)


def examples(*commands: str) -> str:
    """An epilog of example command lines, kept unwrapped so they can be copied."""
    heading = "Example:" if len(commands) == 1 else "Examples:"
    return "\n".join([heading, "", "\b", *(f"  {command}" for command in commands)])


def given(**fields: object) -> dict[str, Any]:
    """The fields the user gave: ``None`` stands for an option left out."""
    return {key: value for key, value in fields.items() if value is not None}


def parse_key_values(
    text: str, known: Collection[str], required: Collection[str] = ()
) -> dict[str, str]:
    """``a=1,b=2`` as ``{"a": "1", "b": "2"}``; keys come out with ``-`` spelled ``_``.

    Raises:
        ValueError: a pair without ``=``, an unknown or repeated key, a required key missing.
    """
    found: dict[str, str] = {}
    for pair in text.split(","):
        key, equals, value = pair.partition("=")
        key = key.strip()
        if not equals or not key:
            raise ValueError(f"{pair.strip()!r} is not key=value")
        if key not in known:
            raise ValueError(f"unknown key {key!r}; use {', '.join(known)}")
        if key in found:
            raise ValueError(f"{key!r} is given twice")
        found[key] = value.strip()
    missing = [key for key in required if key not in found]
    if missing:
        raise ValueError(f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} required")
    return {key.replace("-", "_"): value for key, value in found.items()}


def parse_profile(text: str) -> dict[str, Any]:
    """A ``binding:profile``: a JSON object, or ``key=value`` pairs (values stay strings).

    The server decides which keys a user may set and what they mean; this only reads.
    """
    if text.lstrip().startswith("{"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"not valid JSON: {error.msg} at column {error.colno}") from None
        return dict(value)
    found: dict[str, Any] = {}
    for pair in text.split(","):
        key, equals, value = pair.partition("=")
        if not equals or not key.strip():
            raise ValueError(f"{pair.strip()!r} is not key=value (or give a JSON object)")
        found[key.strip()] = value.strip()
    return found


class KeyValues(click.ParamType[dict[str, str], Any]):
    """An option value of ``key=value`` pairs, checked by ``parse_key_values``."""

    def __init__(self, known: Collection[str], required: Collection[str] = ()) -> None:
        self.known = tuple(known)
        self.required = tuple(required)
        self.name = ",".join(f"{key}=..." for key in self.known)

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> dict[str, str]:
        if isinstance(value, dict):
            return value
        try:
            return parse_key_values(str(value), self.known, self.required)
        except ValueError as error:
            self.fail(str(error), param, ctx)


class Profile(click.ParamType[dict[str, Any], Any]):
    name = "key=value|JSON"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> dict[str, Any]:
        if isinstance(value, dict):
            return value
        try:
            return parse_profile(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)


ALLOCATION_POOL = KeyValues(("start", "end"), required=("start", "end"))
FIXED_IP = KeyValues(("subnet", "ip-address"))
PROFILE = Profile()

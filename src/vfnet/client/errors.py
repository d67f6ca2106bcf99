"""Server errors back into vfnet exceptions, by their stable code (never by message text)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from vfnet import errors

Builder = Callable[[str, str | None], errors.VfnetError]


def _validation(message: str, field: str | None) -> errors.VfnetError:
    name = field or "body"
    return errors.ValidationError(name, message.removeprefix(f"{name}: "))


def _not_found(message: str, field: str | None) -> errors.VfnetError:
    error = errors.NotFound("object", "")
    error.args = (message,)
    return error


def _plain(cls: type[errors.VfnetError]) -> Builder:
    return lambda message, field: cls(message)


BUILDERS: Mapping[str, Builder] = {
    errors.ValidationError.code: _validation,
    "unknown_field": _validation,
    "malformed_json": _validation,
    "body_too_large": _validation,
    errors.NotFound.code: _not_found,
    errors.Unauthorized.code: _plain(errors.Unauthorized),
    errors.Forbidden.code: _plain(errors.Forbidden),
    errors.Conflict.code: _plain(errors.Conflict),
    errors.InvalidDeviceState.code: _plain(errors.InvalidDeviceState),
    errors.StaleGeneration.code: _plain(errors.StaleGeneration),
    errors.InUse.code: _plain(errors.InUse),
    errors.NoValidHost.code: _plain(errors.NoValidHost),
    errors.DriverError.code: _plain(errors.DriverError),
}


def error_from(status: int, payload: Any) -> errors.VfnetError:
    """The exception a server error body stands for; unknown codes keep their class family."""
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return errors.VfnetError(f"HTTP {status} without an error body")
    code, message, field = error.get("code"), str(error.get("message", "")), error.get("field")
    builder = BUILDERS.get(str(code))
    made = builder(message, field) if builder else _by_status(status, message)
    made.code = str(code)  # keep the server's exact code, e.g. unknown_field
    return made


def _by_status(status: int, message: str) -> errors.VfnetError:
    family: dict[int, type[errors.VfnetError]] = {
        401: errors.Unauthorized,
        403: errors.Forbidden,
        409: errors.Conflict,
    }
    return family.get(status, errors.VfnetError)(message)

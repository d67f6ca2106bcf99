"""The one place that turns vfnet errors into HTTP statuses and stable JSON error bodies.

Every error leaves the API as ``{"error": {"code", "message", "field"}}``. Codes are the
``code`` attribute of the domain exception (``vfnet.errors``) or one of the API-only codes
below. Once set, a code never changes: clients branch on it, never on the message.

NoValidHost is a 409: the request was well formed, but the fleet as it stands cannot
satisfy it; the same request may succeed once capacity frees up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from vfnet import errors
from vfnet.api.context import authorize

MALFORMED_JSON = "malformed_json"
BODY_TOO_LARGE = "body_too_large"
UNKNOWN_FIELD = "unknown_field"
INVALID_VALUE = errors.ValidationError.code
ROUTE_NOT_FOUND = errors.NotFound.code
METHOD_NOT_ALLOWED = "method_not_allowed"
INTERNAL_ERROR = "internal_error"

# Most specific first: the first class in an error's MRO found here decides its status.
STATUS_BY_ERROR: Mapping[type[errors.VfnetError], int] = {
    errors.ValidationError: 400,
    errors.ConfigError: 400,
    errors.InvalidPciAddress: 400,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.NoValidHost: 409,
    errors.SysfsError: 500,
    errors.DriverError: 500,
}

CODE_BY_HTTP_STATUS = {404: ROUTE_NOT_FOUND, 405: METHOD_NOT_ALLOWED}


def error_response(
    status: int, code: str, message: str, field: str | None = None, **headers: str
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "field": field}}
    return JSONResponse(body, status_code=status, headers=headers or None)


def status_of(error: errors.VfnetError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


def field_of(error: errors.VfnetError) -> str | None:
    field = getattr(error, "field", None)
    return field if isinstance(field, str) else None


def render_domain_error(error: errors.VfnetError) -> JSONResponse:
    status = status_of(error)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    return error_response(status, error.code, str(error), field_of(error), **headers)


def field_path(loc: Sequence[int | str]) -> str:
    """``("body", "pci_requests", 0, "count")`` -> ``pci_requests[0].count``."""
    parts = list(loc[1:]) if loc and loc[0] in ("body", "query", "path") else list(loc)
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


def render_validation_error(error: RequestValidationError) -> JSONResponse:
    problems: Sequence[Any] = error.errors()
    if any(p.get("type") == "json_invalid" for p in problems):
        return error_response(400, MALFORMED_JSON, "the request body is not valid JSON")
    first = problems[0]
    field = field_path(first.get("loc", ()))
    if first.get("type") == "extra_forbidden":
        return error_response(400, UNKNOWN_FIELD, f"{field}: unknown field", field)
    if first.get("type") == "missing" and field == "body":
        return error_response(400, INVALID_VALUE, "a JSON request body is required", field)
    messages = "; ".join(f"{field_path(p.get('loc', ()))}: {p.get('msg')}" for p in problems)
    return error_response(400, INVALID_VALUE, messages, field)


def render_http_error(error: StarletteHTTPException) -> JSONResponse:
    code = CODE_BY_HTTP_STATUS.get(error.status_code, "http_error")
    headers = dict(error.headers or {})
    return error_response(error.status_code, code, str(error.detail), None, **headers)


def install(app: FastAPI) -> None:
    """Register the renderers; unexpected exceptions stay 500s with a stable body."""

    async def on_domain(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, errors.VfnetError)
        return render_domain_error(exc)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        # FastAPI parses JSON before dependencies run: check the caller first, so an
        # anonymous or unauthorized caller learns nothing about what the body should be.
        try:
            await run_in_threadpool(authorize, request)
        except errors.VfnetError as refused:
            return render_domain_error(refused)
        return render_validation_error(exc)

    async def on_http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return render_http_error(exc)

    async def on_unexpected(_: Request, exc: Exception) -> JSONResponse:
        return error_response(500, INTERNAL_ERROR, "the server failed; see its log")

    app.add_exception_handler(Exception, on_unexpected)
    app.add_exception_handler(errors.VfnetError, on_domain)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)

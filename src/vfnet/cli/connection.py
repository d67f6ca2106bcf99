"""How commands reach the vfnet server: --url and --token (or VFNET_URL, VFNET_TOKEN).

Commands that talk to the API are decorated with ``api_command`` and receive an open
``Client`` as their first argument. The client comes from the ``Connector`` in the click
context object, so a caller (a test, an embedding program) can hand in a transport
that runs the app in-process; by default it is plain HTTP.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import click
import httpx

from vfnet.cli.failures import BadInput, CommandFailed
from vfnet.client import Client

URL_ENV = "VFNET_URL"
TOKEN_ENV = "VFNET_TOKEN"
_ERRNO_PREFIX = re.compile(r"^\[Errno -?\d+\]\s*")


@dataclass(frozen=True, slots=True)
class Connector:
    """Opens the client a command talks through; ``transport`` None means real HTTP."""

    transport: httpx.BaseTransport | None = None

    def open(self, url: str, token: str) -> Client:
        return Client(url, token, self.transport)


def api_command(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--url`` and ``--token`` to a command; call it with an open client first."""

    @click.option("--url", envvar=URL_ENV, show_envvar=True, metavar="URL",
                  help="The vfnet server, e.g. http://127.0.0.1:8775.")  # fmt: skip
    @click.option("--token", envvar=TOKEN_ENV, show_envvar=True, metavar="TOKEN",
                  help="An API token (vfnet-server token create).")  # fmt: skip
    @functools.wraps(func)
    def command(url: str | None, token: str | None, **kwargs: Any) -> Any:
        with connected(url, token) as client:
            return func(client, **kwargs)

    return command


@contextmanager
def connected(url: str | None, token: str | None) -> Iterator[Client]:
    """A client for ``url``; a missing setting or an unreachable server is one line."""
    if not url:
        raise BadInput(f"no server given: set {URL_ENV} or pass --url")
    if not token:
        raise BadInput(f"no token given: set {TOKEN_ENV} or pass --token")
    ctx = click.get_current_context(silent=True)
    connector = (ctx.find_object(Connector) if ctx is not None else None) or Connector()
    try:
        with connector.open(url, token) as client:
            yield client
    except httpx.InvalidURL as error:
        raise BadInput(f"--url {url!r}: {error}") from error
    except httpx.UnsupportedProtocol as error:
        raise BadInput(f"--url {url!r}: use http:// or https://") from error
    except httpx.TransportError as error:
        raise CommandFailed(f"cannot reach the vfnet server at {url}: {reason(error)}") from error


def reason(error: httpx.TransportError) -> str:
    """What went wrong on the wire, without Python's errno decoration."""
    if isinstance(error, httpx.TimeoutException):
        return "no answer in time"
    text = _ERRNO_PREFIX.sub("", str(error)).strip()
    return text[:1].lower() + text[1:] if text else type(error).__name__

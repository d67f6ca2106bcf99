"""Waking long polls of a host's desired state as soon as this server has written.

A long poll reads the host's desired generation every ``POLL_INTERVAL`` while it waits.
Most changes come through the same server process, so each write request, once
answered, wakes this process's waiting polls at once; they read the generation again
and answer if it moved. A change made through another server process is still seen at
the next regular read.
"""

from __future__ import annotations

import asyncio
import contextlib

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["WakeOnWrite", "Writes"]

READS = frozenset({"GET", "HEAD", "OPTIONS"})


class Writes:
    """What a waiting long poll waits on: the next write answered, or ``seconds``."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), seconds)


class WakeOnWrite:
    """ASGI middleware: after a request that may write has been answered, ``notify``."""

    def __init__(self, app: ASGIApp, writes: Writes) -> None:
        self.app = app
        self.writes = writes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
        if scope["type"] == "http" and scope["method"] not in READS:
            self.writes.notify()

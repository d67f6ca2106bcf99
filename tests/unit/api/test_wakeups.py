"""Long polls woken by this server's own writes: a write answered wakes them, a read does not."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from vfnet.api.wakeups import WakeOnWrite, Writes


class Counting(Writes):
    def __init__(self) -> None:
        super().__init__()
        self.notified = 0

    def notify(self) -> None:
        self.notified += 1
        super().notify()


async def answered(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})


async def nothing() -> dict[str, Any]:
    return {"type": "http.request"}


async def ignore(message: Any) -> None:
    return None


def test_a_waiting_poll_is_woken_by_a_write_long_before_its_time_is_up() -> None:
    async def scenario() -> None:
        writes = Writes()
        waiting = asyncio.create_task(writes.wait(3600))
        await asyncio.sleep(0)  # it waits now
        writes.notify()
        await asyncio.wait_for(waiting, 30)  # woken, not left to its hour

    asyncio.run(scenario())


def test_a_poll_with_no_write_returns_when_its_time_is_up() -> None:
    asyncio.run(asyncio.wait_for(Writes().wait(0.01), 30))


@pytest.mark.parametrize(
    ("method", "wakes"), [("POST", 1), ("PUT", 1), ("DELETE", 1), ("GET", 0), ("HEAD", 0)]
)
def test_only_a_request_that_may_write_wakes_the_polls(method: str, wakes: int) -> None:
    writes = Counting()
    middleware = WakeOnWrite(answered, writes)
    scope = {"type": "http", "method": method, "path": "/v1/ports"}
    asyncio.run(middleware(scope, nothing, ignore))
    assert writes.notified == wakes

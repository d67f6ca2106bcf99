"""Handler of /v1/hosts/{name}/desired: a host's desired state, long-polled by its agent.

``since`` is the generation the agent last reconciled. When the host is still there,
the answer waits up to ``wait`` seconds (at most ``MAX_WAIT``) for the generation to
move, reading it every ``POLL_INTERVAL``: from the database, so the change may come from
any server sharing it, and at once after a write answered by this server process
(``vfnet.api.wakeups``). The answer is always the current document; the same generation
back means nothing changed.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import Query, Request
from starlette.concurrency import run_in_threadpool

from vfnet.api import desired
from vfnet.api.context import Ctx

MAX_WAIT = 30.0
POLL_INTERVAL = 0.1


async def get_desired(
    name: str,
    ctx: Ctx,
    request: Request,
    since: Annotated[int | None, Query(ge=0)] = None,
    wait: Annotated[float | None, Query(ge=0)] = None,
) -> dict[str, Any]:
    """GET /v1/hosts/{name}/desired?since=&wait=: the host's desired state document."""
    store = ctx.store
    generation = await run_in_threadpool(store.desired_generation, name)
    if since is not None and since == generation and wait:
        deadline = time.monotonic() + min(wait, MAX_WAIT)
        while generation == since and time.monotonic() < deadline:
            await request.app.state.writes.wait(POLL_INTERVAL)
            generation = await run_in_threadpool(store.desired_generation, name)
    inputs = await run_in_threadpool(store.desired_inputs, name)
    instances = await run_in_threadpool(desired.instances_of, store, inputs)
    return desired.document(inputs, instances)

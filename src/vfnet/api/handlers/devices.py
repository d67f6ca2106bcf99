"""Handlers of /v1/devices: the devices the server tracks, filtered (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from vfnet.api.context import Ctx
from vfnet.api.schemas.devices import DeviceList, DeviceOut
from vfnet.pci.devices import DeviceType

DeviceState = Annotated[
    str | None,
    Query(pattern=r"^(available|claimed|allocated|unclaimable|unavailable|removed|releasing)$"),
]


def list_devices(
    ctx: Ctx,
    host: str | None = None,
    type: DeviceType | None = None,  # the query parameter's public name
    state: DeviceState = None,
    physnet: str | None = None,
) -> DeviceList:
    """GET /v1/devices?host=&type=&state=&physnet=."""
    records = ctx.store.list_devices(
        host=host, dev_type=type.value if type else None, state=state, physnet=physnet
    )
    return DeviceList(devices=[DeviceOut.of(record) for record in records])

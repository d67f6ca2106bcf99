"""Handlers of /v1/devices: the devices the server tracks, filtered; an admin's release (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from vfnet.api.context import Ctx
from vfnet.api.handlers.hosts import pci_address
from vfnet.api.schemas.devices import DeviceList, DeviceOut, ReleaseIn
from vfnet.errors import ValidationError
from vfnet.pci.address import PciAddress
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


def release_device(name: str, address: str, body: ReleaseIn, ctx: Ctx) -> DeviceOut:
    """POST /v1/hosts/{name}/devices/{address}/release {"force": true}: free a VF stuck
    releasing without its agent's verification (409 unless it is releasing)."""
    if not body.force:
        raise ValidationError(
            "force",
            "a releasing VF is freed when its agent reports its reset verified; send "
            '"force": true only if that agent is dead or cannot reset it',
        )
    device = PciAddress.parse(pci_address("address", address))
    return DeviceOut.of(ctx.store.force_release(name, device))

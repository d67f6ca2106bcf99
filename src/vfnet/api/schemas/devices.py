"""Bodies of /v1/devices: tracked devices with their state and owner."""

from __future__ import annotations

from vfnet.api.schemas.base import RequestBody, ResponseBody
from vfnet.store.records import DeviceRecord

TagValue = str | bool | int | float | None


class DeviceOut(ResponseBody):
    host: str
    address: str
    dev_type: str
    vendor_id: str
    product_id: str
    numa_node: int | None
    parent_addr: str | None
    vf_index: int | None
    driver: str | None
    ifname: str | None
    mac: str | None
    physnet: str | None
    tags: dict[str, TagValue]
    resource_name: str | None
    healthy: bool
    health_reasons: list[str]
    state: str
    owner: str | None
    vanished: bool
    #: How many times it was claimed; a report about its reset names the claim it ended.
    claim_generation: int

    @classmethod
    def of(cls, record: DeviceRecord) -> DeviceOut:
        device = record.reported
        return cls(
            host=record.host,
            address=str(device.address),
            dev_type=device.dev_type.value,
            vendor_id=device.vendor_id,
            product_id=device.product_id,
            numa_node=device.numa_node,
            parent_addr=str(device.parent_addr) if device.parent_addr else None,
            vf_index=device.vf_index,
            driver=device.driver,
            ifname=device.ifname,
            mac=device.mac,
            physnet=device.physnet,
            tags=dict(device.tags),
            resource_name=device.resource_name,
            healthy=device.healthy,
            health_reasons=list(device.health_reasons),
            state=record.state,
            owner=record.owner,
            vanished=record.vanished,
            claim_generation=record.claim_generation,
        )


class DeviceList(ResponseBody):
    devices: list[DeviceOut]


class ReleaseIn(RequestBody):
    #: Free a VF stuck ``releasing`` without its agent's verified reset: only when that
    #: agent is dead or cannot reset it, as the VF may keep its last owner's settings.
    force: bool = False

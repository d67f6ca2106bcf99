"""Bodies of /v1/pools: devices grouped by pool key, with free counts."""

from __future__ import annotations

from vfnet.api.schemas.base import ResponseBody


class PoolOut(ResponseBody):
    host: str
    vendor_id: str
    product_id: str
    numa_node: int | None
    dev_type: str
    physnet: str | None
    tags: dict[str, str | None]
    parent_addr: str | None
    free: int
    total: int


class PoolList(ResponseBody):
    pools: list[PoolOut]

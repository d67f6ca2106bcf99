"""Handlers of /v1/pools: free and total counts per pool (admin)."""

from __future__ import annotations

from vfnet.api.context import Ctx
from vfnet.api.schemas.pools import PoolList, PoolOut


def list_pools(ctx: Ctx, host: str | None = None) -> PoolList:
    """GET /v1/pools?host=."""
    pools = ctx.store.list_pools(host=host)
    return PoolList(
        pools=[
            PoolOut(
                host=pool.host,
                vendor_id=pool.vendor_id,
                product_id=pool.product_id,
                numa_node=pool.numa_node,
                dev_type=pool.dev_type,
                physnet=pool.physnet,
                tags=dict(pool.tags),
                parent_addr=pool.parent_addr,
                free=pool.free,
                total=pool.total,
            )
            for pool in pools
        ]
    )

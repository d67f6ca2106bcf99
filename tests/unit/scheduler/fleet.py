"""Pool keys for scheduler tests, spelled as a host with X710 VFs reports them."""

from __future__ import annotations

from vfnet.inventory.pools import PoolKey


def vf_pool(
    pf: str, physnet: str | None = "physnet1", numa: int | None = 0, **tags: str | None
) -> PoolKey:
    return PoolKey.of(
        {
            "vendor_id": "8086",
            "product_id": "154c",
            "numa_node": None if numa is None else str(numa),
            "dev_type": "type-VF",
            "physical_network": physnet,
            "remote_managed": "false",
            "address": pf,
            **tags,
        }
    )


def pf_pool(pf: str, physnet: str | None = "physnet1", numa: int = 0) -> PoolKey:
    return PoolKey.of(
        {
            "vendor_id": "8086",
            "product_id": "1572",
            "numa_node": str(numa),
            "dev_type": "type-PF",
            "physical_network": physnet,
            "remote_managed": "false",
            "address": pf,
        }
    )

"""Small builders for networking store tests: a VLAN network, a subnet, a port."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

from vfnet.network.macs import MacBase
from vfnet.network.networks import Network, NetworkType, Segment
from vfnet.network.ports import PortRequest
from vfnet.network.subnets import SubnetRequest
from vfnet.store import Store
from vfnet.store.records import FixedIpRequest, NetworkRecord, PortRecord, SubnetRecord

ADMIN = "admin"
PROJECT = "project-a"
BASE_MAC = MacBase.parse()


def vlan_network(
    store: Store, vlan: int = 100, *, physnet: str = "physnet1", name: str = "", **fields: object
) -> NetworkRecord:
    segment = Segment(NetworkType.VLAN, physnet, vlan)
    network = Network(name or f"vlan{vlan}", PROJECT, segment, **fields)  # type: ignore[arg-type]
    return store.create_network(network)


def subnet(
    store: Store,
    network_id: str,
    cidr: str = "10.0.0.0/24",
    *,
    pools: Sequence[Mapping[str, str]] | None = None,
    **fields: object,
) -> SubnetRecord:
    request = SubnetRequest(network_id, cidr, allocation_pools=pools, **fields)  # type: ignore[arg-type]
    return store.create_subnet(request, project_id=PROJECT)


def port(
    store: Store,
    network_id: str,
    *,
    mac_address: str | None = None,
    fixed_ips: Sequence[FixedIpRequest] | None = None,
    seed: int | None = None,
    project_id: str | None = PROJECT,
    **fields: object,
) -> PortRecord:
    return store.create_port(
        PortRequest(network_id, **fields),  # type: ignore[arg-type]
        project_id=project_id,
        role=ADMIN,
        mac_address=mac_address,
        fixed_ips=fixed_ips,
        base_mac=BASE_MAC,
        random=random.Random(seed),
    )


def addresses(record: PortRecord) -> list[str]:
    return [fixed.ip_address for fixed in record.fixed_ips]

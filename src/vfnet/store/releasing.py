"""Released VFs on hosts whose agent verifies resets: held releasing until the reset is read back.

A claim bumps each device's ``claim_generation``. A release on a host that manages its
VFs leaves each freed VF ``releasing`` (``states.await_reset``), listed in the host's
desired state with that generation; the agent resets it, reads it back, and reports the
generation it reset. Only a report naming the device's current generation frees it
(``states.reset_verified``), so a late report never frees a VF claimed again since.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import sqlalchemy as sa

from vfnet.inventory.claims import HostInventory
from vfnet.inventory.states import DeviceState, DeviceTable
from vfnet.pci.address import PciAddress
from vfnet.pci.devices import DeviceType
from vfnet.store.tables import devices, hosts

# What an agent resets: VFs (a vDPA device is a VF too) it finds under their PF.
RESET_BY_AGENT = frozenset({DeviceType.VF, DeviceType.VDPA})
RESET_TYPES = sorted(kind.value for kind in RESET_BY_AGENT)  # as the devices table spells them


def manages_vfs(conn: sa.Connection, host: str) -> bool:
    query = sa.select(hosts.c.manages_vfs).where(hosts.c.name == host)
    return bool(conn.execute(query).scalar())


def bump_claim_generations(conn: sa.Connection, host: str, addresses: Iterable[PciAddress]) -> None:
    keys = [str(address) for address in addresses]
    if keys:
        conn.execute(
            devices.update()
            .where(devices.c.host == host, devices.c.address.in_(keys))
            .values(claim_generation=devices.c.claim_generation + 1)
        )


def releasing(conn: sa.Connection, host: str) -> dict[PciAddress, int]:
    """The host's releasing devices with the claim generation they were released at."""
    query = sa.select(devices.c.address, devices.c.claim_generation).where(
        devices.c.host == host, devices.c.state == DeviceState.RELEASING.value
    )
    return {PciAddress.parse(row.address): int(row.claim_generation) for row in conn.execute(query)}


def resettable(inventory: HostInventory, freed: Iterable[PciAddress]) -> list[PciAddress]:
    """The freed devices the agent must reset: VFs still on the host."""
    tracked = {item.address: item for item in inventory.devices()}
    return [
        address
        for address in freed
        if address in tracked
        and not tracked[address].vanished
        and tracked[address].selected.device.dev_type in RESET_BY_AGENT
        and tracked[address].selected.device.vf_index is not None
    ]


def verifiable(
    current: Mapping[PciAddress, int], reported: Mapping[PciAddress, int]
) -> list[PciAddress]:
    """The releasing devices whose reported claim generation is still theirs."""
    return sorted(a for a, generation in reported.items() if current.get(a) == generation)


def with_transitions(
    inventory: HostInventory, transition: str, addresses: Iterable[PciAddress]
) -> HostInventory:
    """``inventory`` after ``transition`` (``await_reset`` or ``reset_verified``) on each.

    A HostInventory changes only through its own operations, so the result is a new one
    restored from the transitioned statuses, at the same generation.
    """
    tracked = inventory.devices()
    table = DeviceTable.of(
        [item.selected.device for item in tracked], {item.address: item.status for item in tracked}
    )
    for address in addresses:
        table = getattr(table, transition)(address)
    return HostInventory(
        [item.selected for item in tracked],
        unhealthy=frozenset(item.address for item in tracked if not item.healthy),
        generation=inventory.generation,
        statuses=dict(zip(table.family.addresses, table.statuses, strict=True)),
        vanished=frozenset(item.address for item in tracked if item.vanished),
    )

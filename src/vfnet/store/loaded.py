"""A host's inventory as loaded from its rows, and what changed in it since."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from vfnet.errors import NotFound
from vfnet.inventory.claims import HostInventory
from vfnet.inventory.reports import Tracked
from vfnet.pci.address import PciAddress
from vfnet.store.records import ClaimedDevice


@dataclass(slots=True)
class Loaded:
    """One host's inventory as read at ``generation``, with the rows it was read from."""

    host: str
    generation: int
    inventory: HostInventory
    before: dict[PciAddress, Tracked]
    reasons: dict[PciAddress, tuple[str, ...]]
    sockets: dict[int, int | None]
    children: dict[PciAddress, list[PciAddress]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.index_children()

    def index_children(self) -> None:
        self.children = {}
        for item in self.before.values():
            parent = item.selected.device.parent_addr
            if parent is not None:
                self.children.setdefault(parent, []).append(item.address)

    def with_relatives(self, addresses: Iterable[PciAddress]) -> set[PciAddress]:
        """The devices and their PFs or VFs: all a claim, allocate or release can change."""
        touched = set(addresses)
        for address in list(touched):
            item = self.before.get(address)
            parent = item.selected.device.parent_addr if item else None
            if parent is not None:
                touched.add(parent)
            touched.update(self.children.get(address, ()))
        return touched


def unchanged(loaded: Loaded, reasons: Mapping[PciAddress, tuple[str, ...]]) -> bool:
    after = loaded.inventory.devices()
    if len(after) != len(loaded.before) or reasons != loaded.reasons:
        return False
    return all(loaded.before.get(item.address) == item for item in after)


def held(inventory: HostInventory, owner: str) -> tuple[ClaimedDevice, ...]:
    found = []
    for request_id, addresses in inventory.devices_of(owner).items():
        for address in addresses:
            state = inventory.device(address).state.value
            found.append(ClaimedDevice(address, request_id, state))
    return tuple(sorted(found, key=lambda device: device.address))


def still_tracked(inventory: HostInventory, addresses: Iterable[PciAddress]) -> list[Tracked]:
    found = []
    for address in addresses:
        try:
            found.append(inventory.device(address))
        except NotFound:
            continue  # released after it vanished: gone for good
    return found

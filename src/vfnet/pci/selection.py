"""What selection yields: a device the operator hands to vfnet, with its tags."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from vfnet.pci.devices import PciDevice

TagValue = str | bool | int | float | None


@dataclass(frozen=True, slots=True)
class SelectedDevice:
    """A device chosen by the host's device spec (or device-plugin selectors).

    ``tags`` are those of the first matching entry, normalised as Nova normalises them
    (``physical_network``, ``trusted``, ``managed``, ...). ``resource_name`` is the
    device-plugin pool that claimed it, when selectors did the choosing.
    """

    device: PciDevice
    tags: Mapping[str, TagValue] = field(default_factory=dict)
    resource_name: str | None = None

    @property
    def physical_network(self) -> str | None:
        value = self.tags.get("physical_network")
        return None if value is None else str(value)

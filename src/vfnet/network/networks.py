"""Networks and their provider segment: who may create them, which segments are valid and free.

Public API: NetworkType, Segment, Network, BINDABLE_TYPES, ADMIN_ROLE, validate_network,
check_provider_allowed, check_network_deletable.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable
from dataclasses import dataclass
from enum import StrEnum

from vfnet.errors import Conflict, Forbidden, InUse, ValidationError

ADMIN_ROLE = "admin"
PHYSNET = "provider:physical_network"
NETWORK_TYPE = "provider:network_type"
SEGMENTATION_ID = "provider:segmentation_id"
PROVIDER_FIELDS = (NETWORK_TYPE, PHYSNET, SEGMENTATION_ID)


class NetworkType(StrEnum):
    FLAT = "flat"
    VLAN = "vlan"
    VXLAN = "vxlan"
    GENEVE = "geneve"
    GRE = "gre"
    LOCAL = "local"


# Only these reach a VF: the NIC's embedded switch knows VLANs, not overlays.
BINDABLE_TYPES = frozenset({NetworkType.FLAT, NetworkType.VLAN})
_ON_PHYSNET = BINDABLE_TYPES
# Segment id range per type; absent means the type takes no segment id.
_ID_RANGES = {
    NetworkType.VLAN: (1, 4094),
    NetworkType.VXLAN: (1, 2**24 - 1),
    NetworkType.GENEVE: (1, 2**24 - 1),
    NetworkType.GRE: (1, 2**32 - 1),
}


@dataclass(frozen=True, slots=True)
class Segment:
    """Where a network's frames go: a physnet (flat), a VLAN on a physnet, or an overlay id."""

    network_type: NetworkType
    physical_network: str | None = None
    segmentation_id: int | None = None

    @property
    def key(self) -> Hashable | None:
        """What two networks may not share: one flat network or one VLAN id per physnet.

        ``None`` when the segment reserves nothing (an overlay without an id, ``local``).
        """
        if self.network_type in _ON_PHYSNET:
            return (self.physical_network, self.segmentation_id)
        if self.segmentation_id is None:
            return None
        return (self.network_type, self.segmentation_id)

    @property
    def vlan(self) -> int:
        """The VLAN tag a VF on this segment gets (0: untagged, for flat)."""
        if self.network_type is NetworkType.VLAN and self.segmentation_id is not None:
            return self.segmentation_id
        return 0


@dataclass(frozen=True, slots=True)
class Network:
    name: str
    project_id: str
    segment: Segment
    admin_state_up: bool = True
    shared: bool = False
    qos_policy_id: str | None = None
    id: str = ""


def check_provider_allowed(role: str, given: Collection[str]) -> None:
    """Only admins name a physical network or a segment: members would reach others' wires."""
    provided = [name for name in PROVIDER_FIELDS if name in given]
    if provided and role != ADMIN_ROLE:
        raise Forbidden(
            f"only an admin may set {', '.join(provided)}; the {role} role may not create "
            "a provider network"
        )


def parse_segment(
    network_type: str | None, physical_network: str | None, segmentation_id: object
) -> Segment:
    """The segment the ``provider:*`` fields describe, each field checked on its own terms."""
    if network_type is None:
        raise ValidationError(
            NETWORK_TYPE,
            "is required: vfnet networks are provider networks (flat or vlan on a physical "
            "network), created by an admin and shared",
        )
    try:
        kind = NetworkType(network_type)
    except ValueError:
        known = ", ".join(NetworkType)
        raise ValidationError(NETWORK_TYPE, f"unknown type {network_type!r}; use {known}") from None
    return Segment(kind, _physnet(kind, physical_network), _segmentation_id(kind, segmentation_id))


def validate_network(network: Network, taken: Collection[Hashable]) -> Network:
    """``network`` when its segment is not already used (``taken`` holds ``Segment.key``s).

    The store keeps a unique constraint on the same key, so two creations racing for one
    VLAN cannot both succeed.
    """
    if not network.name.strip():
        raise ValidationError("name", "must not be empty")
    segment = network.segment
    if segment.key is not None and segment.key in taken:
        raise Conflict(f"{SEGMENTATION_ID}: {_taken_reason(segment)}")
    return network


def check_network_deletable(network_id: str, port_count: int) -> None:
    """A network with ports cannot go: the ports (and their VFs) would point at nothing."""
    if port_count:
        noun = "port" if port_count == 1 else "ports"
        raise InUse(f"network {network_id!r} still has {port_count} {noun}; delete them first")


def _physnet(kind: NetworkType, physical_network: str | None) -> str | None:
    if kind in _ON_PHYSNET:
        if not physical_network or not physical_network.strip():
            raise ValidationError(PHYSNET, f"is required for a {kind.value} network")
        return physical_network
    if physical_network is not None:
        raise ValidationError(PHYSNET, f"a {kind.value} network is not on a physical network")
    return None


def _segmentation_id(kind: NetworkType, value: object) -> int | None:
    bounds = _ID_RANGES.get(kind)
    if bounds is None:
        if value is not None:
            raise ValidationError(SEGMENTATION_ID, f"a {kind.value} network takes no segment id")
        return None
    if value is None:
        if kind is NetworkType.VLAN:
            raise ValidationError(SEGMENTATION_ID, "is required for a vlan network (1-4094)")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(SEGMENTATION_ID, f"must be a whole number, not {value!r}")
    low, high = bounds
    if not low <= value <= high:
        raise ValidationError(
            SEGMENTATION_ID, f"{value} is outside {low}-{high} for a {kind.value} network"
        )
    return value


def _taken_reason(segment: Segment) -> str:
    if segment.network_type is NetworkType.FLAT:
        return f"physical network {segment.physical_network!r} already has a flat network"
    if segment.network_type is NetworkType.VLAN:
        return (
            f"VLAN {segment.segmentation_id} on physical network "
            f"{segment.physical_network!r} is already used by another network"
        )
    return f"{segment.network_type.value} id {segment.segmentation_id} is already used"

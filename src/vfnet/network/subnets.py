"""Subnets: CIDR, gateway and allocation pools validated; fixed IPs chosen or checked.

Public API: DEFAULT_GATEWAY, SubnetRequest, Subnet, validate_subnet, allocate_ip,
check_requested_ip.
"""

from __future__ import annotations

from collections.abc import Collection, Container, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_network
from itertools import pairwise

from vfnet.errors import Conflict, IpAddressExhausted, ValidationError
from vfnet.network.ipam import FreeRanges, IpAddress, IpRange, parse_ip

IpNetwork = IPv4Network | IPv6Network
POOLS = "allocation_pools"
FIXED_IPS = "fixed_ips"


class _Default(Enum):
    GATEWAY = "default"


# ``gateway_ip`` left out: the first host address. ``None`` means no gateway at all.
DEFAULT_GATEWAY = _Default.GATEWAY


@dataclass(frozen=True, slots=True)
class SubnetRequest:
    """A subnet as a user writes it; ``allocation_pools`` items are ``{"start", "end"}``."""

    network_id: str
    cidr: str
    ip_version: int | None = None
    gateway_ip: str | _Default | None = DEFAULT_GATEWAY
    allocation_pools: Sequence[Mapping[str, str]] | None = None
    name: str = ""


@dataclass(frozen=True, slots=True)
class Subnet:
    network_id: str
    cidr: IpNetwork
    gateway_ip: IpAddress | None
    allocation_pools: tuple[IpRange, ...]
    name: str = ""
    id: str = ""

    @property
    def ip_version(self) -> int:
        return self.cidr.version

    def free_ranges(self, used: Collection[IpAddress] = ()) -> FreeRanges:
        return FreeRanges.from_pools(self.allocation_pools, used)


def validate_subnet(request: SubnetRequest, network_cidrs: Collection[IpNetwork] = ()) -> Subnet:
    """The subnet ``request`` describes, refused when it overlaps ``network_cidrs`` (the
    network's other subnets) or when its gateway or pools do not fit its CIDR."""
    cidr = _parse_cidr(request.cidr, request.ip_version)
    for other in network_cidrs:
        if other.version == cidr.version and cidr.overlaps(other):
            raise Conflict(f"cidr: {cidr} overlaps {other}, another subnet of this network")
    gateway = _gateway(cidr, request.gateway_ip)
    if request.allocation_pools is None:
        pools = _default_pools(cidr, gateway)
    else:
        pools = _given_pools(cidr, gateway, request.allocation_pools)
    return Subnet(request.network_id, cidr, gateway, pools, request.name)


def allocate_ip(subnet: Subnet, free: FreeRanges) -> tuple[IpAddress, FreeRanges]:
    """The lowest free address of ``subnet``'s pools, and the free ranges without it."""
    address = free.first()
    if address is None:
        raise IpAddressExhausted(
            f"subnet {subnet.id or subnet.cidr} ({subnet.cidr}): no free address left in "
            f"its allocation pools {', '.join(map(str, subnet.allocation_pools))}"
        )
    return address, free.take(address)


def check_requested_ip(subnet: Subnet, text: str, in_use: Container[IpAddress]) -> IpAddress:
    """A fixed IP a user asks for: inside the subnet (pools or not), not reserved, not in use."""
    address = parse_ip(text, FIXED_IPS)
    if address not in subnet.cidr:
        raise ValidationError(FIXED_IPS, f"{address} is outside subnet {subnet.cidr}")
    if address == subnet.gateway_ip:
        raise ValidationError(FIXED_IPS, f"{address} is the gateway of subnet {subnet.cidr}")
    reserved = _reserved(subnet.cidr)
    if address in reserved:
        raise ValidationError(FIXED_IPS, f"{address} is {reserved[address]} of {subnet.cidr}")
    if address in in_use:
        raise Conflict(f"{FIXED_IPS}: {address} is already in use on subnet {subnet.cidr}")
    return address


def _parse_cidr(text: str, ip_version: int | None) -> IpNetwork:
    try:
        cidr = ip_network(text, strict=False)
    except ValueError:
        raise ValidationError("cidr", f"{text!r} is not an IPv4 or IPv6 CIDR") from None
    if str(cidr) != text.strip():
        raise ValidationError("cidr", f"{text!r} has host bits set; did you mean {cidr}?")
    if ip_version is not None and ip_version != cidr.version:
        raise ValidationError("ip_version", f"{ip_version} does not match cidr {cidr}")
    return cidr


def _gateway(cidr: IpNetwork, given: str | _Default | None) -> IpAddress | None:
    if given is None:
        return None
    if isinstance(given, _Default):
        first, last = _usable(cidr)
        # A /31-style subnet with one usable address keeps it for ports.
        return _address(cidr, first) if first < last else None
    gateway = parse_ip(given, "gateway_ip")
    if gateway not in cidr:
        raise ValidationError("gateway_ip", f"{gateway} is outside {cidr}")
    reserved = _reserved(cidr)
    if gateway in reserved:
        raise ValidationError("gateway_ip", f"{gateway} is {reserved[gateway]} of {cidr}")
    return gateway


def _default_pools(cidr: IpNetwork, gateway: IpAddress | None) -> tuple[IpRange, ...]:
    """The usable addresses, split around the gateway."""
    first, last = _usable(cidr)
    spans = [(first, last)]
    if gateway is not None:
        g = int(gateway)
        spans = [(a, b) for a, b in ((first, g - 1), (g + 1, last)) if a <= b]
    return tuple(IpRange(_address(cidr, a), _address(cidr, b)) for a, b in spans)


def _given_pools(
    cidr: IpNetwork, gateway: IpAddress | None, given: Sequence[Mapping[str, str]]
) -> tuple[IpRange, ...]:
    if not given:
        raise ValidationError(POOLS, "give at least one pool, or leave the field out")
    pools = tuple(
        sorted(_given_pool(cidr, gateway, index, item) for index, item in enumerate(given))
    )
    for before, after in pairwise(pools):
        if int(after.first) <= int(before.last):
            raise ValidationError(POOLS, f"pools {before} and {after} overlap")
    return pools


def _given_pool(
    cidr: IpNetwork, gateway: IpAddress | None, index: int, item: Mapping[str, str]
) -> IpRange:
    field = f"{POOLS}[{index}]"
    if set(item) != {"start", "end"}:
        raise ValidationError(field, "a pool has exactly the keys 'start' and 'end'")
    pool = IpRange.parse(item["start"], item["end"], field)
    if pool.first not in cidr or pool.last not in cidr:
        raise ValidationError(field, f"{pool} is not inside {cidr}")
    for address, what in _reserved(cidr).items():
        if address in pool:
            raise ValidationError(field, f"{pool} contains {address}, {what} of {cidr}")
    if gateway is not None and gateway in pool:
        raise ValidationError(field, f"{pool} contains the gateway {gateway}")
    return pool


def _reserved(cidr: IpNetwork) -> dict[IpAddress, str]:
    """Addresses no port may hold: IPv4 network and broadcast, IPv6 subnet-router anycast."""
    if cidr.version == 4 and cidr.prefixlen < 31:
        return {
            cidr.network_address: "the network address",
            cidr.broadcast_address: "the broadcast address",
        }
    if cidr.version == 6 and cidr.prefixlen < 127:
        return {cidr.network_address: "the subnet-router anycast address"}
    return {}


def _usable(cidr: IpNetwork) -> tuple[int, int]:
    first, last = int(cidr.network_address), int(cidr.broadcast_address)
    reserved = {int(address) for address in _reserved(cidr)}
    if first in reserved:
        first += 1
    if last in reserved:
        last -= 1
    return first, last


def _address(cidr: IpNetwork, value: int) -> IpAddress:
    return IPv4Address(value) if cidr.version == 4 else IPv6Address(value)

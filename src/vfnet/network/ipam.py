"""Free addresses of a subnet kept as ranges, so a /8 or a /64 costs what its gaps cost.

``FreeRanges`` is a value: ``take`` and ``release`` return a new one. Build it from the
allocation pools and the addresses in use (``from_pools``); the lowest free address is
``first()``. The store enforces one port per address with a unique constraint, so two
servers that pick the same lowest address race safely: one insert fails and retries.

Public API: IpAddress, IpRange, FreeRanges.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address

from vfnet.errors import ValidationError

IpAddress = IPv4Address | IPv6Address
_Span = tuple[int, int]


@dataclass(frozen=True, slots=True, order=True)
class IpRange:
    """An inclusive address range: one allocation pool (``start``-``end``)."""

    first: IpAddress
    last: IpAddress

    @classmethod
    def parse(cls, start: str, end: str, field: str = "allocation_pools") -> IpRange:
        first, last = parse_ip(start, field), parse_ip(end, field)
        if first.version != last.version:
            raise ValidationError(field, f"{start} and {end} are not of one IP version")
        if int(first) > int(last):
            raise ValidationError(field, f"start {start} is after end {end}")
        return cls(first, last)

    @property
    def span(self) -> _Span:
        return int(self.first), int(self.last)

    def __contains__(self, address: object) -> bool:
        return (
            isinstance(address, IPv4Address | IPv6Address)
            and address.version == self.first.version
            and int(self.first) <= int(address) <= int(self.last)
        )

    def __str__(self) -> str:
        return f"{self.first}-{self.last}"


@dataclass(frozen=True, slots=True)
class FreeRanges:
    """The free part of some pools: sorted, disjoint, never-adjacent ``(first, last)`` spans."""

    version: int
    pools: tuple[_Span, ...]
    free: tuple[_Span, ...]

    @classmethod
    def from_pools(cls, pools: Sequence[IpRange], used: Iterable[IpAddress] = ()) -> FreeRanges:
        """The pools minus ``used`` (addresses outside every pool are ignored)."""
        if not pools:
            raise ValidationError("allocation_pools", "a subnet needs at least one pool")
        version = pools[0].first.version
        spans = _merge(sorted(pool.span for pool in pools))
        taken = sorted({int(a) for a in used if a.version == version})
        return cls(version, spans, tuple(_subtract(spans, taken)))

    @property
    def size(self) -> int:
        """How many addresses are free."""
        return sum(last - first + 1 for first, last in self.free)

    def first(self) -> IpAddress | None:
        """The lowest free address, or ``None`` when the pools are full."""
        return self._address(self.free[0][0]) if self.free else None

    def __contains__(self, address: object) -> bool:
        if not isinstance(address, IPv4Address | IPv6Address) or address.version != self.version:
            return False
        return _find(self.free, int(address)) is not None

    def take(self, address: IpAddress) -> FreeRanges:
        """Without ``address``; taking an address that is not free changes nothing."""
        value = int(address)
        at = _find(self.free, value) if address.version == self.version else None
        if at is None:
            return self
        first, last = self.free[at]
        pieces = tuple((a, b) for a, b in ((first, value - 1), (value + 1, last)) if a <= b)
        return self._with(self.free[:at] + pieces + self.free[at + 1 :])

    def release(self, address: IpAddress) -> FreeRanges:
        """With ``address`` free again when it lies in a pool (a fixed IP outside stays out)."""
        value = int(address)
        if address.version != self.version or _find(self.pools, value) is None:
            return self
        if _find(self.free, value) is not None:
            return self
        at = bisect_right(self.free, (value, value))
        spans = (*self.free[:at], (value, value), *self.free[at:])
        return self._with(tuple(_merge(list(spans))))

    def _with(self, free: tuple[_Span, ...]) -> FreeRanges:
        return FreeRanges(self.version, self.pools, free)

    def _address(self, value: int) -> IpAddress:
        return IPv4Address(value) if self.version == 4 else IPv6Address(value)


def parse_ip(text: str, field: str) -> IpAddress:
    try:
        return ip_address(text)
    except ValueError:
        raise ValidationError(field, f"{text!r} is not an IP address") from None


def _find(spans: tuple[_Span, ...], value: int) -> int | None:
    """Index of the span holding ``value``."""
    at = bisect_right(spans, (value, _INFINITY)) - 1
    if at >= 0 and spans[at][0] <= value <= spans[at][1]:
        return at
    return None


# Larger than any IPv6 address, so (value, _INFINITY) sorts after every span starting at value.
_INFINITY = 2**129


def _merge(spans: list[_Span]) -> tuple[_Span, ...]:
    """Sorted spans joined where they touch or overlap."""
    merged: list[_Span] = []
    for first, last in spans:
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(last, merged[-1][1]))
        else:
            merged.append((first, last))
    return tuple(merged)


def _subtract(spans: tuple[_Span, ...], taken: list[int]) -> Iterator[_Span]:
    """``spans`` without the sorted values in ``taken``, in one pass over both."""
    index = 0
    for first, last in spans:
        while index < len(taken) and taken[index] < first:
            index += 1
        start = first
        while index < len(taken) and taken[index] <= last:
            if taken[index] > start:
                yield (start, taken[index] - 1)
            start = taken[index] + 1
            index += 1
        if start <= last:
            yield (start, last)

"""Free ranges: the lowest free address, take and release, built from pools and used addresses."""

from __future__ import annotations

from ipaddress import ip_address

import pytest

from vfnet.errors import ValidationError
from vfnet.network.ipam import FreeRanges, IpRange


def _ranges(*pools: str) -> list[IpRange]:
    return [IpRange.parse(*pool.split("-")) for pool in pools]


def _ips(*texts: str) -> list:
    return [ip_address(text) for text in texts]


@pytest.mark.parametrize(
    ("pools", "used", "first", "size"),
    [
        (["10.0.0.2-10.0.0.254"], [], "10.0.0.2", 253),
        (["10.0.0.2-10.0.0.254"], ["10.0.0.2", "10.0.0.3"], "10.0.0.4", 251),
        (["10.0.0.2-10.0.0.3"], ["10.0.0.2", "10.0.0.3"], None, 0),
        # A used address outside every pool (a requested fixed IP) frees nothing and takes nothing.
        (["10.0.0.10-10.0.0.20"], ["10.0.0.5", "10.0.0.10"], "10.0.0.11", 10),
        # Pools in any order, the lowest comes first; touching pools become one range.
        (["10.0.0.50-10.0.0.60", "10.0.0.2-10.0.0.49"], [], "10.0.0.2", 59),
        (["2001:db8::1-2001:db8::ffff:ffff:ffff:ffff"], ["2001:db8::1"], "2001:db8::2", 2**64 - 2),
        # Addresses of the other IP version are ignored.
        (["10.0.0.2-10.0.0.3"], ["::2"], "10.0.0.2", 2),
    ],
)
def test_free_ranges_start_at_the_lowest_free_address(pools, used, first, size):
    free = FreeRanges.from_pools(_ranges(*pools), _ips(*used))
    assert free.first() == (ip_address(first) if first else None)
    assert free.size == size


def test_taking_the_first_address_moves_to_the_next():
    free = FreeRanges.from_pools(_ranges("10.0.0.2-10.0.0.4"))
    taken = free.take(ip_address("10.0.0.2"))
    assert taken.first() == ip_address("10.0.0.3")
    assert ip_address("10.0.0.2") not in taken
    assert ip_address("10.0.0.2") in free


def test_taking_an_address_in_the_middle_splits_its_range():
    free = FreeRanges.from_pools(_ranges("10.0.0.2-10.0.0.9")).take(ip_address("10.0.0.5"))
    assert free.free == (
        (int(ip_address("10.0.0.2")), int(ip_address("10.0.0.4"))),
        (int(ip_address("10.0.0.6")), int(ip_address("10.0.0.9"))),
    )


@pytest.mark.parametrize(
    ("address", "size_after"),
    [
        ("10.0.0.5", 8),  # in a pool, in use: free again
        ("10.0.0.30", 7),  # outside every pool: stays out
        ("10.0.0.2", 7),  # already free: nothing changes
        ("::5", 7),  # the other IP version: nothing changes
    ],
)
def test_releasing_returns_an_address_only_to_its_pool(address, size_after):
    free = FreeRanges.from_pools(_ranges("10.0.0.2-10.0.0.9"), _ips("10.0.0.5"))
    assert free.size == 7
    assert free.release(ip_address(address)).size == size_after


def test_release_after_take_gives_back_one_range():
    free = FreeRanges.from_pools(_ranges("10.0.0.2-10.0.0.9"))
    again = free.take(ip_address("10.0.0.5")).release(ip_address("10.0.0.5"))
    assert again == free


def test_a_huge_pool_with_many_used_addresses_is_a_few_ranges():
    pool = _ranges("10.0.0.1-10.255.255.254")
    used = [ip_address(f"10.0.{i // 256}.{i % 256}") for i in range(1, 5001)]
    free = FreeRanges.from_pools(pool, used)
    assert free.first() == ip_address("10.0.19.137")
    assert len(free.free) == 1
    assert free.size == 2**24 - 2 - 5000


@pytest.mark.parametrize(
    ("start", "end", "words"),
    [
        ("10.0.0.9", "10.0.0.2", "after end"),
        ("10.0.0.2", "::9", "IP version"),
        ("10.0.0.300", "10.0.0.9", "not an IP address"),
    ],
)
def test_a_bad_range_is_refused(start, end, words):
    with pytest.raises(ValidationError, match=words):
        IpRange.parse(start, end)


def test_free_ranges_need_a_pool():
    with pytest.raises(ValidationError):
        FreeRanges.from_pools([])

"""Subnets: CIDRs, gateways, allocation pools, and fixed IPs chosen or requested."""

from __future__ import annotations

from ipaddress import ip_address, ip_network

import pytest

from vfnet.errors import Conflict, IpAddressExhausted, ValidationError
from vfnet.network.subnets import (
    SubnetRequest,
    allocate_ip,
    check_requested_ip,
    validate_subnet,
)


def _pools(subnet) -> list[str]:
    return [str(pool) for pool in subnet.allocation_pools]


@pytest.mark.parametrize(
    ("request_", "gateway", "pools"),
    [
        (SubnetRequest("n", "10.0.0.0/24"), "10.0.0.1", ["10.0.0.2-10.0.0.254"]),
        (SubnetRequest("n", "10.0.0.0/24", gateway_ip=None), None, ["10.0.0.1-10.0.0.254"]),
        (
            SubnetRequest("n", "10.0.0.0/24", gateway_ip="10.0.0.100"),
            "10.0.0.100",
            ["10.0.0.1-10.0.0.99", "10.0.0.101-10.0.0.254"],
        ),
        (SubnetRequest("n", "10.0.0.0/30"), "10.0.0.1", ["10.0.0.2-10.0.0.2"]),
        (SubnetRequest("n", "10.0.0.4/31"), "10.0.0.4", ["10.0.0.5-10.0.0.5"]),
        (SubnetRequest("n", "10.0.0.4/32"), None, ["10.0.0.4-10.0.0.4"]),
        (
            SubnetRequest("n", "2001:db8::/64", ip_version=6),
            "2001:db8::1",
            ["2001:db8::2-2001:db8::ffff:ffff:ffff:ffff"],
        ),
        (
            SubnetRequest(
                "n",
                "10.0.0.0/24",
                allocation_pools=[
                    {"start": "10.0.0.100", "end": "10.0.0.200"},
                    {"start": "10.0.0.10", "end": "10.0.0.20"},
                ],
            ),
            "10.0.0.1",
            ["10.0.0.10-10.0.0.20", "10.0.0.100-10.0.0.200"],
        ),
    ],
)
def test_a_valid_subnet_gets_its_gateway_and_pools(request_, gateway, pools):
    subnet = validate_subnet(request_)
    assert subnet.gateway_ip == (ip_address(gateway) if gateway else None)
    assert _pools(subnet) == pools


def _pool(start: str, end: str) -> dict[str, str]:
    return {"start": start, "end": end}


@pytest.mark.parametrize(
    ("request_", "field", "words"),
    [
        (SubnetRequest("n", "10.0.0.0/33"), "cidr", "not an IPv4 or IPv6 CIDR"),
        (SubnetRequest("n", "10.0.0.1/24"), "cidr", "did you mean 10.0.0.0/24"),
        (SubnetRequest("n", "10.0.0.0/24", ip_version=6), "ip_version", "does not match"),
        (SubnetRequest("n", "10.0.0.0/24", gateway_ip="10.0.1.1"), "gateway_ip", "outside"),
        (SubnetRequest("n", "10.0.0.0/24", gateway_ip="10.0.0.255"), "gateway_ip", "broadcast"),
        (SubnetRequest("n", "10.0.0.0/24", gateway_ip="nope"), "gateway_ip", "not an IP"),
        (
            SubnetRequest("n", "10.0.0.0/24", allocation_pools=[_pool("10.0.1.2", "10.0.1.9")]),
            "allocation_pools[0]",
            "not inside 10.0.0.0/24",
        ),
        (
            SubnetRequest("n", "10.0.0.0/24", allocation_pools=[_pool("10.0.0.200", "10.0.1.9")]),
            "allocation_pools[0]",
            "not inside",
        ),
        (
            SubnetRequest(
                "n",
                "10.0.0.0/24",
                allocation_pools=[_pool("10.0.0.2", "10.0.0.50"), _pool("10.0.0.40", "10.0.0.60")],
            ),
            "allocation_pools",
            "overlap",
        ),
        (
            SubnetRequest("n", "10.0.0.0/24", allocation_pools=[_pool("10.0.0.0", "10.0.0.9")]),
            "allocation_pools[0]",
            "the network address",
        ),
        (
            SubnetRequest("n", "10.0.0.0/24", allocation_pools=[_pool("10.0.0.9", "10.0.0.255")]),
            "allocation_pools[0]",
            "the broadcast address",
        ),
        (
            SubnetRequest("n", "10.0.0.0/24", allocation_pools=[_pool("10.0.0.1", "10.0.0.9")]),
            "allocation_pools[0]",
            "gateway 10.0.0.1",
        ),
        (
            SubnetRequest("n", "10.0.0.0/24", allocation_pools=[_pool("10.0.0.9", "10.0.0.2")]),
            "allocation_pools[0]",
            "after end",
        ),
        (
            SubnetRequest("n", "10.0.0.0/24", allocation_pools=[{"start": "10.0.0.9"}]),
            "allocation_pools[0]",
            "'start' and 'end'",
        ),
        (SubnetRequest("n", "10.0.0.0/24", allocation_pools=[]), "allocation_pools", "at least"),
    ],
)
def test_a_bad_subnet_is_refused_naming_the_field(request_, field, words):
    with pytest.raises(ValidationError) as error:
        validate_subnet(request_)
    assert error.value.field == field
    assert words in error.value.reason


def test_a_subnet_overlapping_another_of_its_network_is_a_conflict():
    with pytest.raises(Conflict, match=r"overlaps 10\.0\.0\.0/16"):
        validate_subnet(SubnetRequest("n", "10.0.5.0/24"), [ip_network("10.0.0.0/16")])


def test_subnets_of_the_other_ip_version_never_overlap():
    subnet = validate_subnet(SubnetRequest("n", "2001:db8::/64"), [ip_network("10.0.0.0/8")])
    assert subnet.ip_version == 6


def test_fixed_ips_come_lowest_first_until_the_subnet_is_full():
    subnet = validate_subnet(SubnetRequest("n", "10.0.0.0/29"))
    free = subnet.free_ranges(used=[ip_address("10.0.0.3")])
    handed = []
    for _ in range(4):
        address, free = allocate_ip(subnet, free)
        handed.append(str(address))
    assert handed == ["10.0.0.2", "10.0.0.4", "10.0.0.5", "10.0.0.6"]
    with pytest.raises(IpAddressExhausted, match="no free address left"):
        allocate_ip(subnet, free)


@pytest.mark.parametrize(
    ("text", "error", "words"),
    [
        ("10.0.0.50", None, None),
        ("10.0.0.1", ValidationError, "the gateway"),
        ("10.0.1.5", ValidationError, "outside subnet"),
        ("10.0.0.0", ValidationError, "the network address"),
        ("10.0.0.255", ValidationError, "the broadcast address"),
        ("10.0.0.7", Conflict, "already in use"),
        ("10.0.0.x", ValidationError, "not an IP address"),
    ],
)
def test_a_requested_fixed_ip_must_be_inside_the_subnet_and_free(text, error, words):
    subnet = validate_subnet(
        SubnetRequest("n", "10.0.0.0/24", allocation_pools=[_pool("10.0.0.100", "10.0.0.200")])
    )
    in_use = {ip_address("10.0.0.7")}
    if error is None:
        # Outside the pools but inside the subnet is allowed, as in Neutron.
        assert check_requested_ip(subnet, text, in_use) == ip_address(text)
    else:
        with pytest.raises(error, match=words):
            check_requested_ip(subnet, text, in_use)

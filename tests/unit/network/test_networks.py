"""Networks: provider segments, who may create them, unique segments, deletion with ports."""

from __future__ import annotations

import pytest

from vfnet.errors import Conflict, Forbidden, InUse, ValidationError
from vfnet.network.networks import (
    Network,
    NetworkType,
    Segment,
    check_network_deletable,
    check_provider_allowed,
    parse_segment,
    validate_network,
)


@pytest.mark.parametrize(
    ("network_type", "physnet", "segmentation_id", "expected"),
    [
        ("vlan", "physnet1", 100, Segment(NetworkType.VLAN, "physnet1", 100)),
        ("vlan", "physnet1", 1, Segment(NetworkType.VLAN, "physnet1", 1)),
        ("vlan", "physnet1", 4094, Segment(NetworkType.VLAN, "physnet1", 4094)),
        ("flat", "physnet1", None, Segment(NetworkType.FLAT, "physnet1", None)),
        ("vxlan", None, 5000, Segment(NetworkType.VXLAN, None, 5000)),
        ("geneve", None, None, Segment(NetworkType.GENEVE, None, None)),
        ("local", None, None, Segment(NetworkType.LOCAL, None, None)),
        # No host has it yet: accepted now, binding explains later.
        ("vlan", "physnet9", 7, Segment(NetworkType.VLAN, "physnet9", 7)),
    ],
)
def test_a_valid_provider_segment_parses(network_type, physnet, segmentation_id, expected):
    assert parse_segment(network_type, physnet, segmentation_id) == expected


@pytest.mark.parametrize(
    ("network_type", "physnet", "segmentation_id", "field", "words"),
    [
        ("vlan", "physnet1", 0, "provider:segmentation_id", "outside 1-4094"),
        ("vlan", "physnet1", 4095, "provider:segmentation_id", "outside 1-4094"),
        ("vlan", "physnet1", None, "provider:segmentation_id", "required"),
        ("vlan", "physnet1", "100", "provider:segmentation_id", "whole number"),
        ("vlan", "physnet1", True, "provider:segmentation_id", "whole number"),
        ("flat", "physnet1", 100, "provider:segmentation_id", "takes no segment id"),
        ("vlan", None, 100, "provider:physical_network", "required"),
        ("flat", " ", None, "provider:physical_network", "required"),
        ("vxlan", "physnet1", 5, "provider:physical_network", "not on a physical network"),
        ("vxlan", None, 2**24, "provider:segmentation_id", "outside"),
        ("bridge", "physnet1", None, "provider:network_type", "unknown type"),
        (None, None, None, "provider:network_type", "required"),
    ],
)
def test_a_bad_provider_segment_is_refused_naming_the_field(
    network_type, physnet, segmentation_id, field, words
):
    with pytest.raises(ValidationError) as error:
        parse_segment(network_type, physnet, segmentation_id)
    assert error.value.field == field
    assert words in error.value.reason


def _network(segment: Segment, name: str = "net") -> Network:
    return Network(name=name, project_id="p1", segment=segment)


@pytest.mark.parametrize(
    ("segment", "taken", "words"),
    [
        (Segment(NetworkType.VLAN, "physnet1", 100), {("physnet1", 100)}, "VLAN 100"),
        (Segment(NetworkType.FLAT, "physnet1"), {("physnet1", None)}, "already has a flat"),
        (Segment(NetworkType.VXLAN, None, 9), {(NetworkType.VXLAN, 9)}, "vxlan id 9"),
    ],
)
def test_a_segment_already_used_is_a_conflict(segment, taken, words):
    with pytest.raises(Conflict, match=words):
        validate_network(_network(segment), taken)


@pytest.mark.parametrize(
    ("segment", "taken"),
    [
        (Segment(NetworkType.VLAN, "physnet2", 100), {("physnet1", 100)}),
        (Segment(NetworkType.VLAN, "physnet1", 101), {("physnet1", 100)}),
        (Segment(NetworkType.FLAT, "physnet1"), {("physnet1", 100)}),
        (Segment(NetworkType.VLAN, "physnet1", 100), {("physnet1", None)}),
        (Segment(NetworkType.GENEVE), {(NetworkType.GENEVE, None)}),
    ],
)
def test_a_segment_free_on_its_physnet_is_accepted(segment, taken):
    network = _network(segment)
    assert validate_network(network, taken) is network


def test_a_network_without_a_name_is_refused():
    with pytest.raises(ValidationError) as error:
        validate_network(_network(Segment(NetworkType.FLAT, "physnet1"), name=" "), set())
    assert error.value.field == "name"


@pytest.mark.parametrize(
    ("role", "given", "allowed"),
    [
        ("admin", {"name", "provider:network_type", "provider:physical_network"}, True),
        ("member", {"name", "shared"}, True),
        ("member", {"name", "provider:physical_network"}, False),
        ("member", {"provider:segmentation_id"}, False),
        ("agent", {"provider:network_type"}, False),
    ],
)
def test_only_an_admin_may_set_provider_fields(role, given, allowed):
    if allowed:
        check_provider_allowed(role, given)
    else:
        with pytest.raises(Forbidden, match="only an admin"):
            check_provider_allowed(role, given)


@pytest.mark.parametrize(
    ("segment", "vlan"),
    [
        (Segment(NetworkType.VLAN, "physnet1", 100), 100),
        (Segment(NetworkType.FLAT, "physnet1"), 0),
        (Segment(NetworkType.VXLAN, None, 100), 0),
    ],
)
def test_the_vf_vlan_is_the_segment_id_of_vlan_networks_only(segment, vlan):
    assert segment.vlan == vlan


@pytest.mark.parametrize(("port_count", "deletable"), [(0, True), (1, False), (12, False)])
def test_deleting_a_network_that_still_has_ports_is_refused(port_count, deletable):
    if deletable:
        check_network_deletable("net-1", port_count)
    else:
        with pytest.raises(InUse, match=f"still has {port_count} port"):
            check_network_deletable("net-1", port_count)

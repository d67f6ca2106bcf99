"""Requests from ports and flavors: every vnic_type, alias strings good and bad, NUMA policies."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from vfnet.errors import ValidationError
from vfnet.inventory.requests import NumaPolicy
from vfnet.scheduler.requests import (
    instance_numa_policy,
    parse_alias_counts,
    request_for_port,
    requests_for_flavor,
)


@dataclass(frozen=True)
class Alias:
    name: str
    specs: tuple[dict[str, object], ...] = ({"vendor_id": "8086", "product_id": "154c"},)
    numa_policy: object = None
    device_type: object = "type-VF"


ALIASES = {
    "a": Alias("a"),
    "b": Alias("b", numa_policy="required"),
    "nic": Alias(
        "nic",
        specs=({"vendor_id": "8086", "product_id": "1572"}, {"vendor_id": "15b3"}),
        numa_policy=NumaPolicy.PREFERRED,
        device_type="type-PF",
    ),
    "any": Alias("any", specs=({"vendor_id": "8086", "live_migratable": True},), device_type=None),
}


@pytest.mark.parametrize(
    ("vnic_type", "expected_spec"),
    [
        ("direct", {"physical_network": "physnet1", "remote_managed": "False"}),
        ("macvtap", {"physical_network": "physnet1", "remote_managed": "False"}),
        (
            "direct-physical",
            {"physical_network": "physnet1", "remote_managed": "False", "dev_type": "type-PF"},
        ),
        ("vdpa", {"physical_network": "physnet1", "remote_managed": "False", "dev_type": "vdpa"}),
    ],
)
def test_an_sriov_port_asks_for_one_device_of_its_kind(vnic_type, expected_spec):
    request = request_for_port("port-1", vnic_type, "physnet1")
    assert request is not None
    assert request.specs == (expected_spec,)
    assert (request.count, request.requester_id, request.alias_name) == (1, "port-1", None)
    assert request.numa_policy is NumaPolicy.LEGACY


def test_a_normal_port_needs_no_pci_device():
    assert request_for_port("port-1", "normal", "physnet1") is None


@pytest.mark.parametrize("vnic_type", ["baremetal", "DIRECT", "", "virtio-forwarder "])
def test_an_unknown_vnic_type_is_refused_naming_the_field(vnic_type):
    with pytest.raises(ValidationError) as caught:
        request_for_port("port-1", vnic_type, "physnet1")
    assert caught.value.field == "binding:vnic_type"


def test_a_tunnelled_network_asks_for_an_untagged_vf():
    request = request_for_port("p", "direct", None)
    assert request is not None and request.specs[0]["physical_network"] is None


@pytest.mark.parametrize(
    ("trusted", "expected"),
    [(True, "True"), (False, "False"), ("yes", "True"), ("false", "False"), ("1", "True")],
)
def test_a_trusted_profile_adds_the_trusted_tag(trusted, expected):
    request = request_for_port("p", "direct", "physnet1", trusted=trusted)
    assert request is not None and request.specs[0]["trusted"] == expected


def test_a_trusted_value_that_is_not_a_boolean_is_refused():
    with pytest.raises(ValidationError, match="trusted"):
        request_for_port("p", "direct", "physnet1", trusted="maybe")


@pytest.mark.parametrize(
    ("vnic_type", "words"),
    [("remote-managed", "DPU"), ("virtio-forwarder", "vhost-user"), ("baremetal", "Ironic")],
)
def test_a_vnic_type_ports_refuse_is_refused_with_the_same_reason(vnic_type, words):
    with pytest.raises(ValidationError) as caught:
        request_for_port("p", vnic_type, "physnet1")
    assert caught.value.field == "binding:vnic_type"
    assert words in caught.value.reason


@pytest.mark.parametrize(
    ("port_policy", "instance_policy", "expected"),
    [
        (None, None, NumaPolicy.LEGACY),
        (None, NumaPolicy.SOCKET, NumaPolicy.SOCKET),
        ("required", NumaPolicy.SOCKET, NumaPolicy.REQUIRED),
        (NumaPolicy.PREFERRED, None, NumaPolicy.PREFERRED),
    ],
)
def test_a_port_policy_wins_over_the_instance_policy(port_policy, instance_policy, expected):
    request = request_for_port(
        "p", "direct", "n", numa_policy=port_policy, default_numa_policy=instance_policy
    )
    assert request is not None and request.numa_policy is expected


def test_a_port_policy_typo_is_refused_naming_the_port_field():
    with pytest.raises(ValidationError) as caught:
        request_for_port("p", "direct", "n", numa_policy="prefered")
    assert caught.value.field == "numa_affinity_policy"


def test_a_port_keeps_its_pf_anti_affinity_group():
    request = request_for_port("p", "direct", "n", pf_group="bond0")
    assert request is not None and request.pf_group == "bond0"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, []),
        ("", []),
        ("a:2", [("a", 2)]),
        ("a:2, b:1", [("a", 2), ("b", 1)]),
        (" a : 2 ,b:1 ", [("a", 2), ("b", 1)]),
        ("a:1,a:3", [("a", 1), ("a", 3)]),
    ],
)
def test_alias_counts_are_split_on_commas_and_colons(text, expected):
    assert parse_alias_counts(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("a:0", "must be >= 1"),
        ("a:-1", "must be >= 1"),
        ("a:two", "not a number"),
        ("a:1.5", "not a number"),
        ("a:", "not a number"),
        ("a", "not 'name:count'"),
        (":2", "not 'name:count'"),
        ("a:1,", "not 'name:count'"),
        ("a:1:2", "not 'name:count'"),
    ],
)
def test_a_bad_alias_string_is_refused_naming_the_extra_spec(text, reason):
    with pytest.raises(ValidationError, match=reason) as caught:
        parse_alias_counts(text)
    assert caught.value.field == "pci_passthrough:alias"


def test_a_flavor_asks_one_request_per_alias_in_order():
    requests = requests_for_flavor({"pci_passthrough:alias": "a:2, nic:1"}, ALIASES)
    assert [(r.alias_name, r.count) for r in requests] == [("a", 2), ("nic", 1)]
    assert requests[0].specs == (
        {"vendor_id": "8086", "product_id": "154c", "dev_type": "type-VF"},
    )
    assert requests[1].specs == (
        {"vendor_id": "8086", "product_id": "1572", "dev_type": "type-PF"},
        {"vendor_id": "15b3", "dev_type": "type-PF"},
    )
    assert len({r.request_id for r in requests}) == 2
    assert all(r.requester_id is None for r in requests)


def test_alias_spec_values_become_strings_as_pool_keys_are():
    (request,) = requests_for_flavor({"pci_passthrough:alias": "any:1"}, ALIASES)
    assert request.specs == ({"vendor_id": "8086", "live_migratable": "true"},)


def test_an_unknown_alias_is_refused_naming_it():
    with pytest.raises(ValidationError, match="alias 'gpu' is not defined") as caught:
        requests_for_flavor({"pci_passthrough:alias": "a:1, gpu:1"}, ALIASES)
    assert caught.value.field == "pci_passthrough:alias"


@pytest.mark.parametrize(
    ("extra_specs", "image", "expected"),
    [
        ({}, None, [NumaPolicy.LEGACY, NumaPolicy.REQUIRED, NumaPolicy.PREFERRED]),
        ({"hw:pci_numa_affinity_policy": "socket"}, None, [NumaPolicy.SOCKET] * 3),
        ({}, "preferred", [NumaPolicy.PREFERRED] * 3),
        ({"hw:pci_numa_affinity_policy": "required"}, "required", [NumaPolicy.REQUIRED] * 3),
        (
            {"hw:pci_numa_affinity_policy": ""},
            None,
            [NumaPolicy.LEGACY, NumaPolicy.REQUIRED, NumaPolicy.PREFERRED],
        ),
    ],
)
def test_the_flavor_or_image_policy_wins_over_the_alias_policy(extra_specs, image, expected):
    specs = {"pci_passthrough:alias": "a:1, b:1, nic:1", **extra_specs}
    requests = requests_for_flavor(specs, ALIASES, image_numa_policy=image)
    assert [r.numa_policy for r in requests] == expected


@pytest.mark.parametrize(
    ("extra_specs", "image", "field"),
    [
        ({"hw:pci_numa_affinity_policy": "prefered"}, None, "hw:pci_numa_affinity_policy"),
        ({"hw:pci_numa_affinity_policy": "Required"}, None, "hw:pci_numa_affinity_policy"),
        ({}, "sockets", "hw_pci_numa_affinity_policy"),
        ({"hw:pci_numa_affinity_policy": "socket"}, "required", "hw_pci_numa_affinity_policy"),
    ],
)
def test_a_policy_typo_or_conflict_is_refused_naming_the_field(extra_specs, image, field):
    with pytest.raises(ValidationError) as caught:
        requests_for_flavor(
            {"pci_passthrough:alias": "a:1", **extra_specs}, ALIASES, image_numa_policy=image
        )
    assert caught.value.field == field


def test_a_policy_typo_is_refused_even_without_aliases():
    with pytest.raises(ValidationError):
        instance_numa_policy({"hw:pci_numa_affinity_policy": "legasy"})


def test_an_alias_with_a_bad_policy_is_refused_naming_the_alias():
    with pytest.raises(ValidationError, match="alias 'x'"):
        requests_for_flavor({"pci_passthrough:alias": "x:1"}, {"x": Alias("x", numa_policy="no")})

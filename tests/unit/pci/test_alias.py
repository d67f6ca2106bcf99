"""Parsing [pci] alias entries: strict schema, repeated names, what a request needs."""

from __future__ import annotations

import pytest

from vfnet.errors import InvalidAlias
from vfnet.pci.alias import Alias, parse_aliases

GPU = {"name": "gpu", "vendor_id": "10de", "product_id": "1db4"}


def refusal(entries: list[str | dict[str, object]], **options: bool) -> InvalidAlias:
    with pytest.raises(InvalidAlias) as caught:
        parse_aliases(entries, **options)
    return caught.value


def test_an_alias_becomes_one_request_spec_in_novas_keys():
    aliases = parse_aliases(
        [
            '{"name": " nic ", "vendor_id": "8086", "product_id": "154C",'
            ' "device_type": "type-VF", "numa_policy": "preferred", "live_migratable": "yes",'
            ' "resource_class": "CUSTOM_NIC", "traits": "A,B"}'
        ]
    )
    assert aliases == {
        "nic": Alias(
            name="nic",
            specs=(
                {
                    "vendor_id": "8086",
                    "product_id": "154c",
                    "dev_type": "type-VF",
                    "live_migratable": "true",
                    "resource_class": "CUSTOM_NIC",
                    "traits": "A,B",
                },
            ),
            numa_policy="preferred",
            device_type="type-VF",
        )
    }


def test_an_alias_without_numa_policy_or_device_type_is_legacy_and_untyped():
    (alias,) = parse_aliases([GPU]).values()
    assert (alias.numa_policy, alias.device_type, dict(alias.specs[0])) == (
        "legacy",
        None,
        {"vendor_id": "10de", "product_id": "1db4"},
    )


@pytest.mark.parametrize("policy", ["required", "legacy", "preferred", "socket"])
def test_each_nova_numa_policy_is_accepted(policy):
    assert parse_aliases([{**GPU, "numa_policy": policy}])["gpu"].numa_policy == policy


@pytest.mark.parametrize("device_type", ["type-PCI", "type-PF", "type-VF"])
def test_each_pci_device_type_is_accepted_as_dev_type(device_type):
    alias = parse_aliases([{**GPU, "device_type": device_type}])["gpu"]
    assert alias.specs[0]["dev_type"] == alias.device_type == device_type


def test_capability_type_pci_is_kept_in_the_spec():
    alias = parse_aliases([{**GPU, "capability_type": "pci"}])["gpu"]
    assert alias.specs[0]["capability_type"] == "pci"


@pytest.mark.parametrize(
    ("change", "field", "reason_part"),
    [
        (
            {"numa_policy": "requried"},
            "numa_policy",
            "'requried' is not one of 'required', 'legacy'",
        ),
        ({"numa_policy": ""}, "numa_policy", "'' is not one of"),
        ({"device_type": "vdpa"}, "device_type", "'vdpa' is not one of 'type-PCI', 'type-PF'"),
        ({"device_type": "VF"}, "device_type", "is not one of"),
        ({"capability_type": "net"}, "capability_type", "'net' is not one of 'pci'"),
        ({"vendor_id": "*"}, "vendor_id", "not exactly 4 hex digits"),
        ({"vendor_id": "10de0"}, "vendor_id", "not exactly 4 hex digits"),
        ({"vendor_id": "0x10"}, "vendor_id", "not exactly 4 hex digits"),
        ({"product_id": "1db"}, "product_id", "not exactly 4 hex digits"),
        ({"product_id": "xyzw"}, "product_id", "not exactly 4 hex digits"),
        ({"product_id": 7604}, "product_id", "not exactly 4 hex digits"),
        ({"resource_class": 5}, "resource_class", "must be a string"),
        ({"traits": ["A"]}, "traits", "must be a string"),
        ({"live_migratable": "maybe"}, "live_migratable", "Unrecognized value 'maybe'"),
        ({"name": ""}, "name", "is required"),
        ({"name": "   "}, "name", "is required"),
        ({"name": "x" * 257}, "name", "is required"),
        ({"name": 7}, "name", "is required"),
        ({"dev_type": "type-VF"}, "dev_type", "unknown key(s) dev_type"),
        ({"physical_network": "net1"}, "physical_network", "unknown key(s) physical_network"),
    ],
)
def test_an_alias_outside_the_schema_is_refused_naming_the_field(change, field, reason_part):
    error = refusal([GPU, {**GPU, "name": "other", **change}])
    assert (error.entry, error.field) == ("alias[1]", field)
    assert reason_part in error.reason


def test_a_single_alias_given_bare_is_one_entry():
    assert list(parse_aliases(GPU)) == ["gpu"]  # type: ignore[arg-type]


def test_an_alias_without_a_name_is_refused():
    error = refusal([{"vendor_id": "10de", "product_id": "1db4"}])
    assert (error.entry, error.field) == ("alias[0]", "name")


@pytest.mark.parametrize("entry", ["{not json", "[]", '"gpu"', "42"])
def test_an_alias_entry_that_is_not_a_json_object_is_refused(entry):
    error = refusal([entry])
    assert (error.entry, error.field) == ("alias[0]", None)


def test_aliases_sharing_a_name_are_ored_in_order():
    other = {**GPU, "product_id": "1eb8"}
    (alias,) = parse_aliases([GPU, other]).values()
    assert [spec["product_id"] for spec in alias.specs] == ["1db4", "1eb8"]


@pytest.mark.parametrize(
    ("first", "second", "field"),
    [
        ({"numa_policy": "required"}, {"numa_policy": "preferred"}, "numa_policy"),
        ({}, {"numa_policy": "required"}, "numa_policy"),
        ({"device_type": "type-PF"}, {"device_type": "type-VF"}, "device_type"),
        ({"device_type": "type-VF"}, {}, "device_type"),
        ({}, {"device_type": "type-VF"}, "device_type"),
    ],
)
def test_aliases_sharing_a_name_must_agree_on_numa_policy_and_device_type(first, second, field):
    error = refusal([{**GPU, **first}, {**GPU, "product_id": "1eb8", **second}])
    assert (error.entry, error.field) == ("alias[1]", field)
    assert "mismatch for alias 'gpu'" in error.reason
    assert "alias[0]" in error.reason


def test_aliases_sharing_a_name_and_both_without_device_type_agree():
    aliases = parse_aliases([GPU, {**GPU, "product_id": "1eb8"}])
    assert aliases["gpu"].device_type is None
    assert len(aliases["gpu"].specs) == 2


def test_without_pci_in_placement_every_alias_needs_both_ids_and_all_offenders_are_named():
    error = refusal(
        [
            {"name": "b", "vendor_id": "10de"},
            GPU,
            {"name": "a", "product_id": "1db4"},
            {"name": "c", "resource_class": "CUSTOM_GPU"},
        ]
    )
    assert error.reason == (
        "The PCI alias(es) a,b,c does not have vendor_id and product_id fields set"
    )


@pytest.mark.parametrize(
    "entry",
    [
        {"name": "gpu", "resource_class": "CUSTOM_GPU"},
        {"name": "gpu", "vendor_id": "10de", "product_id": "1db4"},
    ],
)
def test_with_pci_in_placement_ids_or_a_resource_class_suffice(entry):
    assert "gpu" in parse_aliases([entry], pci_in_placement=True)


@pytest.mark.parametrize(
    ("entries", "reason_part"),
    [
        (
            [{"name": "gpu", "vendor_id": "10de"}],
            "needs vendor_id and product_id, or resource_class",
        ),
        ([{"name": "gpu", "traits": "A"}], "needs vendor_id and product_id, or resource_class"),
        ([GPU, {**GPU, "product_id": "1eb8"}], "may be defined only once"),
    ],
)
def test_with_pci_in_placement_an_alias_without_ids_or_resource_class_is_refused(
    entries, reason_part
):
    error = refusal(entries, pci_in_placement=True)
    assert error.entry == "alias 'gpu'"
    assert reason_part in error.reason


def test_alias_specs_cannot_be_changed_after_parsing():
    alias = parse_aliases([GPU])["gpu"]
    with pytest.raises(TypeError):
        alias.specs[0]["vendor_id"] = "8086"  # type: ignore[index]

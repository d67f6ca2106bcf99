"""Flavors: created once by name, read back whole, deleted."""

from __future__ import annotations

import pytest

from vfnet.errors import Conflict, NotFound, ValidationError


def test_a_created_flavor_reads_back_with_its_extra_specs(store):
    created = store.create_flavor(
        "m1.sriov",
        4,
        8192,
        2,
        {"pci_passthrough:alias": "nic:2", "hw:pci_numa_affinity_policy": "required"},
    )
    assert store.get_flavor("m1.sriov") == created
    assert created.extra_specs["pci_passthrough:alias"] == "nic:2"


def test_flavors_are_listed_by_name(store):
    store.create_flavor("b", 1, 512, 0, {})
    store.create_flavor("a", 1, 512, 0, {})
    assert [flavor.name for flavor in store.list_flavors()] == ["a", "b"]


def test_a_flavor_name_is_taken_once(store):
    store.create_flavor("m1", 1, 512, 0, {})
    with pytest.raises(Conflict):
        store.create_flavor("m1", 2, 1024, 0, {})


@pytest.mark.parametrize(
    ("vcpus", "ram_mb", "numa_cells", "field"),
    [
        (0, 512, 0, "vcpus"),
        (1, 0, 0, "ram_mb"),
        (1, 512, -1, "numa_cells"),
        (True, 512, 0, "vcpus"),
    ],
)
def test_a_flavor_with_a_bad_size_is_refused(store, vcpus, ram_mb, numa_cells, field):
    with pytest.raises(ValidationError) as refused:
        store.create_flavor("bad", vcpus, ram_mb, numa_cells, {})
    assert refused.value.field == field


def test_a_deleted_flavor_is_gone(store):
    store.create_flavor("m1", 1, 512, 0, {})
    store.delete_flavor("m1")
    with pytest.raises(NotFound):
        store.get_flavor("m1")
    with pytest.raises(NotFound):
        store.delete_flavor("m1")

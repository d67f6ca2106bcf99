"""Hosts: registration is idempotent and keeps what the host declares."""

from __future__ import annotations

import pytest

from vfnet.errors import NotFound, ValidationError


def test_registering_a_host_records_what_it_declares(store):
    host = store.register_host(
        "compute-1",
        numa_sockets={0: 0, 1: 1},
        physnets=["physnet2", "physnet1"],
        bridges={"public": "br-public"},
    )
    assert host.numa_sockets == {0: 0, 1: 1}
    assert host.physnets == ("physnet1", "physnet2")
    assert host.bridges == {"public": "br-public"}
    assert (host.generation, host.report_generation) == (0, -1)
    assert store.get_host("compute-1") == host


def test_registering_again_is_idempotent_and_updates_the_declaration(store):
    first = store.register_host("compute-1", physnets=["physnet1"])
    again = store.register_host("compute-1", physnets=["physnet1"])
    changed = store.register_host("compute-1", physnets=["physnet3"])
    assert again == first
    assert changed.physnets == ("physnet3",)
    assert changed.created_at == first.created_at
    assert [host.name for host in store.list_hosts()] == ["compute-1"]


def test_hosts_are_listed_by_name(store):
    for name in ("compute-3", "compute-1", "compute-2"):
        store.register_host(name)
    assert [host.name for host in store.list_hosts()] == ["compute-1", "compute-2", "compute-3"]


def test_an_unknown_host_is_not_found(store):
    with pytest.raises(NotFound):
        store.get_host("nowhere")


def test_a_host_needs_a_name(store):
    with pytest.raises(ValidationError):
        store.register_host("")

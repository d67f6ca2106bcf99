"""Writes that break a NOT NULL column fail as the fault they are, not as a lost race."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.functional.store.networking import port, subnet, vlan_network
from vfnet.errors import Conflict
from vfnet.store import Store


def test_a_port_without_a_name_is_a_fault_not_a_conflict(store: Store) -> None:
    network = vlan_network(store)
    subnet(store, network.id)
    with pytest.raises(sa.exc.IntegrityError, match="name"):
        port(store, network.id, name=None)
    assert store.list_ports() == []


def test_a_network_renamed_to_nothing_is_a_fault_not_a_conflict(store: Store) -> None:
    network = vlan_network(store)
    with pytest.raises(sa.exc.IntegrityError, match="name"):
        store.update_network(network.id, name=None)
    assert store.get_network(network.id).name == network.name


def test_a_mac_taken_meanwhile_is_still_a_conflict_naming_the_mac(store: Store) -> None:
    network = vlan_network(store)
    taken = port(store, network.id).mac_address
    with pytest.raises(Conflict, match=f"mac_address: {taken} is already used"):
        port(store, network.id, mac_address=taken)

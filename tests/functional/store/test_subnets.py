"""Subnets persisted: checked against their network's other CIDRs, pools seeded, gateway kept."""

from __future__ import annotations

import threading

import pytest

from tests.functional.store.networking import addresses, port, subnet, vlan_network
from vfnet.errors import Conflict, InUse, NotFound, ValidationError
from vfnet.store import Store
from vfnet.store.records import FixedIpRequest


def test_a_subnet_gets_the_first_host_as_gateway_and_the_rest_as_its_pool(store):
    network = vlan_network(store)
    made = subnet(store, network.id, "192.0.2.0/24")
    assert (made.cidr, made.ip_version, made.gateway_ip) == ("192.0.2.0/24", 4, "192.0.2.1")
    assert made.allocation_pools == (("192.0.2.2", "192.0.2.254"),)
    assert store.get_network(network.id).subnet_ids == (made.id,)
    assert store.get_subnet(made.id) == made


def test_an_ipv6_subnet_reads_back_as_given(store):
    network = vlan_network(store)
    made = subnet(store, network.id, "2001:db8::/64")
    assert (made.ip_version, made.gateway_ip) == (6, "2001:db8::1")
    assert made.allocation_pools == (("2001:db8::2", "2001:db8::ffff:ffff:ffff:ffff"),)


def test_a_subnet_overlapping_another_of_its_network_is_refused(store):
    network = vlan_network(store)
    subnet(store, network.id, "10.0.0.0/24")
    with pytest.raises(Conflict, match=r"cidr: 10.0.0.128/25 overlaps 10.0.0.0/24"):
        subnet(store, network.id, "10.0.0.128/25")


def test_the_same_cidr_on_another_network_is_fine(store):
    subnet(store, vlan_network(store, 100).id, "10.0.0.0/24")
    assert subnet(store, vlan_network(store, 101).id, "10.0.0.0/24").cidr == "10.0.0.0/24"


def test_a_subnet_on_a_missing_network_is_not_found(store):
    with pytest.raises(NotFound, match="network 'nope'"):
        subnet(store, "nope")


def test_pools_outside_the_cidr_are_refused(store):
    network = vlan_network(store)
    with pytest.raises(ValidationError, match=r"allocation_pools\[0\]"):
        subnet(store, network.id, pools=[{"start": "10.0.1.2", "end": "10.0.1.9"}])
    assert store.list_subnets() == []


def test_subnets_list_by_network(store):
    first, second = vlan_network(store, 100), vlan_network(store, 101)
    a = subnet(store, first.id, "10.0.0.0/24")
    b = subnet(store, second.id, "10.0.1.0/24")
    assert store.list_subnets(network_id=first.id) == [a]
    assert store.list_subnets() == [a, b]


def test_the_gateway_can_move_to_an_address_outside_the_pools(store):
    network = vlan_network(store)
    made = subnet(store, network.id, pools=[{"start": "10.0.0.10", "end": "10.0.0.20"}])
    assert store.update_subnet(made.id, gateway_ip="10.0.0.254", name="lan").gateway_ip == (
        "10.0.0.254"
    )
    assert store.update_subnet(made.id, gateway_ip=None).gateway_ip is None


def test_the_gateway_cannot_move_into_a_pool(store):
    network = vlan_network(store)
    made = subnet(store, network.id, pools=[{"start": "10.0.0.10", "end": "10.0.0.20"}])
    with pytest.raises(ValidationError, match=r"contains the gateway 10\.0\.0\.15"):
        store.update_subnet(made.id, gateway_ip="10.0.0.15")


def test_the_gateway_cannot_move_onto_a_port(store):
    network = vlan_network(store)
    made = subnet(store, network.id, pools=[{"start": "10.0.0.10", "end": "10.0.0.20"}])
    held = port(store, network.id, fixed_ips=[FixedIpRequest(made.id, "10.0.0.200")])
    with pytest.raises(Conflict, match=f"gateway_ip: 10.0.0.200 is held by port {held.id}"):
        store.update_subnet(made.id, gateway_ip="10.0.0.200")


def test_the_cidr_cannot_be_updated(store):
    made = subnet(store, vlan_network(store).id)
    with pytest.raises(ValidationError, match="cidr"):
        store.update_subnet(made.id, cidr="10.9.0.0/24")


def test_a_subnet_with_addresses_in_use_cannot_be_deleted(store):
    network = vlan_network(store)
    made = subnet(store, network.id)
    held = port(store, network.id)
    with pytest.raises(InUse, match="1 address is still held by ports"):
        store.delete_subnet(made.id)
    store.delete_port(held.id)
    store.delete_subnet(made.id)
    assert store.get_network(network.id).subnet_ids == ()


def test_a_new_subnet_serves_ports_after_the_old_one_is_deleted(store):
    network = vlan_network(store)
    store.delete_subnet(subnet(store, network.id, "10.0.0.0/24").id)
    subnet(store, network.id, "10.0.9.0/24")
    assert addresses(port(store, network.id)) == ["10.0.9.2"]


def test_two_servers_adding_one_cidr_to_a_network_at_once_leave_one_subnet(store, database_url):
    network = vlan_network(store)
    second = Store.open(database_url)
    outcomes: list[str] = []

    def add(target: Store) -> None:
        try:
            subnet(target, network.id, "10.0.0.0/24")
            outcomes.append("created")
        except Conflict as error:
            outcomes.append(str(error))

    try:
        threads = [
            threading.Thread(target=add, args=(store if n % 2 else second,)) for n in range(6)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        second.close()
    assert outcomes.count("created") == 1
    assert len(store.list_subnets(network_id=network.id)) == 1

"""Networks persisted: one segment per network, visibility by project, deletion only when empty."""

from __future__ import annotations

import threading

import pytest

from tests.functional.store.networking import PROJECT, port, subnet, vlan_network
from vfnet.errors import Conflict, InUse, NotFound, ValidationError
from vfnet.network.networks import Network, NetworkType, Segment
from vfnet.network.qos import QosPolicy
from vfnet.store import Store


def test_a_created_network_reads_back_with_its_segment(store):
    created = vlan_network(store, 100, name="tenant-a")
    fetched = store.get_network(created.id)
    assert fetched == created
    assert (fetched.network_type, fetched.physical_network, fetched.segmentation_id) == (
        "vlan",
        "physnet1",
        100,
    )
    assert fetched.to_network().segment.vlan == 100
    assert fetched.subnet_ids == ()


def test_a_vlan_taken_on_a_physnet_is_refused_naming_the_segment(store):
    vlan_network(store, 100)
    with pytest.raises(Conflict, match=r"provider:segmentation_id: VLAN 100 on physical network"):
        vlan_network(store, 100, name="again")


def test_the_same_vlan_on_another_physnet_is_free(store):
    vlan_network(store, 100, physnet="physnet1")
    other = vlan_network(store, 100, physnet="physnet2")
    assert other.physical_network == "physnet2"


def test_one_flat_network_per_physnet(store):
    flat = Segment(NetworkType.FLAT, "physnet1")
    store.create_network(Network("flat-1", PROJECT, flat))
    with pytest.raises(Conflict, match="already has a flat network"):
        store.create_network(Network("flat-2", PROJECT, flat))


def test_overlay_networks_without_an_id_reserve_nothing(store):
    local = Segment(NetworkType.LOCAL)
    store.create_network(Network("local-1", PROJECT, local))
    store.create_network(Network("local-2", PROJECT, local))
    assert len(store.list_networks()) == 2


def test_two_servers_racing_for_one_vlan_leave_exactly_one_network(store, database_url):
    second = Store.open(database_url)
    outcomes: list[str] = []

    def create(target: Store, name: str) -> None:
        try:
            vlan_network(target, 300, name=name)
            outcomes.append("created")
        except Conflict as error:
            outcomes.append(str(error))

    try:
        threads = [
            threading.Thread(target=create, args=(store if n % 2 else second, f"n{n}"))
            for n in range(6)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        second.close()
    assert outcomes.count("created") == 1
    assert len(store.list_networks()) == 1
    assert all("VLAN 300" in outcome for outcome in outcomes if outcome != "created")


def test_a_member_sees_its_own_project_and_shared_networks(store):
    own = vlan_network(store, 101)
    shared = store.create_network(
        Network("shared", "project-b", Segment(NetworkType.VLAN, "physnet1", 102), shared=True)
    )
    store.create_network(Network("other", "project-b", Segment(NetworkType.VLAN, "physnet1", 103)))
    seen = {network.id for network in store.list_networks(project_id=PROJECT)}
    assert seen == {own.id, shared.id}
    assert len(store.list_networks()) == 3


def test_an_update_changes_only_what_it_names(store):
    created = vlan_network(store, 100)
    updated = store.update_network(created.id, name="renamed", shared=True, admin_state_up=False)
    assert (updated.name, updated.shared, updated.admin_state_up) == ("renamed", True, False)
    assert updated.segmentation_id == 100


def test_the_segment_cannot_be_updated(store):
    created = vlan_network(store, 100)
    with pytest.raises(ValidationError, match="segmentation_id"):
        store.update_network(created.id, segmentation_id=101)


def test_a_network_takes_a_qos_policy_that_exists(store):
    policy = store.create_qos_policy(QosPolicy(""), name="gold", project_id=PROJECT)
    created = vlan_network(store, 100)
    assert store.update_network(created.id, qos_policy_id=policy.id).qos_policy_id == policy.id
    with pytest.raises(NotFound, match="qos_policy"):
        store.update_network(created.id, qos_policy_id="no-such-policy")


def test_an_unknown_network_is_not_found(store):
    with pytest.raises(NotFound, match="network 'nope'"):
        store.get_network("nope")
    with pytest.raises(NotFound):
        store.delete_network("nope")


def test_deleting_a_network_with_ports_is_refused_with_the_count(store):
    network = vlan_network(store, 100)
    subnet(store, network.id)
    port(store, network.id)
    port(store, network.id)
    with pytest.raises(InUse, match="still has 2 ports"):
        store.delete_network(network.id)
    assert store.get_network(network.id).id == network.id


def test_deleting_an_empty_network_takes_its_subnets_and_frees_its_vlan(store):
    network = vlan_network(store, 100)
    made = subnet(store, network.id)
    store.delete_network(network.id)
    with pytest.raises(NotFound):
        store.get_subnet(made.id)
    assert store.list_subnets() == []
    assert vlan_network(store, 100).segmentation_id == 100

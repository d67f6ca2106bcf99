"""QoS policies persisted: rules validated, visibility by project, deletion refused while used."""

from __future__ import annotations

import pytest

from tests.functional.store.networking import PROJECT, port, vlan_network
from vfnet.errors import InUse, NotFound, ValidationError
from vfnet.network.qos import BANDWIDTH_LIMIT, MINIMUM_BANDWIDTH, QosPolicy, QosRule, vf_rates

LIMIT = QosRule(BANDWIDTH_LIMIT, 10_000)
FLOOR = QosRule(MINIMUM_BANDWIDTH, 1_000)


def policy(store, *rules, name="gold", project_id=PROJECT, shared=False):
    return store.create_qos_policy(
        QosPolicy("", rules), name=name, project_id=project_id, shared=shared
    )


def test_a_policy_reads_back_with_its_rules_and_gives_vf_rates(store):
    created = policy(store, LIMIT, FLOOR)
    fetched = store.get_qos_policy(created.id)
    assert fetched == created
    assert fetched.rules == (LIMIT, FLOOR)
    assert vf_rates(fetched.to_policy()).max_tx_rate == 10


def test_a_minimum_above_the_limit_is_refused(store):
    with pytest.raises(ValidationError, match="min_kbps"):
        policy(store, QosRule(BANDWIDTH_LIMIT, 1_000), QosRule(MINIMUM_BANDWIDTH, 5_000))
    assert store.list_qos_policies() == []


def test_two_rules_of_one_type_are_refused(store):
    with pytest.raises(ValidationError, match="already has a bandwidth_limit rule"):
        policy(store, LIMIT, QosRule(BANDWIDTH_LIMIT, 20_000))


def test_an_update_replaces_the_rules_and_keeps_what_it_does_not_name(store):
    created = policy(store, LIMIT)
    updated = store.update_qos_policy(created.id, rules=[FLOOR], shared=True)
    assert (updated.name, updated.shared, updated.rules) == ("gold", True, (FLOOR,))
    assert store.update_qos_policy(created.id, name="silver").rules == (FLOOR,)


def test_an_update_with_bad_rules_changes_nothing(store):
    created = policy(store, LIMIT)
    with pytest.raises(ValidationError):
        store.update_qos_policy(created.id, rules=[QosRule(MINIMUM_BANDWIDTH, 50_000), LIMIT])
    assert store.get_qos_policy(created.id).rules == (LIMIT,)


def test_a_project_sees_its_own_and_shared_policies(store):
    own = policy(store, name="own")
    shared = policy(store, name="shared", project_id="project-b", shared=True)
    policy(store, name="private", project_id="project-b")
    assert [p.id for p in store.list_qos_policies(project_id=PROJECT)] == [own.id, shared.id]
    assert len(store.list_qos_policies()) == 3


def test_a_policy_used_by_a_network_cannot_be_deleted(store):
    created = policy(store, LIMIT)
    network = vlan_network(store, qos_policy_id=created.id)
    with pytest.raises(InUse, match="used by 1 network"):
        store.delete_qos_policy(created.id)
    store.update_network(network.id, qos_policy_id=None)
    store.delete_qos_policy(created.id)
    with pytest.raises(NotFound, match="qos_policy"):
        store.get_qos_policy(created.id)


def test_a_policy_used_by_ports_cannot_be_deleted(store):
    created = policy(store, LIMIT)
    network = vlan_network(store)
    port(store, network.id, qos_policy_id=created.id)
    port(store, network.id, qos_policy_id=created.id)
    with pytest.raises(InUse, match="used by 2 ports"):
        store.delete_qos_policy(created.id)


def test_a_network_naming_a_missing_policy_is_not_found(store):
    with pytest.raises(NotFound, match="qos_policy 'gold'"):
        vlan_network(store, qos_policy_id="gold")


def test_a_missing_policy_cannot_be_updated_or_deleted(store):
    with pytest.raises(NotFound):
        store.update_qos_policy("nope", name="x")
    with pytest.raises(NotFound):
        store.delete_qos_policy("nope")

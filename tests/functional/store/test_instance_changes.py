"""Instances changed after they are made: ports taken and given back, states changed only
from the states allowed, one device released out of a claim, each as one transaction."""

from __future__ import annotations

import threading

import pytest

from tests.functional.store.networking import port, vlan_network
from tests.functional.store.synthetic import host_report
from vfnet.errors import Conflict, NotFound
from vfnet.inventory.requests import PciRequest
from vfnet.store import Store
from vfnet.store.instances import ACTIVE, BUILD, SUSPENDED, InstanceRecord

HOST = "compute-1"


def vf_request(request_id: str) -> PciRequest:
    return PciRequest(1, ({"dev_type": "type-VF"},), request_id=request_id)


def instance(store: Store, port_ids: list[str]) -> InstanceRecord:
    made = store.create_instance(
        name="web", project_id="project-a", kind="container", flavor=None, port_ids=port_ids
    )
    return store.update_instance(made.id, host=HOST, state=ACTIVE, claim_owner="owner-1")


@pytest.fixture
def ports(store: Store) -> list[str]:
    store.register_host(HOST)
    network = vlan_network(store)
    return [port(store, network.id, seed=seed).id for seed in range(4)]


def test_two_ports_attached_at_once_are_both_kept_in_order_of_arrival(
    store: Store, ports: list[str]
) -> None:
    made = instance(store, ports[:1])
    errors: list[BaseException] = []

    def attach(port_id: str) -> None:
        try:
            store.attach_instance_port(made.id, port_id, made=False, allowed=frozenset({ACTIVE}))
        except BaseException as error:  # surfaced by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=attach, args=(p,)) for p in ports[1:]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    after = store.get_instance(made.id)
    assert after.port_ids[0] == ports[0] and sorted(after.port_ids) == sorted(ports)
    assert {store.get_port(p).device_id for p in ports} == {made.id}


def test_a_port_another_instance_holds_is_refused_naming_both(
    store: Store, ports: list[str]
) -> None:
    first = instance(store, ports[:1])
    second = instance(store, ports[1:2])
    with pytest.raises(Conflict, match=f"port {ports[0]} is already bound to instance {first.id}"):
        store.attach_instance_port(second.id, ports[0], made=False, allowed=frozenset({ACTIVE}))
    assert store.get_instance(second.id).port_ids == (ports[1],)


def test_a_port_is_attached_only_in_an_allowed_state_and_the_refusal_names_it(
    store: Store, ports: list[str]
) -> None:
    made = instance(store, ports[:1])
    store.update_instance(made.id, state=SUSPENDED)
    with pytest.raises(Conflict, match="is SUSPENDED: cannot attach a port to it"):
        store.attach_instance_port(made.id, ports[1], made=False, allowed=frozenset({ACTIVE}))
    assert store.get_port(ports[1]).device_id == ""


def test_a_detached_port_is_given_back_and_a_made_one_forgotten(
    store: Store, ports: list[str]
) -> None:
    made = instance(store, ports[:1])
    store.attach_instance_port(made.id, ports[1], made=True, allowed=frozenset({ACTIVE}))
    after = store.detach_instance_port(made.id, ports[1])
    assert (after.port_ids, after.made_port_ids) == ((ports[0],), ())
    assert store.get_port(ports[1]).device_id == ""
    with pytest.raises(Conflict, match=f"port {ports[1]} is not attached to instance {made.id}"):
        store.detach_instance_port(made.id, ports[1])


def test_a_state_change_from_a_state_not_allowed_is_refused_naming_the_state(
    store: Store, ports: list[str]
) -> None:
    made = instance(store, ports[:1])
    store.transition_instance(made.id, frozenset({ACTIVE}), "suspend", state=SUSPENDED)
    with pytest.raises(Conflict, match="is SUSPENDED: cannot suspend it"):
        store.transition_instance(made.id, frozenset({ACTIVE}), "suspend", state=SUSPENDED)
    with pytest.raises(NotFound):
        store.transition_instance("nope", frozenset({ACTIVE}), "suspend", state=SUSPENDED)


def test_suspending_moves_the_host_s_desired_state_and_a_build_going_active_does_not(
    store: Store, ports: list[str]
) -> None:
    made = store.create_instance(
        name="web", project_id=None, kind="vm", flavor=None, port_ids=ports[:1]
    )
    store.update_instance(made.id, host=HOST, state=BUILD)
    placed = store.desired_generation(HOST)
    store.update_instance(made.id, state=ACTIVE)
    assert store.desired_generation(HOST) == placed
    store.update_instance(made.id, state=SUSPENDED)
    assert store.desired_generation(HOST) == placed + 1
    store.update_instance(made.id, migration={"source": HOST, "phase": "unplugging"})
    assert store.desired_generation(HOST) == placed + 2
    assert store.get_instance(made.id).migration == {"source": HOST, "phase": "unplugging"}


@pytest.mark.parametrize("verified", [False, True])
def test_releasing_one_device_of_a_claim_keeps_the_others(store: Store, verified: bool) -> None:
    store.register_host(HOST, manages_vfs=verified)
    store.report_inventory(HOST, 1, host_report(1, 3))
    claim = store.claim(HOST, "owner-1", [vf_request("a"), vf_request("b")])
    gone = next(d.address for d in claim.devices if d.request_id == "a")
    store.release_device(HOST, "owner-1", gone)
    (left,) = store.claims_of("owner-1")
    assert [d.request_id for d in left.devices] == ["b"]
    assert store.get_device(HOST, gone).state == ("releasing" if verified else "available")
    with pytest.raises(NotFound):
        store.release_device(HOST, "owner-1", gone)
    store.release("owner-1")
    assert store.claims_of("owner-1") == []

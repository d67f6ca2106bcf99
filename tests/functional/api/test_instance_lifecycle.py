"""An instance's life after it is built, over HTTP: ports attached and detached hot,
suspend and resume; each refusal names what is wrong and leaves every device as it was."""

from __future__ import annotations

from typing import Any

from tests.functional.api.conftest import Api
from tests.functional.api.networking import error_of, network, subnet
from tests.functional.api.standin_agent import StandInAgent
from tests.functional.api.test_instances import create, direct_ports, fleet, free_vfs, shown

__all__ = ["fleet"]  # the fixture, shared with the instance tests


def call(api: Api, method: str, path: str, caller: str | None, **kwargs: Any) -> Any:
    """The test client's response (typed loosely: only what the tests read)."""
    return api.call(method, path, caller, **kwargs)


def attach(api: Api, instance_id: str, status: int = 200, **body: Any) -> dict[str, Any]:
    response = call(api, "POST", f"/v1/instances/{instance_id}/ports", "member", json=body)
    assert response.status_code == status, response.text
    return dict(response.json())


def detach(api: Api, instance_id: str, port_id: str, status: int = 204) -> Any:
    response = call(api, "DELETE", f"/v1/instances/{instance_id}/ports/{port_id}", "member")
    assert response.status_code == status, response.text
    return response


def act(api: Api, instance_id: str, verb: str, status: int = 200) -> dict[str, Any]:
    response = call(api, "POST", f"/v1/instances/{instance_id}/{verb}", "member")
    assert response.status_code == status, response.text
    return dict(response.json())


def claimed_for(api: Api, instance_id: str) -> list[str]:
    return sorted(d["request_id"] for d in shown(api, f"/v1/instances/{instance_id}")["devices"])


def test_a_port_attached_hot_gets_a_vf_on_the_instance_s_host_as_the_next_interface(
    fleet: Api,
) -> None:
    first, second = direct_ports(fleet, 2)
    made = create(fleet, kind="container", ports=[first])
    after = attach(fleet, made["id"], port_id=second)
    assert [(p["id"], p["ifname"]) for p in after["ports"]] == [(first, "eth0"), (second, "eth1")]
    assert claimed_for(fleet, made["id"]) == sorted([first, second])
    bound = shown(fleet, f"/v1/ports/{second}")
    assert (bound["binding:host_id"], bound["device_id"]) == ("compute-1", made["id"])
    assert bound["binding:profile"]["pci_slot"] == after["ports"][1]["pci_slot"]
    document = shown(fleet, "/v1/hosts/compute-1/desired", "agent")
    (entry,) = (e for e in document["devices"].values() if e["port_id"] == second)
    where = {key: entry["attach"][key] for key in ("kind", "name", "ifname")}
    assert where == {"kind": "netns", "name": f"vfnet-c-{made['id']}", "ifname": "eth1"}
    assert free_vfs(fleet) == 2


def test_attaching_a_network_makes_a_normal_port_that_detaching_deletes(fleet: Api) -> None:
    fleet.store.register_host("compute-1", physnets=["physnet1"], bridges={"physnet1": "br1"})
    made = create(fleet, kind="container", ports=direct_ports(fleet, 1))
    net = network(fleet, "lan", vlan=300)
    subnet(fleet, net, cidr="198.51.100.0/24")
    after = attach(fleet, made["id"], network_id=net)
    normal = after["ports"][1]
    assert (normal["vnic_type"], normal["network_id"], normal["ifname"]) == ("normal", net, "eth1")
    detach(fleet, made["id"], normal["id"])
    assert call(fleet, "GET", f"/v1/ports/{normal['id']}", "admin").status_code == 404
    assert [p["id"] for p in shown(fleet, f"/v1/instances/{made['id']}")["ports"]] == [
        made["ports"][0]["id"]
    ]


def test_a_normal_port_on_a_host_without_its_bridge_is_refused_and_not_kept(fleet: Api) -> None:
    made = create(fleet, kind="container", ports=direct_ports(fleet, 1))
    net = network(fleet, "lan", vlan=300)
    subnet(fleet, net, cidr="198.51.100.0/24")
    response = call(fleet, "POST", f"/v1/instances/{made['id']}/ports", "member",
                          json={"network_id": net})  # fmt: skip
    error = error_of(response, 409)
    assert (
        error["code"] == "no_valid_host"
        and "no bridge for physical network physnet1" in (error["message"])
    )
    assert shown(fleet, "/v1/ports?network_id=" + net, "admin")["ports"] == []
    assert len(shown(fleet, f"/v1/instances/{made['id']}")["ports"]) == 1


def test_a_port_attached_when_the_host_has_no_free_vf_is_refused_holding_nothing(
    fleet: Api,
) -> None:
    ports = direct_ports(fleet, 5)
    made = create(fleet, kind="container", ports=ports[:4])
    error = error_of(
        call(fleet, "POST", f"/v1/instances/{made['id']}/ports", "member",
                   json={"port_id": ports[4]}), 409)  # fmt: skip
    assert error["code"] == "no_valid_host"
    assert "compute-1" in error["message"] and ports[4] in error["message"]
    left = shown(fleet, f"/v1/ports/{ports[4]}")
    assert (left["binding:host_id"], left["device_id"]) == (None, "")
    assert claimed_for(fleet, made["id"]) == sorted(ports[:4])
    assert free_vfs(fleet) == 0


def test_a_port_of_another_instance_cannot_be_attached_and_is_named(fleet: Api) -> None:
    first, second = direct_ports(fleet, 2)
    web = create(fleet, kind="container", ports=[first])
    db = create(fleet, kind="container", ports=[second])
    error = error_of(
        call(fleet, "POST", f"/v1/instances/{db['id']}/ports", "member",
                   json={"port_id": first}), 409)  # fmt: skip
    assert first in error["message"] and web["id"] in error["message"]
    assert claimed_for(fleet, db["id"]) == [second]
    assert free_vfs(fleet) == 2


def test_an_attach_body_needs_exactly_one_of_port_and_network(fleet: Api) -> None:
    made = create(fleet, kind="container", ports=direct_ports(fleet, 1))
    for body in ({}, {"port_id": "a", "network_id": "b"}, {"port": "a"}):
        response = call(fleet, "POST", f"/v1/instances/{made['id']}/ports", "member", json=body)
        assert response.status_code == 400, body


def test_detaching_a_port_frees_its_vf_alone_and_gives_the_port_back(fleet: Api) -> None:
    ports = direct_ports(fleet, 3)
    made = create(fleet, kind="container", ports=ports)
    detach(fleet, made["id"], ports[0])
    after = shown(fleet, f"/v1/instances/{made['id']}")
    assert [(p["id"], p["ifname"]) for p in after["ports"]] == [
        (ports[1], "eth0"),
        (ports[2], "eth1"),
    ]
    assert claimed_for(fleet, made["id"]) == sorted(ports[1:])
    left = shown(fleet, f"/v1/ports/{ports[0]}")
    assert (left["binding:host_id"], left["device_id"], left["status"]) == (None, "", "DOWN")
    assert free_vfs(fleet) == 2
    again = create(fleet, kind="vm", ports=[ports[0]])
    assert again["state"] == "BUILD"


def test_detaching_a_port_the_instance_does_not_have_is_refused_naming_it(fleet: Api) -> None:
    mine, other = direct_ports(fleet, 2)
    made = create(fleet, kind="container", ports=[mine])
    error = error_of(detach(fleet, made["id"], other, status=409), 409)
    assert other in error["message"] and made["id"] in error["message"]
    missing = error_of(detach(fleet, made["id"], "no-such-port", status=404), 404)
    assert "no-such-port" in missing["message"]
    assert claimed_for(fleet, made["id"]) == [mine]


def test_on_a_host_that_verifies_resets_a_detached_vf_is_free_once_its_reset_is_reported(
    fleet: Api,
) -> None:
    fleet.store.register_host("compute-1", physnets=["physnet1"], manages_vfs=True)
    ports = direct_ports(fleet, 2)
    made = create(fleet, kind="container", ports=ports)
    slot = made["ports"][0]["pci_slot"]
    with StandInAgent(fleet, "compute-1", "agent") as agent:
        agent.caught_up()
    detach(fleet, made["id"], ports[0])  # no agent answering: the VF waits for its reset
    document = shown(fleet, "/v1/hosts/compute-1/desired", "agent")
    assert slot in document["released"]
    assert free_vfs(fleet) == 2
    with StandInAgent(fleet, "compute-1", "agent") as agent:
        agent.caught_up()
        assert free_vfs(fleet) == 3
    assert shown(fleet, f"/v1/instances/{made['id']}")["state"] == "ACTIVE"


def test_suspend_and_resume_keep_the_devices_and_refuse_the_wrong_state_by_name(
    fleet: Api,
) -> None:
    ports = direct_ports(fleet, 1)
    made = create(fleet, kind="container", ports=ports)
    error = error_of(call(fleet, "POST", f"/v1/instances/{made['id']}/suspend", "member"), 409)
    assert "BUILD" in error["message"] and "suspend" in error["message"]
    with StandInAgent(fleet, "compute-1", "agent") as agent:
        agent.until(lambda: shown(fleet, f"/v1/instances/{made['id']}")["state"] == "ACTIVE")
    before = shown(fleet, "/v1/hosts/compute-1")["desired_generation"]
    assert act(fleet, made["id"], "suspend")["state"] == "SUSPENDED"
    assert shown(fleet, "/v1/hosts/compute-1")["desired_generation"] > before
    twice = error_of(call(fleet, "POST", f"/v1/instances/{made['id']}/suspend", "member"), 409)
    assert "SUSPENDED" in twice["message"]
    assert claimed_for(fleet, made["id"]) == ports and free_vfs(fleet) == 3
    assert act(fleet, made["id"], "resume")["state"] == "ACTIVE"
    active = error_of(call(fleet, "POST", f"/v1/instances/{made['id']}/resume", "member"), 409)
    assert "ACTIVE" in active["message"] and "resume" in active["message"]
    assert claimed_for(fleet, made["id"]) == ports and free_vfs(fleet) == 3


def test_another_project_s_instance_cannot_be_changed(fleet: Api) -> None:
    made = create(fleet, kind="container", ports=direct_ports(fleet, 1))
    for method, path in (
        ("POST", f"/v1/instances/{made['id']}/suspend"),
        ("POST", f"/v1/instances/{made['id']}/resume"),
        ("DELETE", f"/v1/instances/{made['id']}/ports/{made['ports'][0]['id']}"),
    ):
        assert call(fleet, method, path, "other-member").status_code == 404
    assert (
        call(fleet, "POST", f"/v1/instances/{made['id']}/migrate", "member", json={}).status_code
        == 403
    )

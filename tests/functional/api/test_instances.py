"""Instances over HTTP: scheduled, claimed and bound in one call, ACTIVE after the agent's
report, ERROR with the reason and nothing held when they cannot be served, and deleted."""

from __future__ import annotations

from typing import Any

import pytest

from tests.functional.api.conftest import Api
from tests.functional.api.networking import error_of, network, port, subnet

PFS = {"0000:3b:00.0": "02", "0000:3b:00.1": "0a"}  # PF -> the device number of its VFs
TAGS = {"physical_network": "physnet1"}


def pf(address: str) -> dict[str, Any]:
    return {"address": address, "dev_type": "type-PF", "vendor_id": "8086", "product_id": "1572",
            "ifname": f"ens1f{address[-1]}", "mac": f"3c:fd:fe:a0:00:0{address[-1]}",
            "tags": TAGS}  # fmt: skip


def vf(parent: str, index: int) -> dict[str, Any]:
    return {"address": f"0000:3b:{PFS[parent]}.{index}", "dev_type": "type-VF",
            "vendor_id": "8086", "product_id": "154c", "parent_addr": parent,
            "vf_index": index, "tags": TAGS}  # fmt: skip


@pytest.fixture
def fleet(api: Api) -> Api:
    """compute-1 on physnet1: two PFs with two VFs each; compute-2 has no devices."""
    devices = [pf(p) for p in PFS] + [vf(p, i) for p in PFS for i in range(2)]
    body = {"report_generation": 1, "devices": devices}
    response = api.call("PUT", "/v1/hosts/compute-1/inventory", "agent", json=body)
    assert response.status_code == 200, response.text
    return api


def free_vfs(api: Api) -> int:
    query = "/v1/devices?host=compute-1&state=available&type=type-VF"
    return len(api.call("GET", query, "admin").json()["devices"])


def direct_ports(api: Api, count: int, *, physnet: str = "physnet1") -> list[str]:
    segment = {"provider:physical_network": physnet}
    net = network(api, vlan=100, **segment)
    subnet(api, net)
    return [str(port(api, net, **{"binding:vnic_type": "direct"})["id"]) for _ in range(count)]


def create(api: Api, status: int = 201, caller: str = "member", **body: Any) -> dict[str, Any]:
    response = api.call("POST", "/v1/instances", caller, json={"name": "web", **body})
    assert response.status_code == status, response.text
    return dict(response.json())


def shown(api: Api, path: str, caller: str = "admin") -> dict[str, Any]:
    response = api.call("GET", path, caller)
    assert response.status_code == 200, response.text
    return dict(response.json())


def report(api: Api, statuses: dict[str, str], reason: str | None = None) -> None:
    generation = shown(api, "/v1/hosts/compute-1/desired", "agent")["generation"]
    ports = [{"port_id": port_id, "status": status, "reason": reason, "refused": []}
             for port_id, status in statuses.items()]  # fmt: skip
    body = {"generation": generation, "ports": ports}
    response = api.call("POST", "/v1/hosts/compute-1/status", "agent", json=body)
    assert response.status_code == 200, response.text


def test_a_container_with_two_direct_ports_gets_vfs_on_one_host_and_builds(fleet: Api) -> None:
    ports = direct_ports(fleet, 2)
    made = create(fleet, kind="container", ports=ports)
    assert (made["state"], made["host"], made["reason"]) == ("BUILD", "compute-1", None)
    assert [p["id"] for p in made["ports"]] == ports
    assert [p["ifname"] for p in made["ports"]] == ["eth0", "eth1"]
    assert sorted(d["request_id"] for d in made["devices"]) == sorted(ports)
    for port_id in ports:
        bound = shown(fleet, f"/v1/ports/{port_id}")
        assert (bound["binding:host_id"], bound["binding:vif_type"]) == ("compute-1", "hw_veb")
        assert bound["device_id"] == made["id"]
    slots = {p["pci_slot"] for p in made["ports"]}
    assert len(slots) == 2 and slots == {d["address"] for d in made["devices"]}
    assert free_vfs(fleet) == 2


def test_the_desired_state_puts_each_vf_in_the_container_s_namespace_in_port_order(
    fleet: Api,
) -> None:
    ports = direct_ports(fleet, 2)
    made = create(fleet, kind="container", ports=ports)
    document = shown(fleet, "/v1/hosts/compute-1/desired", "agent")
    by_port = {
        entry["port_id"]: {key: entry["attach"][key] for key in ("kind", "name", "ifname")}
        for entry in document["devices"].values()
    }
    netns = f"vfnet-c-{made['id']}"
    assert by_port == {
        ports[0]: {"kind": "netns", "name": netns, "ifname": "eth0"},
        ports[1]: {"kind": "netns", "name": netns, "ifname": "eth1"},
    }


def test_a_vm_s_vf_is_attached_to_its_libvirt_domain(fleet: Api) -> None:
    made = create(fleet, kind="vm", ports=direct_ports(fleet, 1))
    document = shown(fleet, "/v1/hosts/compute-1/desired", "agent")
    (entry,) = document["devices"].values()
    assert (entry["attach"]["kind"], entry["attach"]["name"]) == ("libvirt", made["id"])


def test_the_instance_goes_active_once_every_port_is_reported_active(fleet: Api) -> None:
    ports = direct_ports(fleet, 2)
    made = create(fleet, kind="container", ports=ports)
    report(fleet, {ports[0]: "ACTIVE"})
    assert shown(fleet, f"/v1/instances/{made['id']}")["state"] == "BUILD"
    report(fleet, {ports[1]: "ACTIVE"})
    assert shown(fleet, f"/v1/instances/{made['id']}")["state"] == "ACTIVE"


def test_a_port_reported_in_error_puts_the_instance_in_error_with_its_reason(fleet: Api) -> None:
    ports = direct_ports(fleet, 1)
    made = create(fleet, kind="container", ports=ports)
    report(fleet, {ports[0]: "ERROR"}, reason="vlan refused by ens1f0: no such VF")
    shown_now = shown(fleet, f"/v1/instances/{made['id']}")
    assert shown_now["state"] == "ERROR"
    assert shown_now["reason"] == f"port {ports[0]}: vlan refused by ens1f0: no such VF"
    report(fleet, {ports[0]: "ACTIVE"})  # the agent got it right on a later pass
    recovered = shown(fleet, f"/v1/instances/{made['id']}")
    assert (recovered["state"], recovered["reason"]) == ("ACTIVE", None)


def test_an_ha_pair_lands_on_two_different_pfs(fleet: Api) -> None:
    ports = direct_ports(fleet, 2)
    made = create(fleet, kind="container", ports=ports, ha_groups={"bond0": ports})
    assert made["state"] == "BUILD"
    device_numbers = {p["pci_slot"].split(":")[2].split(".")[0] for p in made["ports"]}
    assert device_numbers == {"02", "0a"}


def test_a_port_already_bound_to_another_instance_is_refused_naming_it(fleet: Api) -> None:
    ports = direct_ports(fleet, 2)
    first = create(fleet, kind="container", ports=ports[:1])
    error = error_of(
        fleet.call("POST", "/v1/instances", "member",
                   json={"name": "db", "kind": "vm", "ports": ports}), 409)  # fmt: skip
    assert ports[0] in error["message"] and first["id"] in error["message"]
    assert free_vfs(fleet) == 3
    assert shown(fleet, f"/v1/ports/{ports[1]}")["device_id"] == ""


def test_a_port_on_a_physnet_no_host_has_leaves_the_instance_in_error_holding_nothing(
    fleet: Api,
) -> None:
    (lonely,) = direct_ports(fleet, 1, physnet="physnet9")
    made = create(fleet, kind="container", ports=[lonely])
    assert made["state"] == "ERROR"
    assert made["reason"].startswith("no valid host: ")
    assert "physnet9" in made["reason"]
    assert (made["host"], made["devices"]) == (None, [])
    assert free_vfs(fleet) == 4
    assert shown(fleet, f"/v1/ports/{lonely}")["binding:host_id"] is None


def test_more_ports_than_free_vfs_fail_with_every_pool_back_to_its_count(fleet: Api) -> None:
    made = create(fleet, kind="container", ports=direct_ports(fleet, 5))
    assert made["state"] == "ERROR" and "no valid host" in made["reason"]
    assert free_vfs(fleet) == 4
    pools = shown(fleet, "/v1/pools")["pools"]
    assert all(pool["free"] == pool["total"] for pool in pools)


def test_a_flavor_alias_that_does_not_exist_is_refused_naming_it(fleet: Api) -> None:
    fleet.store.create_flavor("gpu-box", 4, 4096, 0, {"pci_passthrough:alias": "a100:1"})
    ports = direct_ports(fleet, 1)
    body = {"name": "ml", "kind": "vm", "ports": ports, "flavor": "gpu-box"}
    response = fleet.call("POST", "/v1/instances", "member", json=body)
    error = error_of(response, 400)
    assert "a100" in error["message"]
    assert shown(fleet, "/v1/instances", "admin")["instances"] == []
    assert free_vfs(fleet) == 4


def test_a_flavor_alias_claims_its_device_beside_the_ports(fleet: Api) -> None:
    made = create(fleet, kind="vm", ports=direct_ports(fleet, 1), flavor="small")
    assert made["state"] == "BUILD"
    assert sorted(d["request_id"] for d in made["devices"])[-1] == "x710-vf-0"
    assert free_vfs(fleet) == 2


def test_deleting_an_instance_unbinds_its_ports_and_frees_its_vfs(fleet: Api) -> None:
    ports = direct_ports(fleet, 2)
    made = create(fleet, kind="container", ports=ports)
    response = fleet.call("DELETE", f"/v1/instances/{made['id']}", "member")
    assert response.status_code == 204, response.text
    assert free_vfs(fleet) == 4
    for port_id in ports:
        left = shown(fleet, f"/v1/ports/{port_id}")
        assert (left["binding:host_id"], left["device_id"]) == (None, "")
    missing = fleet.call("GET", f"/v1/instances/{made['id']}", "member")
    assert missing.status_code == 404


def test_an_instance_s_port_cannot_be_deleted_or_rebound_while_its_vfs_stay_held(
    fleet: Api,
) -> None:
    ports = direct_ports(fleet, 2)
    made = create(fleet, kind="container", ports=ports)
    deleting = error_of(fleet.call("DELETE", f"/v1/ports/{ports[0]}", "member"), 409)
    assert deleting["code"] == "in_use" and made["id"] in deleting["message"]
    unbind = {"binding:host_id": None}
    unbinding = error_of(fleet.call("PUT", f"/v1/ports/{ports[1]}", "admin", json=unbind), 409)
    assert unbinding["code"] == "in_use"
    assert free_vfs(fleet) == 2
    assert shown(fleet, f"/v1/ports/{ports[0]}")["binding:host_id"] == "compute-1"


def test_a_network_gets_a_normal_port_on_a_host_with_a_bridge_for_it(fleet: Api) -> None:
    fleet.store.register_host("compute-2", physnets=["physnet1"], bridges={"physnet1": "br1"})
    net = network(fleet, vlan=200)
    subnet(fleet, net)
    made = create(fleet, kind="container", networks=[net])
    assert (made["state"], made["host"]) == ("ACTIVE", "compute-2")
    (normal,) = made["ports"]
    assert (normal["vnic_type"], normal["network_id"]) == ("normal", net)
    fleet.call("DELETE", f"/v1/instances/{made['id']}", "member")
    assert fleet.call("GET", f"/v1/ports/{normal['id']}", "admin").status_code == 404


def test_a_normal_port_with_no_bridge_anywhere_leaves_the_instance_in_error(fleet: Api) -> None:
    net = network(fleet, vlan=200)
    subnet(fleet, net)
    made = create(fleet, kind="container", networks=[net])
    assert made["state"] == "ERROR"
    assert "no bridge for the physical network of a normal port" in made["reason"]


def test_a_member_sees_only_its_own_project_s_instances(fleet: Api) -> None:
    made = create(fleet, kind="container", ports=direct_ports(fleet, 1))
    other = fleet.call("GET", f"/v1/instances/{made['id']}", "other-member")
    assert other.status_code == 404
    assert fleet.call("GET", "/v1/instances", "other-member").json()["instances"] == []
    assert fleet.call("DELETE", f"/v1/instances/{made['id']}", "other-member").status_code == 404
    assert [i["id"] for i in shown(fleet, "/v1/instances", "member")["instances"]] == [made["id"]]


@pytest.fixture
def two_hosts(fleet: Api) -> Api:
    """compute-1 as in ``fleet``, and compute-2 with the same devices."""
    devices = [pf(p) for p in PFS] + [vf(p, i) for p in PFS for i in range(2)]
    body = {"report_generation": 1, "devices": devices}
    response = fleet.call("PUT", "/v1/hosts/compute-2/inventory", "admin", json=body)
    assert response.status_code == 200, response.text
    return fleet


@pytest.mark.parametrize("host", ["compute-1", "compute-2"])
def test_an_admin_places_an_instance_on_the_host_it_names(two_hosts: Api, host: str) -> None:
    made = create(two_hosts, caller="admin", kind="container", ports=direct_ports(two_hosts, 1),
                  host=host)  # fmt: skip
    assert (made["state"], made["host"]) == ("BUILD", host)


def test_a_member_may_not_choose_the_host(two_hosts: Api) -> None:
    refused = create(two_hosts, 403, kind="container", ports=direct_ports(two_hosts, 1),
                     host="compute-2")  # fmt: skip
    assert "only admins choose an instance's host" in str(refused)


def test_a_named_host_that_cannot_take_the_instance_leaves_it_in_error_saying_so(
    two_hosts: Api,
) -> None:
    ports = direct_ports(two_hosts, 1, physnet="physnet1")
    made = create(two_hosts, caller="admin", kind="container", ports=ports, host="compute-9")
    assert made["state"] == "ERROR"
    assert "host compute-9 cannot take the instance" in made["reason"]
    assert "compute-1, compute-2" in made["reason"]

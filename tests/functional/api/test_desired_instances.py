"""What a host's desired state says about its instances: where each VF goes with its
addresses, routes and MTU, and what the agent builds besides (sizes, PCI devices, normal
ports on the host's bridge), as the agent parses it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.functional.api.conftest import Api
from tests.functional.api.networking import network, port, subnet
from tests.functional.api.test_instances import PFS, create, pf, vf
from vfnet.agent.desired import InstanceState, parse_desired
from vfnet.store.instances import SUSPENDED

DESIRED = "/v1/hosts/compute-1/desired"


@pytest.fixture
def fleet(api: Api) -> Api:
    """compute-1 on physnet1 with a bridge for it: two PFs with two VFs each."""
    body = {"name": "compute-1", "physnets": ["physnet1"], "bridges": {"physnet1": "br-phys1"}}
    assert api.call("POST", "/v1/hosts", "agent", json=body).status_code == 201
    devices = [pf(p) for p in PFS] + [vf(p, i) for p in PFS for i in range(2)]
    response = api.call(
        "PUT", "/v1/hosts/compute-1/inventory", "agent",
        json={"report_generation": 1, "devices": devices},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    return api


def desired(api: Api) -> dict[str, Any]:
    response = api.call("GET", DESIRED, "agent")
    assert response.status_code == 200, response.text
    document = dict(response.json())
    parse_desired(document)  # the agent reads every document the server writes
    return document


def jumbo_network(api: Api, vlan: int = 100) -> str:
    """A network with an IPv4 subnet (gateway 192.0.2.1) and an IPv6 one, MTU 9000."""
    net = network(api, f"net-{vlan}", vlan=vlan, mtu=9000)
    subnet(api, net, "192.0.2.0/24")
    subnet(api, net, "2001:db8::/64", ip_version=6)
    return net


def attach_by_port(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["port_id"]: entry for entry in document["devices"].values()}


def test_a_container_s_vfs_get_addresses_mtu_and_one_default_route_per_ip_version(
    fleet: Api,
) -> None:
    net = jumbo_network(fleet)
    ports = [port(fleet, net, **{"binding:vnic_type": "direct"}) for _ in range(2)]
    made = create(fleet, kind="container", ports=[p["id"] for p in ports])
    by_port = attach_by_port(desired(fleet))
    first, second = (by_port[p["id"]] for p in ports)
    assert first["mtu"] == second["mtu"] == 9000
    [v4, v6] = ports[0]["fixed_ips"]
    assert first["attach"] == {
        "kind": "netns",
        "name": f"vfnet-c-{made['id']}",
        "ifname": "eth0",
        "addresses": [f"{v4['ip_address']}/24", f"{v6['ip_address']}/64"],
        "routes": [
            {"dst": "default", "gateway": "192.0.2.1"},
            {"dst": "default", "gateway": "2001:db8::1"},
        ],
        "instance": made["id"],
    }
    assert (second["attach"]["ifname"], second["attach"]["routes"]) == ("eth1", [])
    assert len(second["attach"]["addresses"]) == 2


def test_the_route_goes_on_the_first_port_whose_subnet_has_a_gateway(fleet: Api) -> None:
    quiet = network(fleet, "quiet", vlan=200)
    subnet(fleet, quiet, "198.51.100.0/24", gateway_ip=None)
    routed = network(fleet, "routed", vlan=300)
    subnet(fleet, routed, "203.0.113.0/24")
    ports = [port(fleet, n, **{"binding:vnic_type": "direct"}) for n in (quiet, routed)]
    create(fleet, kind="container", ports=[p["id"] for p in ports])
    by_port = attach_by_port(desired(fleet))
    assert by_port[ports[0]["id"]]["attach"]["routes"] == []
    assert by_port[ports[1]["id"]]["attach"]["routes"] == [
        {"dst": "default", "gateway": "203.0.113.1"}
    ]


def test_a_vm_s_vf_names_its_vnic_type_and_the_instance_its_flavor_and_pci_devices(
    fleet: Api,
) -> None:
    net = jumbo_network(fleet)
    direct = port(fleet, net, **{"binding:vnic_type": "macvtap"})
    made = create(fleet, kind="vm", ports=[direct["id"]], flavor="small")
    document = desired(fleet)
    [entry] = document["devices"].values()
    assert entry["attach"] == {
        "kind": "libvirt", "name": made["id"], "vnic_type": "macvtap", "instance": made["id"],
    }  # fmt: skip
    alias_devices = [d["address"] for d in made["devices"] if d["request_id"] != direct["id"]]
    assert len(alias_devices) == 1
    assert document["instances"] == {
        made["id"]: {
            "kind": "vm", "state": "running", "vcpus": 2, "memory_mib": 2048, "numa_cells": 1,
            "hostdevs": alias_devices, "bridge_ports": [],
        }
    }  # fmt: skip
    assert alias_devices[0] not in document["devices"]


def test_a_container_s_normal_port_is_on_the_host_s_bridge_with_its_place_and_mtu(
    fleet: Api,
) -> None:
    net = jumbo_network(fleet)
    direct = port(fleet, net, **{"binding:vnic_type": "direct"})
    made = create(fleet, kind="container", ports=[direct["id"]], networks=[net])
    normal = next(p for p in made["ports"] if p["id"] != direct["id"])
    shown = fleet.call("GET", f"/v1/ports/{normal['id']}", "admin").json()
    [v4, v6] = shown["fixed_ips"]
    document = desired(fleet)
    assert document["instances"][made["id"]] == {
        "kind": "container", "state": "running", "vcpus": None, "memory_mib": None,
        "numa_cells": 0, "hostdevs": [],
        "bridge_ports": [
            {"port_id": normal["id"], "mac": shown["mac_address"], "bridge": "br-phys1",
             "ifname": "eth1", "mtu": 9000,
             "addresses": [f"{v4['ip_address']}/24", f"{v6['ip_address']}/64"], "routes": []},
        ],
    }  # fmt: skip
    assert len(attach_by_port(document)[direct["id"]]["attach"]["routes"]) == 2


def test_a_suspended_instance_is_shown_suspended_and_one_in_error_still_built(fleet: Api) -> None:
    net = jumbo_network(fleet)
    ports = [port(fleet, net, **{"binding:vnic_type": "direct"}) for _ in range(2)]
    resting = create(fleet, kind="container", ports=[ports[0]["id"]])
    broken = create(fleet, kind="container", ports=[ports[1]["id"]])
    fleet.store.update_instance(resting["id"], state=SUSPENDED)
    fleet.store.update_instance(broken["id"], state="ERROR")
    document = desired(fleet)
    assert set(document["instances"]) == {resting["id"], broken["id"]}
    parsed = parse_desired(document)
    assert parsed.instances[resting["id"]].state is InstanceState.SUSPENDED
    assert parsed.instances[broken["id"]].state is InstanceState.RUNNING


def test_a_vm_without_a_flavor_gets_the_smallest_size_a_container_none(fleet: Api) -> None:
    net = jumbo_network(fleet)
    ports = [port(fleet, net, **{"binding:vnic_type": "direct"}) for _ in range(2)]
    vm = create(fleet, kind="vm", ports=[ports[0]["id"]])
    box = create(fleet, kind="container", ports=[ports[1]["id"]])
    instances = desired(fleet)["instances"]
    assert (instances[vm["id"]]["vcpus"], instances[vm["id"]]["memory_mib"]) == (1, 512)
    assert (instances[box["id"]]["vcpus"], instances[box["id"]]["memory_mib"]) == (None, None)


def test_an_instance_leaving_its_host_is_migrating_there_until_the_migration_is_over(
    fleet: Api,
) -> None:
    net = jumbo_network(fleet)
    made = create(fleet, kind="container", ports=[port(fleet, net)["id"]])
    moving = {"source": "compute-1", "target": "compute-2", "live": True}
    fleet.store.update_instance(made["id"], migration={**moving, "phase": "unplugging"})
    assert desired(fleet)["instances"][made["id"]]["state"] == "migrating"
    before = desired(fleet)["generation"]
    # Moved: placed on the target, still shown on the source, which keeps what the
    # instance runs until the target holds it.
    fleet.store.update_instance(made["id"], host="compute-2",
                                migration={**moving, "phase": "moving"})  # fmt: skip
    assert desired(fleet)["instances"][made["id"]]["state"] == "migrating"
    fleet.store.update_instance(made["id"], migration=None)
    after = desired(fleet)
    assert made["id"] not in after["instances"] and after["generation"] > before


def test_an_agent_s_report_on_a_normal_port_makes_it_active(fleet: Api) -> None:
    net = jumbo_network(fleet)
    made = create(fleet, kind="container", networks=[net])
    [normal] = made["ports"]
    document = desired(fleet)
    [bridged] = document["instances"][made["id"]]["bridge_ports"]
    assert bridged["port_id"] == normal["id"]
    report = {"port_id": normal["id"], "status": "ACTIVE", "reason": "", "refused": []}
    body = {"generation": document["generation"], "ports": [report]}
    response = fleet.call("POST", "/v1/hosts/compute-1/status", "agent", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["ports"] == {normal["id"]: "ACTIVE"}
    shown = fleet.call("GET", f"/v1/ports/{normal['id']}", "admin").json()
    assert shown["status"] == "ACTIVE"

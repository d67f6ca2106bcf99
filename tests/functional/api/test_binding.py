"""Binding ports on hosts over HTTP: the vif type, details and profile a bound port shows,
the reasons a port cannot bind, and the device it holds until unbound."""

from __future__ import annotations

from typing import Any

import pytest

from tests.functional.api.conftest import Api
from tests.functional.api.networking import error_of, network, port, subnet

PF0, PF1 = "0000:3b:00.0", "0000:3b:00.1"
PF_MACS = {PF0: "3c:fd:fe:a0:00:00", PF1: "3c:fd:fe:a0:00:01"}
TAGS = {"physical_network": "physnet1"}
HOST = "binding:host_id"


def pf(address: str, mac: str) -> dict[str, Any]:
    return {"address": address, "dev_type": "type-PF", "vendor_id": "8086", "product_id": "1572",
            "ifname": f"ens1f{address[-1]}", "mac": mac, "tags": TAGS}  # fmt: skip


def vf(index: int) -> dict[str, Any]:
    return {"address": f"0000:3b:02.{index}", "dev_type": "type-VF", "vendor_id": "8086",
            "product_id": "154c", "parent_addr": PF0, "vf_index": index, "tags": TAGS}  # fmt: skip


@pytest.fixture
def fleet(api: Api) -> Api:
    """compute-1 on physnet1: PF0 with two VFs, and PF1 (no VFs) for whole-PF ports."""
    devices = [pf(PF0, PF_MACS[PF0]), vf(0), vf(1), pf(PF1, PF_MACS[PF1])]
    body = {"report_generation": 1, "devices": devices}
    response = api.call("PUT", "/v1/hosts/compute-1/inventory", "agent", json=body)
    assert response.status_code == 200, response.text
    return api


def free(api: Api, dev_type: str = "type-VF") -> int:
    query = f"/v1/devices?host=compute-1&state=available&type={dev_type}"
    return len(api.call("GET", query, "admin").json()["devices"])


def bind(api: Api, port_id: str, host: str | None = "compute-1") -> dict[str, Any]:
    response = api.call("PUT", f"/v1/ports/{port_id}", "admin", json={HOST: host})
    assert response.status_code == 200, response.text
    return dict(response.json())


def sriov_port(api: Api, *, vlan: int | None = 100, vnic_type: str = "direct") -> str:
    net = network(api, vlan=vlan)
    subnet(api, net)
    return str(port(api, net, **{"binding:vnic_type": vnic_type})["id"])


def test_a_direct_port_binds_on_a_vf_as_hw_veb_with_its_vlan_and_stays_down(fleet: Api) -> None:
    bound = bind(fleet, sriov_port(fleet))
    assert (bound[HOST], bound["binding:vif_type"], bound["status"]) == (
        "compute-1",
        "hw_veb",
        "DOWN",
    )
    assert bound["binding:vif_details"]["vlan"] == "100"
    assert bound["binding:vif_details"]["port_filter"] is False
    profile = bound["binding:profile"]
    assert profile["pci_slot"] in {"0000:3b:02.0", "0000:3b:02.1"}
    assert (profile["pci_vendor_info"], profile["physical_network"]) == ("8086:154c", "physnet1")
    assert bound["binding:failure_reason"] is None
    assert free(fleet) == 1


def test_a_port_on_a_flat_network_binds_with_vlan_zero(fleet: Api) -> None:
    assert bind(fleet, sriov_port(fleet, vlan=None))["binding:vif_details"]["vlan"] == "0"


def test_a_direct_physical_port_takes_the_pf_and_its_mac(fleet: Api) -> None:
    port_id = sriov_port(fleet, vnic_type="direct-physical")
    bound = bind(fleet, port_id)
    assert bound["binding:vif_type"] == "hostdev_physical"
    taken = bound["binding:profile"]["pci_slot"]
    assert bound["mac_address"] == PF_MACS[taken]
    assert bound["binding:profile"]["device_mac_address"] == PF_MACS[taken]
    assert free(fleet, "type-PF") == 1


def test_unbinding_frees_the_device_and_drops_the_device_keys(fleet: Api) -> None:
    port_id = sriov_port(fleet)
    bind(fleet, port_id)
    assert free(fleet) == 1
    unbound = bind(fleet, port_id, None)
    assert (unbound[HOST], unbound["binding:vif_type"], unbound["binding:profile"]) == (
        None,
        "unbound",
        {},
    )
    assert free(fleet) == 2


def test_deleting_a_bound_port_frees_its_device(fleet: Api) -> None:
    port_id = sriov_port(fleet)
    bind(fleet, port_id)
    assert fleet.call("DELETE", f"/v1/ports/{port_id}", "member").status_code == 204
    assert free(fleet) == 2


def test_binding_again_on_the_same_host_keeps_the_same_device(fleet: Api) -> None:
    port_id = sriov_port(fleet)
    first = bind(fleet, port_id)
    assert bind(fleet, port_id)["binding:profile"] == first["binding:profile"]
    assert free(fleet) == 1


def test_a_network_on_a_physnet_no_host_has_binds_to_a_failure_naming_both(fleet: Api) -> None:
    body = {"name": "far", "provider:network_type": "vlan",
            "provider:physical_network": "physnet9", "provider:segmentation_id": 9}  # fmt: skip
    made = fleet.call("POST", "/v1/networks", "admin", json=body)
    assert made.status_code == 201, made.text
    port_id = port(fleet, made.json()["id"], "admin", **{"binding:vnic_type": "direct"})["id"]
    failed = bind(fleet, port_id)
    assert failed["binding:vif_type"] == "binding_failed"
    reason = failed["binding:failure_reason"]
    assert "compute-1" in reason and "physnet9" in reason and "physnet1" in reason
    assert "pci_slot" not in failed["binding:profile"]
    assert free(fleet) == 2


def test_a_host_with_no_free_vf_left_binds_to_a_failure_naming_the_host(fleet: Api) -> None:
    ports = [sriov_port(fleet, vlan=vlan) for vlan in (100, 101, 102)]
    outcomes = [bind(fleet, port_id)["binding:vif_type"] for port_id in ports]
    assert outcomes == ["hw_veb", "hw_veb", "binding_failed"]
    assert (
        "compute-1"
        in fleet.call("GET", f"/v1/ports/{ports[2]}", "admin").json()["binding:failure_reason"]
    )


def test_a_host_without_the_vnic_type_binds_to_a_failure_saying_what_it_serves(
    fleet: Api,
) -> None:
    failed = bind(fleet, sriov_port(fleet, vnic_type="vdpa"))
    assert failed["binding:vif_type"] == "binding_failed"
    assert "vdpa" in failed["binding:failure_reason"]
    assert "direct" in failed["binding:failure_reason"]


def test_a_failed_port_binds_once_the_host_can_serve_it(fleet: Api) -> None:
    ports = [sriov_port(fleet, vlan=vlan) for vlan in (100, 101, 102)]
    for port_id in ports:
        bind(fleet, port_id)
    bind(fleet, ports[0], None)
    assert bind(fleet, ports[2])["binding:vif_type"] == "hw_veb"


def test_binding_on_an_unknown_host_is_not_found(fleet: Api) -> None:
    response = fleet.call("PUT", f"/v1/ports/{sriov_port(fleet)}", "admin", json={HOST: "nope"})
    assert error_of(response, 404)["code"] == "not_found"


def test_a_member_may_not_bind_a_port(fleet: Api) -> None:
    port_id = sriov_port(fleet)
    response = fleet.call("PUT", f"/v1/ports/{port_id}", "member", json={HOST: "compute-1"})
    error = error_of(response, 403)
    assert error["code"] == "forbidden" and HOST in error["message"]


def test_the_vnic_type_of_a_bound_port_cannot_change(fleet: Api) -> None:
    port_id = sriov_port(fleet)
    bind(fleet, port_id)
    body = {"binding:vnic_type": "macvtap"}
    error = error_of(fleet.call("PUT", f"/v1/ports/{port_id}", "admin", json=body), 409)
    assert "binding:vnic_type" in error["message"]


def test_an_agent_sees_the_ports_bound_on_its_host_only(fleet: Api) -> None:
    bound, unbound = sriov_port(fleet, vlan=100), sriov_port(fleet, vlan=101)
    bind(fleet, bound)
    listed = fleet.call("GET", "/v1/ports", "agent").json()["ports"]
    assert [p["id"] for p in listed] == [bound]
    assert fleet.call("GET", f"/v1/ports/{unbound}", "agent").status_code == 404
    assert fleet.call("GET", f"/v1/ports/{bound}", "other-agent").status_code == 404


def test_a_port_created_with_a_host_is_bound_at_once(fleet: Api) -> None:
    net = network(fleet)
    made = port(fleet, net, "admin", **{"binding:vnic_type": "direct", HOST: "compute-1"})
    assert (made["binding:vif_type"], made[HOST]) == ("hw_veb", "compute-1")

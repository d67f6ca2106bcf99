"""Ports needing what a PF refused are placed on other PFs; none left is a clear ERROR."""

from __future__ import annotations

from typing import Any

from tests.functional.api.conftest import Api
from tests.functional.api.networking import created, network, port, subnet
from tests.functional.api.test_instances import create, fleet, shown

__all__ = ["fleet"]

PF_A, PF_B = "0000:3b:00.0", "0000:3b:00.1"


def min_bw_port(api: Api, vlan: int = 100) -> str:
    rules = [{"type": "minimum_bandwidth", "min_kbps": 1_000_000}]
    policy = created(
        api, "/v1/qos-policies", {"name": f"gold{vlan}", "rules": rules, "shared": True}
    )
    net = network(api, f"n{vlan}", vlan=vlan)
    subnet(api, net)
    body: dict[str, Any] = {"binding:vnic_type": "direct", "qos_policy_id": policy["id"]}
    return str(port(api, net, "admin", **body)["id"])


def refuse(api: Api, pf: str, attrs: list[str]) -> None:
    api.store.record_refused("compute-1", {pf: attrs})


def pf_of(api: Api, port_id: str) -> str:
    slot = shown(api, f"/v1/ports/{port_id}")["binding:profile"]["pci_slot"]
    devices = api.call("GET", "/v1/devices?host=compute-1", "admin").json()["devices"]
    return str({d["address"]: d for d in devices}[slot]["parent_addr"])


def test_an_instance_s_min_bw_port_gets_a_vf_of_the_pf_that_did_not_refuse(fleet: Api) -> None:
    refuse(fleet, PF_A, ["min_tx_rate"])
    port_id = min_bw_port(fleet)
    made = create(fleet, caller="admin", kind="container", ports=[port_id])
    assert made["state"] == "BUILD", made
    assert pf_of(fleet, port_id) == PF_B


def test_no_pf_left_fails_the_boot_naming_the_pf_and_the_attribute(fleet: Api) -> None:
    refuse(fleet, PF_A, ["min_tx_rate"])
    refuse(fleet, PF_B, ["min_tx_rate"])
    port_id = min_bw_port(fleet)
    made = create(fleet, caller="admin", kind="container", ports=[port_id])
    assert made["state"] == "ERROR"
    assert f"PF {PF_A} refused min_tx_rate" in made["reason"], made["reason"]
    assert f"port {port_id} needs for a minimum bandwidth rule" in made["reason"]


def test_binding_a_port_on_a_host_skips_the_refusing_pf(fleet: Api) -> None:
    refuse(fleet, PF_A, ["min_tx_rate"])
    refuse(fleet, PF_B, ["mirror"])
    port_id = min_bw_port(fleet)
    response = fleet.call(
        "PUT", f"/v1/ports/{port_id}", "admin", json={"binding:host_id": "compute-1"}
    )
    assert response.status_code == 200, response.text
    assert pf_of(fleet, port_id) == PF_B


def test_forgetting_the_refusal_lets_the_pf_serve_again(fleet: Api) -> None:
    refuse(fleet, PF_A, ["min_tx_rate"])
    refuse(fleet, PF_B, ["min_tx_rate"])
    assert fleet.call("DELETE", "/v1/hosts/compute-1/refused", "admin").status_code == 200
    made = create(fleet, caller="admin", kind="container", ports=[min_bw_port(fleet)])
    assert made["state"] == "BUILD", made

"""Declared request/response cases: one row per request, its caller and what must come back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.functional.api.conftest import Api

VF = {
    "address": "0000:3b:02.0",
    "dev_type": "type-VF",
    "vendor_id": "8086",
    "product_id": "154c",
    "parent_addr": "0000:3b:00.0",
    "vf_index": 0,
}
NETWORK = {
    "name": "n",
    "provider:network_type": "vlan",
    "provider:physical_network": "p1",
    "provider:segmentation_id": 100,
}
PF = {"address": "0000:3b:00.0", "dev_type": "type-PF", "vendor_id": "8086", "product_id": "1572"}


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    caller: str | None
    status: int
    code: str | None = None
    field: str | None = None
    body: Any = None

    def __str__(self) -> str:
        return f"{self.method} {self.path} as {self.caller} -> {self.status} {self.code or ''}"


def report(*devices: dict[str, Any], generation: int = 1) -> dict[str, Any]:
    return {"report_generation": generation, "devices": list(devices)}


# fmt: off
INVENTORY = "/v1/hosts/compute-1/inventory"

CASES = [
    # authentication
    Case("GET", "/v1/flavors", None, 401, "unauthorized"),
    Case("GET", "/v1/flavors", "wrong-token", 401, "unauthorized"),
    Case("GET", "/v1/hosts", None, 401, "unauthorized"),
    Case("POST", "/v1/flavors", None, 401, "unauthorized", body={"name": "x", "bogus": 1}),
    # who may see what
    Case("GET", "/v1/hosts", "admin", 200),
    Case("GET", "/v1/hosts", "member", 403, "forbidden"),
    Case("GET", "/v1/hosts", "agent", 403, "forbidden"),
    Case("GET", "/v1/hosts/compute-1", "member", 403, "forbidden"),
    Case("GET", "/v1/hosts/no-such-host", "member", 403, "forbidden"),
    Case("GET", "/v1/hosts/compute-1", "agent", 200),
    Case("GET", "/v1/hosts/compute-2", "agent", 403, "forbidden"),
    Case("GET", "/v1/hosts/no-such-host", "agent", 403, "forbidden"),
    Case("GET", "/v1/hosts/no-such-host", "admin", 404, "not_found"),
    Case("GET", "/v1/devices", "member", 403, "forbidden"),
    Case("GET", "/v1/devices", "admin", 200),
    Case("GET", "/v1/devices?type=type-VF&state=available&physnet=p1&host=h", "admin", 200),
    Case("GET", "/v1/devices?type=type-XYZ", "admin", 400, "invalid_value", "type"),
    Case("GET", "/v1/devices?state=sleepy", "admin", 400, "invalid_value", "state"),
    Case("GET", "/v1/pools", "member", 403, "forbidden"),
    Case("GET", "/v1/pools?host=compute-1", "admin", 200),
    Case("GET", "/v1/aliases", "member", 200),
    Case("GET", "/v1/aliases", "agent", 200),
    Case("GET", "/v1/flavors", "member", 200),
    Case("GET", "/v1/flavors/small", "member", 200),
    Case("GET", "/v1/flavors/no-such-flavor", "member", 404, "not_found"),
    Case("DELETE", "/v1/flavors/small", "member", 403, "forbidden"),
    Case("DELETE", "/v1/flavors/no-such-flavor", "admin", 404, "not_found"),
    Case("GET", "/v1/placements/no-such-instance", "member", 404, "not_found"),
    Case("DELETE", "/v1/placements/no-such-instance", "member", 204),
    Case("POST", "/v1/placements", "agent", 403, "forbidden", body={"instance_id": "i"}),
    Case("POST", "/v1/placements", "member", 403, "forbidden",
         body={"instance_id": "i", "project": "red"}),
    Case("GET", "/v1/tokens/self", "agent", 200),
    Case("POST", "/v1/tokens", "member", 403, "forbidden", body={"role": "admin"}),
    # unknown routes and methods
    Case("GET", "/v1/nothing-here", "admin", 404, "not_found"),
    Case("PATCH", "/v1/flavors", "admin", 405, "method_not_allowed"),
    # flavors: bodies
    Case("POST", "/v1/flavors", "admin", 201, body={"name": "big", "vcpus": 8}),
    Case("POST", "/v1/flavors", "admin", 409, "conflict", body={"name": "small"}),
    Case("POST", "/v1/flavors", "member", 403, "forbidden", body={"name": "big"}),
    Case("POST", "/v1/flavors", "admin", 400, "unknown_field", "colour",
         body={"name": "big", "colour": "red"}),
    Case("POST", "/v1/flavors", "admin", 400, "invalid_value", "vcpus",
         body={"name": "big", "vcpus": 0}),
    Case("POST", "/v1/flavors", "admin", 400, "invalid_value", "vcpus",
         body={"name": "big", "vcpus": -2}),
    Case("POST", "/v1/flavors", "admin", 400, "invalid_value", "vcpus",
         body={"name": "big", "vcpus": "four"}),
    Case("POST", "/v1/flavors", "admin", 400, "invalid_value", "name", body={"vcpus": 1}),
    Case("POST", "/v1/flavors", "admin", 400, "invalid_value", "body", body=[1, 2]),
    Case("POST", "/v1/flavors", "admin", 400, "invalid_value", "pci_passthrough:alias",
         body={"name": "big", "extra_specs": {"pci_passthrough:alias": "no-such-alias:1"}}),
    Case("POST", "/v1/flavors", "admin", 400, "invalid_value", "pci_passthrough:alias",
         body={"name": "big", "extra_specs": {"pci_passthrough:alias": "x710-vf:0"}}),
    Case("POST", "/v1/flavors", "admin", 400, "invalid_value", "hw:pci_numa_affinity_policy",
         body={"name": "big", "extra_specs": {"hw:pci_numa_affinity_policy": "prefered"}}),
    # hosts: registration and inventory reports
    Case("POST", "/v1/hosts", "agent", 201, body={"name": "compute-1", "physnets": ["p1"]}),
    Case("POST", "/v1/hosts", "agent", 403, "forbidden", body={"name": "compute-2"}),
    Case("POST", "/v1/hosts", "agent", 403, "forbidden", body={"name": "no-such-host"}),
    Case("POST", "/v1/hosts", "member", 403, "forbidden", body={"name": "compute-1"}),
    Case("POST", "/v1/hosts", "admin", 400, "unknown_field", "gpus",
         body={"name": "compute-3", "gpus": 2}),
    Case("PUT", INVENTORY, "agent", 200, body=report(PF, VF)),
    Case("PUT", "/v1/hosts/compute-2/inventory", "agent", 403, "forbidden", body=report(VF)),
    Case("PUT", "/v1/hosts/no-such-host/inventory", "agent", 403, "forbidden", body=report(VF)),
    Case("PUT", "/v1/hosts/no-such-host/inventory", "admin", 404, "not_found", body=report(VF)),
    Case("PUT", "/v1/hosts/compute-2/inventory", "agent", 403, "forbidden",
         body={"report_generation": -1}),
    Case("PUT", INVENTORY, "member", 403, "forbidden", body=report(VF)),
    Case("PUT", INVENTORY, "agent", 400, "invalid_value", "devices[2].address",
         body=report(PF, VF, VF)),
    Case("PUT", INVENTORY, "agent", 400, "invalid_value", "report_generation",
         body=report(VF, generation=-1)),
    Case("PUT", INVENTORY, "agent", 400, "invalid_value", "devices[0].address",
         body=report(VF | {"address": "0000:3b:02.8"})),
    Case("PUT", INVENTORY, "agent", 400, "invalid_value", "devices[0].vendor_id",
         body=report(VF | {"vendor_id": "intel"})),
    Case("PUT", INVENTORY, "agent", 400, "invalid_value", "devices[0].dev_type",
         body=report(VF | {"dev_type": "type-GPU"})),
    Case("PUT", INVENTORY, "agent", 400, "unknown_field", "devices[0].serial",
         body=report(VF | {"serial": "x"})),
    Case("PUT", INVENTORY, "agent", 400, "invalid_value", "devices",
         body={"report_generation": 1}),
    # placements: bad input is refused before anything is claimed
    Case("POST", "/v1/placements", "member", 400, "invalid_value", "pci_requests[0].alias",
         body={"instance_id": "vm-1", "pci_requests": [{"alias": "no-such-alias"}]}),
    Case("POST", "/v1/placements", "member", 400, "invalid_value", "pci_requests[0].count",
         body={"instance_id": "vm-1", "pci_requests": [{"alias": "x710-vf", "count": 0}]}),
    Case("POST", "/v1/placements", "member", 400, "invalid_value", "pci_requests[0].count",
         body={"instance_id": "vm-1", "pci_requests": [{"alias": "x710-vf", "count": -1}]}),
    Case("POST", "/v1/placements", "member", 400, "invalid_value", "numa_policy",
         body={"instance_id": "vm-1", "numa_policy": "prefered"}),
    Case("POST", "/v1/placements", "member", 400, "invalid_value", "ports[0].numa_policy",
         body={"instance_id": "vm-1", "ports": [{"id": "p", "numa_policy": "strict"}]}),
    Case("POST", "/v1/placements", "member", 400, "invalid_value", "ports[0].vnic_type",
         body={"instance_id": "vm-1", "ports": [{"id": "p", "vnic_type": "sriov"}]}),
    Case("POST", "/v1/placements", "member", 400, "unknown_field", "ports[0].mac",
         body={"instance_id": "vm-1", "ports": [{"id": "p", "mac": "fa:16:3e:00:00:01"}]}),
    Case("POST", "/v1/placements", "member", 404, "not_found",
         body={"instance_id": "vm-1", "flavor": "no-such-flavor"}),
    # networking: who may write, and bodies refused before anything is looked up
    Case("GET", "/v1/networks", "member", 200),
    Case("GET", "/v1/networks", "agent", 200),
    Case("GET", "/v1/networks/no-such-network", "member", 404, "not_found"),
    Case("POST", "/v1/networks", "member", 403, "forbidden", body=NETWORK),
    Case("POST", "/v1/networks", "agent", 403, "forbidden", body=NETWORK),
    Case("POST", "/v1/networks", None, 401, "unauthorized", body=NETWORK),
    Case("POST", "/v1/networks", "admin", 201, body=NETWORK),
    Case("POST", "/v1/networks", "admin", 400, "invalid_value", "provider:network_type",
         body={"name": "n"}),
    Case("POST", "/v1/networks", "admin", 400, "invalid_value", "provider:network_type",
         body=NETWORK | {"provider:network_type": "token-ring"}),
    Case("POST", "/v1/networks", "admin", 400, "invalid_value", "provider:physical_network",
         body={"name": "n", "provider:network_type": "flat"}),
    Case("POST", "/v1/networks", "admin", 400, "invalid_value", "provider:segmentation_id",
         body=NETWORK | {"provider:segmentation_id": "100"}),
    Case("POST", "/v1/networks", "admin", 400, "invalid_value", "name",
         body=NETWORK | {"name": " "}),
    Case("PUT", "/v1/networks/no-such-network", "member", 403, "forbidden", body={"name": "x"}),
    Case("PUT", "/v1/networks/no-such-network", "admin", 404, "not_found", body={"name": "x"}),
    Case("DELETE", "/v1/networks/no-such-network", "admin", 404, "not_found"),
    Case("GET", "/v1/subnets", "member", 200),
    Case("POST", "/v1/subnets", "member", 403, "forbidden",
         body={"network_id": "n", "cidr": "192.0.2.0/24"}),
    Case("POST", "/v1/subnets", "admin", 404, "not_found",
         body={"network_id": "no-such-network", "cidr": "192.0.2.0/24"}),
    Case("POST", "/v1/subnets", "admin", 400, "invalid_value", "ip_version",
         body={"network_id": "n", "cidr": "192.0.2.0/24", "ip_version": 5}),
    Case("GET", "/v1/ports", "agent", 200),
    Case("GET", "/v1/ports?host=compute-2", "agent", 403, "forbidden"),
    Case("GET", "/v1/ports/no-such-port", "member", 404, "not_found"),
    Case("POST", "/v1/ports", "agent", 403, "forbidden", body={"network_id": "n"}),
    Case("POST", "/v1/ports", "member", 404, "not_found", body={"network_id": "no-such-network"}),
    Case("POST", "/v1/ports", "member", 403, "forbidden",
         body={"network_id": "no-such-network", "binding:profile": {"trusted": True}}),
    Case("POST", "/v1/ports", "member", 403, "forbidden",
         body={"network_id": "no-such-network", "binding:host_id": "compute-1"}),
    Case("POST", "/v1/ports", "member", 400, "invalid_value", "mac_address",
         body={"network_id": "n", "mac_address": "ff:ff:ff:ff:ff:ff"}),
    Case("POST", "/v1/ports", "member", 400, "invalid_value", "fixed_ips[0].ip_address",
         body={"network_id": "n", "fixed_ips": [{"ip_address": 7}]}),
    Case("POST", "/v1/ports", "member", 400, "unknown_field", "vnic_type",
         body={"network_id": "n", "vnic_type": "direct"}),
    Case("PUT", "/v1/ports/no-such-port", "member", 404, "not_found", body={"name": "x"}),
    Case("GET", "/v1/qos-policies", "member", 200),
    Case("POST", "/v1/qos-policies", "member", 403, "forbidden", body={"name": "q"}),
    Case("POST", "/v1/qos-policies", "admin", 201, body={"name": "q"}),
    Case("POST", "/v1/qos-policies", "admin", 400, "invalid_value", "rules[0].type",
         body={"name": "q", "rules": [{"type": "packet_rate_limit"}]}),
    Case("POST", "/v1/qos-policies", "admin", 400, "invalid_value", "rules[0].max_kbps",
         body={"name": "q", "rules": [{"type": "bandwidth_limit"}]}),
    Case("DELETE", "/v1/qos-policies/no-such-policy", "admin", 404, "not_found"),
    Case("POST", "/v1/tokens", "admin", 400, "invalid_value", "body", body={"role": "agent"}),
    Case("POST", "/v1/tokens", "admin", 400, "invalid_value", "role", body={"role": "root"}),
]
# fmt: on


@pytest.mark.parametrize("case", CASES, ids=str)
def test_each_declared_request_gets_its_declared_answer(api: Api, case: Case) -> None:
    kwargs = {} if case.body is None else {"json": case.body}
    response = api.call(case.method, case.path, case.caller, **kwargs)
    assert response.status_code == case.status, response.text
    if case.code is None:
        return
    error = response.json()["error"]
    assert error["code"] == case.code
    assert error["field"] == case.field
    assert error["message"]

"""The shared client against the app in-process: values out, vfnet exceptions back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.functional.api.conftest import Api
from vfnet import errors
from vfnet.client import Client


@pytest.fixture
def connect(api: Api) -> Callable[[str], Client]:
    # The test client's transport runs the ASGI app in-process, with no socket.
    transport: httpx.BaseTransport = api.client._transport

    def connect(caller: str) -> Client:
        return Client("http://testserver", api.tokens[caller], transport=transport)

    return connect


def test_the_client_reads_what_the_server_holds(connect: Callable[[str], Client]) -> None:
    with connect("admin") as admin:
        assert [host["name"] for host in admin.list_hosts()] == ["compute-1", "compute-2"]
        assert admin.get_flavor("small")["extra_specs"] == {"pci_passthrough:alias": "x710-vf:1"}
        assert {alias["name"] for alias in admin.list_aliases()} == {"x710-vf", "cx5-pf"}
        assert admin.whoami()["role"] == "admin"


def test_an_agent_reports_and_reads_its_devices_back(connect: Callable[[str], Client]) -> None:
    device = {
        "address": "0000:3b:00.0",
        "dev_type": "type-PF",
        "vendor_id": "8086",
        "product_id": "1572",
        "tags": {"physical_network": "physnet1"},
    }
    with connect("agent") as agent:
        result = agent.report_inventory("compute-1", 1, [device])
    assert result["added"] == ["0000:3b:00.0"]
    with connect("admin") as admin:
        assert [d["physnet"] for d in admin.list_devices(host="compute-1")] == ["physnet1"]


Call = Callable[[Client], Any]


@pytest.mark.parametrize(
    ("caller", "call", "raised", "code"),
    [
        ("member", lambda c: c.list_hosts(), errors.Forbidden, "forbidden"),
        ("member", lambda c: c.get_flavor("nope"), errors.NotFound, "not_found"),
        ("admin", lambda c: c.create_flavor("small"), errors.Conflict, "conflict"),
        ("admin", lambda c: c.create_flavor("x", vcpus=0), errors.ValidationError, "invalid_value"),
        ("agent", lambda c: c.report_inventory("compute-2", 1, []), errors.Forbidden, "forbidden"),
        (
            "member",
            lambda c: c.create_placement("vm", ports=[{"id": "p", "physnet": "x"}]),
            errors.NoValidHost,
            "no_valid_host",
        ),
        (
            "member",
            lambda c: c.create_placement("vm", colour="red"),
            errors.ValidationError,
            "unknown_field",
        ),
    ],
)
def test_server_errors_come_back_as_the_same_vfnet_exceptions(
    connect: Callable[[str], Client], caller: str, call: Call, raised: type, code: str
) -> None:
    with connect(caller) as client, pytest.raises(raised) as caught:
        call(client)
    assert caught.value.code == code


def test_a_wrong_token_raises_unauthorized(api: Api) -> None:
    transport: httpx.BaseTransport = api.client._transport
    client = Client("http://testserver", "wrong", transport=transport)
    with client, pytest.raises(errors.Unauthorized):
        client.list_flavors()


def test_a_validation_error_keeps_its_field(connect: Callable[[str], Client]) -> None:
    with connect("admin") as admin, pytest.raises(errors.ValidationError) as caught:
        admin.create_flavor("x", vcpus=0)
    assert caught.value.field == "vcpus"


def test_the_client_makes_a_network_subnet_policy_and_port_and_tears_them_down(
    connect: Callable[[str], Client],
) -> None:
    with connect("admin") as admin, connect("member") as member:
        policy = admin.create_qos_policy(
            {"name": "gold", "shared": True, "rules": [{"type": "bandwidth_limit", "max_kbps": 1}]}
        )
        net = admin.create_network(
            {"name": "net1", "shared": True, "provider:network_type": "vlan",
             "provider:physical_network": "physnet1", "provider:segmentation_id": 100}
        )  # fmt: skip
        sub = admin.create_subnet({"network_id": net["id"], "cidr": "192.0.2.0/24"})
        made = member.create_port({"network_id": net["id"], "qos_policy_id": policy["id"]})
        assert [p["id"] for p in member.list_ports(network_id=net["id"])] == [made["id"]]
        assert member.update_port(made["id"], {"name": "p1"})["name"] == "p1"
        assert member.get_network(net["id"])["subnets"] == [sub["id"]]
        assert [s["id"] for s in member.list_subnets(network_id=net["id"])] == [sub["id"]]
        assert [q["id"] for q in member.list_qos_policies()] == [policy["id"]]
        with pytest.raises(errors.InUse):
            admin.delete_network(net["id"])
        member.delete_port(made["id"])
        assert admin.update_subnet(sub["id"], {"gateway_ip": None})["gateway_ip"] is None
        admin.delete_subnet(sub["id"])
        admin.update_network(net["id"], {"shared": False})
        assert member.list_networks() == []
        admin.delete_network(net["id"])
        assert admin.get_qos_policy(policy["id"])["name"] == "gold"
        admin.update_qos_policy(policy["id"], {"name": "silver"})
        admin.delete_qos_policy(policy["id"])
        assert admin.list_qos_policies() == []
        with pytest.raises(errors.NotFound):
            member.get_port(made["id"])

"""``vfnet network|subnet|port|qos`` against the API in-process over a real store.

The commands run through click as a user types them; their client reaches the app
through the test client's transport (the ``Connector`` in the context object), so
everything below the HTTP socket is the real server and database.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from click.testing import CliRunner, Result
from fastapi.testclient import TestClient

from vfnet.api.app import create_app
from vfnet.cli.connection import Connector
from vfnet.cli.main import cli
from vfnet.store import Store

SEED_NETWORK = [
    "network", "create", "--provider-network-type", "vlan",
    "--provider-physical-network", "physnet1", "--provider-segment", "100", "net1",
]  # fmt: skip
SEED_SUBNET = ["subnet", "create", "--network", "net1", "--subnet-range", "192.0.2.0/24", "sub1"]
SEED_PORT = ["port", "create", "--network", "net1", "--vnic-type", "direct", "port1"]


@dataclass
class Vfnet:
    """Runs ``vfnet`` commands as the admin (or a member) of a server in-process."""

    runner: CliRunner
    connector: Connector
    tokens: dict[str, str]

    def __call__(self, *args: str, caller: str = "admin") -> Result:
        env = {"VFNET_URL": "http://testserver", "VFNET_TOKEN": self.tokens[caller]}
        return self.runner.invoke(cli, list(args), obj=self.connector, env=env)

    def ok(self, *args: str, caller: str = "admin") -> Result:
        result = self(*args, caller=caller)
        assert result.exit_code == 0, result.output
        return result

    def json(self, *args: str, caller: str = "admin") -> object:
        return json.loads(self.ok(*args, "--json", caller=caller).stdout)


@pytest.fixture
def vfnet(store: Store) -> Iterator[Vfnet]:
    with TestClient(create_app(store), raise_server_exceptions=False) as client:
        tokens = {
            "admin": store.create_token("admin", name="admin")[0],
            "member": store.create_token("member", project="blue", name="member")[0],
        }
        store.register_host("compute-1", physnets=["physnet1"])
        transport: httpx.BaseTransport = client._transport
        yield Vfnet(CliRunner(), Connector(transport), tokens)


def fields(result: Result) -> dict[str, str]:
    """A FIELD/VALUE table back into a dict of its cells."""
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["FIELD", "VALUE"]
    return dict([*line.split(maxsplit=1), "-"][:2] for line in lines[1:])


def test_the_seed_flow_creates_a_vlan_network_a_subnet_and_a_direct_port(vfnet: Vfnet) -> None:
    network = fields(vfnet.ok(*SEED_NETWORK))
    assert network["provider:network_type"] == "vlan"
    assert network["provider:physical_network"] == "physnet1"
    assert network["provider:segmentation_id"] == "100"
    subnet = fields(vfnet.ok(*SEED_SUBNET))
    assert (subnet["cidr"], subnet["gateway_ip"]) == ("192.0.2.0/24", "192.0.2.1")
    assert subnet["network_id"] == network["id"]
    vfnet.ok(*SEED_PORT)

    port = fields(vfnet.ok("port", "show", "port1"))
    assert port["binding:vnic_type"] == "direct"
    assert port["fixed_ips"] == f"subnet_id={subnet['id']},ip_address=192.0.2.2"
    assert port["mac_address"].startswith("fa:16:3e:")
    assert (port["status"], port["binding:vif_type"]) == ("DOWN", "unbound")


def test_every_list_is_a_table_with_the_new_objects(vfnet: Vfnet) -> None:
    for command in (SEED_NETWORK, SEED_SUBNET, SEED_PORT):
        vfnet.ok(*command)
    networks = vfnet.ok("network", "list").stdout.splitlines()
    assert networks[0].split()[:5] == ["ID", "NAME", "TYPE", "PHYSNET", "SEGMENT"]
    assert networks[1].split()[1:5] == ["net1", "vlan", "physnet1", "100"]
    subnets = vfnet.ok("subnet", "list", "--network", "net1").stdout.splitlines()
    assert subnets[1].split()[3:] == ["192.0.2.0/24", "192.0.2.1", "192.0.2.2-192.0.2.254"]
    ports = vfnet.ok("port", "list", "--network", "net1").stdout.splitlines()
    assert ports[1].split()[3:6] == ["192.0.2.2", "direct", "DOWN"]


def test_json_output_parses_and_keeps_the_api_field_names(vfnet: Vfnet) -> None:
    network = vfnet.json(*SEED_NETWORK)
    vfnet.ok(*SEED_SUBNET)
    port = vfnet.json(*SEED_PORT, "--fixed-ip", "subnet=sub1,ip-address=192.0.2.50")
    assert isinstance(network, dict) and isinstance(port, dict)
    assert network["provider:segmentation_id"] == 100
    assert port["network_id"] == network["id"]
    assert [ip["ip_address"] for ip in port["fixed_ips"]] == ["192.0.2.50"]
    listed = vfnet.json("port", "list")
    assert isinstance(listed, list) and [p["id"] for p in listed] == [port["id"]]


def test_a_bad_vlan_is_one_line_naming_the_segmentation_id(vfnet: Vfnet) -> None:
    bad = [arg if arg != "100" else "0" for arg in SEED_NETWORK]
    result = vfnet(*bad)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: provider:segmentation_id: 0 is outside 1-4094")


def test_a_taken_vlan_is_a_conflict_that_exits_1(vfnet: Vfnet) -> None:
    vfnet.ok(*SEED_NETWORK)
    result = vfnet(*SEED_NETWORK[:-1], "net2")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: provider:segmentation_id: ")
    assert "100" in result.stderr and result.stderr.count("\n") == 1


def test_a_name_two_networks_share_is_refused_naming_both_ids(vfnet: Vfnet) -> None:
    first = vfnet.json(*SEED_NETWORK[:-1], "dup")
    second = vfnet.json(*SEED_NETWORK[:-3], "--provider-segment", "101", "dup")
    assert isinstance(first, dict) and isinstance(second, dict)
    result = vfnet("network", "show", "dup")
    assert result.exit_code == 2
    ids = ", ".join(sorted([first["id"], second["id"]]))
    assert (
        result.stderr == f"error: network: 2 networks are named 'dup' ({ids}); give an id instead\n"
    )
    assert fields(vfnet.ok("network", "show", first["id"]))["provider:segmentation_id"] == "100"


def test_deleting_a_network_that_still_has_ports_is_refused_until_they_go(vfnet: Vfnet) -> None:
    for command in (SEED_NETWORK, SEED_SUBNET, SEED_PORT):
        vfnet.ok(*command)
    refused = vfnet("network", "delete", "net1")
    assert refused.exit_code == 1
    assert "still has 1 port" in refused.stderr
    vfnet.ok("port", "delete", "port1")
    vfnet.ok("network", "delete", "net1")
    assert vfnet.json("network", "list") == []


def test_a_qos_policy_gets_rules_and_attaches_to_a_network_by_name(vfnet: Vfnet) -> None:
    vfnet.ok(*SEED_NETWORK)
    vfnet.ok("qos", "create", "gold", "--shared")
    vfnet.ok("qos", "rule", "create", "gold", "--type", "bandwidth-limit", "--max-kbps", "10000")
    vfnet.ok("qos", "rule", "create", "gold", "--type", "minimum-bandwidth", "--min-kbps", "1000")
    policy = vfnet.json("qos", "show", "gold")
    assert isinstance(policy, dict)
    assert [(r["type"], r.get("max_kbps"), r.get("min_kbps")) for r in policy["rules"]] == [
        ("bandwidth_limit", 10000, None),
        ("minimum_bandwidth", None, 1000),
    ]
    network = fields(vfnet.ok("network", "update", "net1", "--qos-policy", "gold"))
    assert network["qos_policy_id"] == policy["id"]
    vfnet.ok("qos", "rule", "delete", "gold", "--type", "bandwidth-limit")
    rules = vfnet.ok("qos", "rule", "list", "gold").stdout.splitlines()
    assert [line.split()[0] for line in rules[1:]] == ["minimum_bandwidth"]


def test_a_min_rate_above_the_max_is_refused_naming_min_kbps(vfnet: Vfnet) -> None:
    vfnet.ok("qos", "create", "gold")
    vfnet.ok("qos", "rule", "create", "gold", "--type", "bandwidth-limit", "--max-kbps", "1000")
    result = vfnet(
        "qos", "rule", "create", "gold", "--type", "minimum-bandwidth", "--min-kbps", "5000"
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("error: rules[1].min_kbps: 5000 kbps is above")


def test_a_member_setting_a_binding_profile_is_forbidden(vfnet: Vfnet) -> None:
    for command in (SEED_NETWORK, SEED_SUBNET):
        vfnet.ok(*command)
    vfnet.ok("network", "update", "net1", "--share")
    result = vfnet(*SEED_PORT, "--binding-profile", "trusted=true", caller="member")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: only an admin may set binding:profile")
    assert fields(vfnet.ok(*SEED_PORT, caller="member"))["project_id"] == "blue"


def test_binding_on_a_host_without_vfs_says_why_and_unset_unbinds(vfnet: Vfnet) -> None:
    for command in (SEED_NETWORK, SEED_SUBNET, SEED_PORT):
        vfnet.ok(*command)
    bound = fields(vfnet.ok("port", "set", "port1", "--host", "compute-1"))
    assert bound["binding:host_id"] == "compute-1"
    assert bound["binding:vif_type"] == "binding_failed"
    assert "compute-1" in bound["binding:failure_reason"]
    unbound = fields(vfnet.ok("port", "unset", "port1", "--host"))
    assert (unbound["binding:host_id"], unbound["binding:vif_type"]) == ("-", "unbound")


def test_an_unknown_port_is_one_line_and_exit_1(vfnet: Vfnet) -> None:
    result = vfnet("port", "show", "nope")
    assert (result.exit_code, result.stderr) == (1, "error: port 'nope' not found\n")


def test_without_a_url_the_command_says_how_to_give_one() -> None:
    result = CliRunner().invoke(cli, ["network", "list"], env={"VFNET_URL": None})
    assert (result.exit_code, result.stderr) == (
        2,
        "error: no server given: set VFNET_URL or pass --url\n",
    )


def test_a_server_that_is_not_there_is_one_line_naming_the_url() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    result = CliRunner().invoke(cli, ["network", "list", "--url", url, "--token", "t"])
    assert (result.exit_code, result.stderr) == (
        1,
        f"error: cannot reach the vfnet server at {url}: connection refused\n",
    )

"""``vfnet host list|show|inspect NAME|forget-refused|release`` against the API in-process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from tests.functional.cli.test_network_commands import SEED_NETWORK, SEED_SUBNET, Vfnet
from tests.functional.store.synthetic import host_report, pf_address, vf_address
from vfnet.api.app import create_app
from vfnet.cli.connection import Connector
from vfnet.cli.main import cli
from vfnet.store import Store

HOST = "compute-1"
PF0, PF1 = str(pf_address(0)), str(pf_address(1))
VF0 = str(vf_address(0, 0))


@pytest.fixture
def vfnet(store: Store) -> Iterator[Vfnet]:
    """compute-1 (its agent verifies resets) with two PFs of two VFs each, and a VLAN
    network whose port ``port1`` is bound there."""
    with TestClient(create_app(store), raise_server_exceptions=False) as client:
        tokens = {"admin": store.create_token("admin", name="admin")[0]}
        store.register_host(HOST, physnets=["physnet1"], manages_vfs=True)
        store.report_inventory(HOST, 1, host_report(2, 2))
        transport: httpx.BaseTransport = client._transport
        made = Vfnet(CliRunner(), Connector(transport), tokens)
        made.ok(*SEED_NETWORK)
        made.ok(*SEED_SUBNET)
        made.ok("port", "create", "--network", "net1", "--vnic-type", "direct", "port1")
        made.ok("port", "set", "port1", "--host", HOST)
        yield made


def port1(vfnet: Vfnet) -> dict[str, Any]:
    found = vfnet.json("port", "show", "port1")
    assert isinstance(found, dict)
    return found


def test_host_list_shows_each_registered_host(vfnet: Vfnet) -> None:
    lines = vfnet.ok("host", "list").stdout.splitlines()
    assert lines[0].split() == ["NAME", "PHYSNETS", "MANAGES", "VFS", "REPORTED", "AT",
                                "PROBLEMS", "REFUSED"]  # fmt: skip
    assert lines[1].split()[:3] == [HOST, "physnet1", "yes"]
    hosts = vfnet.json("host", "list")
    assert isinstance(hosts, list) and [h["name"] for h in hosts] == [HOST]


def test_host_show_gives_the_host_s_fields(vfnet: Vfnet, store: Store) -> None:
    store.record_refused(HOST, {PF0: ["min_tx_rate"]})
    shown = vfnet.json("host", "show", HOST)
    assert isinstance(shown, dict)
    assert (shown["name"], shown["refused"]) == (HOST, {PF0: ["min_tx_rate"]})


def test_inspect_name_prints_the_pf_to_vf_tree_with_owner_port_mac_and_vlan(
    vfnet: Vfnet, store: Store
) -> None:
    store.record_refused(HOST, {PF1: ["mirror"]})
    port = port1(vfnet)
    slot = port["binding:profile"]["pci_slot"]
    vf = store.get_device(HOST, slot).reported
    lines = vfnet.ok("host", "inspect", HOST).stdout.splitlines()
    assert lines[0] == f"host {HOST}: 2 PFs, 4 VFs (1 claimed, 3 free)"
    assert lines[2].split() == ["ADDRESS", "TYPE", "VF", "NETDEV", "PHYSNET", "STATE", "OWNER",
                                "PORT", "MAC", "VLAN", "REFUSED"]  # fmt: skip
    rows = {line.split()[0]: line.split() for line in lines[3:]}
    assert list(rows) == [PF0, VF0, str(vf_address(0, 1)), PF1, str(vf_address(1, 0)),
                          str(vf_address(1, 1))]  # fmt: skip
    assert lines[4].startswith(f"  {VF0}")
    assert rows[slot][1:] == ["type-VF", str(vf.vf_index), str(vf.ifname), "physnet1", "claimed",
                              f"port:{port['id']}", port["id"], port["mac_address"], "100",
                              "-"]  # fmt: skip
    assert rows[PF1][-1] == "mirror"
    assert rows[PF0][5] == "unclaimable"


def test_inspect_name_json_gives_the_same_tree_as_data(vfnet: Vfnet, store: Store) -> None:
    store.record_refused(HOST, {PF1: ["mirror"]})
    view = vfnet.json("host", "inspect", HOST)
    assert isinstance(view, dict)
    assert [pf["address"] for pf in view["pfs"]] == [PF0, PF1]
    assert view["pfs"][1]["refused"] == ["mirror"]
    port = port1(vfnet)
    vfs = {vf["address"]: vf for vf in view["pfs"][0]["vfs"]}
    assert [vf["vf_index"] for vf in vfs.values()] == [0, 1]
    bound = vfs[port["binding:profile"]["pci_slot"]]
    assert (bound["state"], bound["port_id"], bound["mac"], bound["vlan"]) == (
        "claimed",
        port["id"],
        port["mac_address"],
        "100",
    )


def test_inspect_of_an_unknown_host_names_the_host_and_the_server(vfnet: Vfnet) -> None:
    result = vfnet("host", "inspect", "nowhere")
    assert result.exit_code == 1
    assert (
        result.stderr == "error: host 'nowhere' is not known to the server at http://testserver\n"
    )


def test_inspect_name_with_sysfs_is_a_usage_error(vfnet: Vfnet) -> None:
    result = vfnet("host", "inspect", HOST, "--sysfs", "/sys")
    assert result.exit_code == 2
    assert "NAME asks the server; --sysfs and --config read locally" in result.stderr


def test_inspect_name_without_a_server_says_how_to_give_one() -> None:
    result = CliRunner().invoke(cli, ["host", "inspect", HOST], env={"VFNET_URL": ""})
    assert result.exit_code == 2
    assert result.stderr == "error: no server given: set VFNET_URL or pass --url\n"


def test_forget_refused_clears_one_pf_and_says_what_is_left(vfnet: Vfnet, store: Store) -> None:
    store.record_refused(HOST, {PF0: ["min_tx_rate"], PF1: ["mirror"]})
    result = vfnet.ok("host", "forget-refused", HOST, "--pf", PF0)
    assert result.stdout == f"host {HOST}: forgot what {PF0} refused; still refused: {PF1} mirror\n"
    assert store.get_host(HOST).refused == {PF1: ("mirror",)}


def test_forget_refused_of_a_pf_with_nothing_recorded_fails_naming_it(vfnet: Vfnet) -> None:
    result = vfnet("host", "forget-refused", HOST, "--pf", PF1)
    assert result.exit_code == 1
    assert PF1 in result.stderr


def test_release_without_force_explains_why_it_refuses(vfnet: Vfnet) -> None:
    result = vfnet("host", "release", HOST, VF0)
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"error: {VF0} is freed when the agent of {HOST} resets it and reports the reset verified"
    )


def test_release_force_frees_a_vf_left_releasing(vfnet: Vfnet, store: Store) -> None:
    slot = port1(vfnet)["binding:profile"]["pci_slot"]
    vfnet.ok("port", "unset", "port1", "--host")
    assert store.get_device(HOST, slot).state == "releasing"
    result = vfnet.ok("host", "release", HOST, slot, "--force")
    assert result.stdout == f"host {HOST}: {slot} is available, freed without its reset\n"
    assert store.get_device(HOST, slot).state == "available"


def test_release_force_of_a_vf_in_use_fails_with_its_state(vfnet: Vfnet) -> None:
    slot = port1(vfnet)["binding:profile"]["pci_slot"]
    result = vfnet("host", "release", HOST, slot, "--force")
    assert result.exit_code == 1
    assert f"{slot} of host {HOST} is claimed, not releasing" in result.stderr


@pytest.mark.parametrize(
    "command", ["list", "show", "inspect", "forget-refused", "release", "generate"]
)
def test_every_host_command_has_help_with_an_example(command: str) -> None:
    result = CliRunner().invoke(cli, ["host", command, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output and f"vfnet host {command}" in result.output


def test_json_output_is_parseable_for_list(vfnet: Vfnet) -> None:
    assert json.loads(vfnet.ok("host", "list", "--json").stdout)[0]["name"] == HOST

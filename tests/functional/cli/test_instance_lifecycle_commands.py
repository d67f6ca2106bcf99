"""``vfnet instance port add|remove``, ``suspend``, ``resume`` and ``migrate`` against the API
in-process over a real store."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from tests.functional.cli.test_instance_commands import DEVICES, TAGS, seeded
from tests.functional.cli.test_network_commands import Vfnet, fields, vfnet
from vfnet.api.app import create_app
from vfnet.api.handlers.instances import migration_settings
from vfnet.api.migration import MigrationSettings
from vfnet.cli.connection import Connector
from vfnet.store import Store

__all__ = ["seeded", "vfnet"]  # fixtures shared with the instance command tests


def active(store: Store, vfnet: Vfnet, *ports: str, name: str = "web") -> str:
    """An instance with ``ports`` on compute-1, made ACTIVE as its agent would report."""
    args = [arg for port in ports for arg in ("--port", port)]
    made = fields(vfnet.ok("instance", "create", "--kind", "container", *args, name))
    store.update_instance(made["id"], state="ACTIVE")
    return made["id"]


def test_port_add_and_remove_plug_a_vf_hot_and_give_it_back(seeded: Vfnet, store: Store) -> None:
    active(store, seeded, "port1")
    added = fields(seeded.ok("instance", "port", "add", "web", "port2"))
    assert [p.split("(")[1].split("/")[0] for p in added["ports"].split(",")] == ["eth0", "eth1"]
    assert len(added["devices"].split(",")) == 2
    seeded.ok("instance", "port", "remove", "web", "port1")
    after = fields(seeded.ok("instance", "show", "web"))
    assert after["ports"].startswith(fields(seeded.ok("port", "show", "port2"))["id"])
    assert fields(seeded.ok("port", "show", "port1"))["binding:host_id"] == "-"


def test_port_add_wants_a_port_or_a_network_and_remove_names_a_stranger(
    seeded: Vfnet, store: Store
) -> None:
    active(store, seeded, "port1")
    assert seeded("instance", "port", "add", "web").exit_code == 2
    both = seeded("instance", "port", "add", "web", "port2", "--network", "net1")
    assert both.exit_code == 2 and "either a PORT or --network" in both.output
    stranger = seeded("instance", "port", "remove", "web", "port2")
    assert stranger.exit_code == 1 and "is not attached to instance" in stranger.output


def test_suspend_and_resume_show_the_state_and_a_second_suspend_names_it(
    seeded: Vfnet, store: Store
) -> None:
    active(store, seeded, "port1")
    assert fields(seeded.ok("instance", "suspend", "web"))["state"] == "SUSPENDED"
    again = seeded("instance", "suspend", "web")
    assert again.exit_code == 1 and "SUSPENDED" in again.output
    assert fields(seeded.ok("instance", "resume", "web"))["state"] == "ACTIVE"


def test_migrate_moves_the_instance_and_says_where_from(seeded: Vfnet, store: Store) -> None:
    active(store, seeded, "port1", "port2")
    store.register_host("compute-2", physnets=["physnet1"])
    with seeded.connector.open("http://testserver", seeded.tokens["admin"]) as client:
        client.report_inventory("compute-2", 1, DEVICES)
    result = seeded.ok("instance", "migrate", "web", "--live")
    assert result.stdout.splitlines()[0] == "migrating web from compute-1 (live)"
    moved = fields(seeded.ok("instance", "show", "web"))
    assert (moved["host"], moved["state"], moved["migration"]) == ("compute-2", "ACTIVE", "-")


def test_an_ha_group_puts_its_two_ports_on_vfs_of_two_pfs(seeded: Vfnet) -> None:
    second_pf = {**DEVICES[0], "address": "0000:3b:00.1", "ifname": "ens1f1",
                 "mac": "3c:fd:fe:a0:00:01"}  # fmt: skip
    its_vf = {**DEVICES[1], "address": "0000:3b:0a.0", "parent_addr": "0000:3b:00.1",
              "vf_index": 0, "tags": TAGS}  # fmt: skip
    with seeded.connector.open("http://testserver", seeded.tokens["admin"]) as client:
        client.report_inventory("compute-1", 2, [*DEVICES, second_pf, its_vf])
    made = seeded.json("instance", "create", "--kind", "container", "--port", "port1",
                       "--port", "port2", "--ha-group", "bond0=port1,port2", "web")  # fmt: skip
    assert isinstance(made, dict)
    parents = {p["pci_slot"].rsplit(":", 1)[1].split(".")[0] for p in made["ports"]}
    assert parents == {"02", "0a"}


@pytest.fixture
def slow(store: Store) -> Iterator[Vfnet]:
    """A server whose migrations give agents 3 s, with compute-2's agent never answering."""
    app = create_app(store)
    settings = MigrationSettings(timeout=3.0, poll_interval=0.05)
    app.dependency_overrides[migration_settings] = lambda: settings
    with TestClient(app, raise_server_exceptions=False) as client:
        tokens = {"admin": store.create_token("admin", name="admin")[0]}
        transport: httpx.BaseTransport = client._transport
        yield Vfnet(CliRunner(), Connector(transport), tokens)


def test_a_migration_that_times_out_shows_its_progress_and_fails_naming_why(
    slow: Vfnet, store: Store
) -> None:
    store.register_host("compute-1", physnets=["physnet1"])
    store.register_host("compute-2", physnets=["physnet1"], manages_vfs=True)
    with slow.connector.open("http://testserver", slow.tokens["admin"]) as client:
        client.report_inventory("compute-1", 1, DEVICES)
        net = client.create_network(
            {"name": "net1", "provider:network_type": "vlan",
             "provider:physical_network": "physnet1", "provider:segmentation_id": 100}
        )  # fmt: skip
        client.create_subnet({"network_id": net["id"], "cidr": "192.0.2.0/24"})
        made = client.create_port({"network_id": net["id"], "binding:vnic_type": "direct"})
    active(store, slow, made["id"])
    with slow.connector.open("http://testserver", slow.tokens["admin"]) as client:
        client.report_inventory("compute-2", 1, DEVICES)
    result = slow("instance", "migrate", "web", "--host", "compute-2")
    assert result.exit_code == 1, result.output
    assert "  cold moving compute-1 -> compute-2" in result.stdout.splitlines()
    assert "stayed on compute-1" in result.output
    assert "did not report every port ACTIVE within 3 s" in result.output

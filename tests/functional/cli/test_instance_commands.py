"""``vfnet instance`` against the API in-process over a real store: create, show, list, delete."""

from __future__ import annotations

from typing import Any

import pytest

from tests.functional.cli.test_network_commands import (
    SEED_NETWORK,
    SEED_SUBNET,
    Vfnet,
    fields,
    vfnet,
)

__all__ = ["vfnet"]  # the fixture, shared with the network command tests

PF = "0000:3b:00.0"
TAGS = {"physical_network": "physnet1"}
DEVICES: list[dict[str, Any]] = [
    {"address": PF, "dev_type": "type-PF", "vendor_id": "8086", "product_id": "1572",
     "ifname": "ens1f0", "mac": "3c:fd:fe:a0:00:00", "tags": TAGS},
    *({"address": f"0000:3b:02.{i}", "dev_type": "type-VF", "vendor_id": "8086",
       "product_id": "154c", "parent_addr": PF, "vf_index": i, "tags": TAGS} for i in range(2)),
]  # fmt: skip


@pytest.fixture
def seeded(vfnet: Vfnet) -> Vfnet:
    """net1/sub1 on physnet1, two direct ports, and compute-1 with a PF of two VFs."""
    vfnet.ok(*SEED_NETWORK)
    vfnet.ok(*SEED_SUBNET)
    for name in ("port1", "port2"):
        vfnet.ok("port", "create", "--network", "net1", "--vnic-type", "direct", name)
    with vfnet.connector.open("http://testserver", vfnet.tokens["admin"]) as client:
        client.report_inventory("compute-1", 1, DEVICES)
    return vfnet


def test_instance_create_binds_both_ports_and_shows_them_in_order(seeded: Vfnet) -> None:
    made = fields(seeded.ok("instance", "create", "--kind", "container",
                            "--port", "port1", "--port", "port2", "web"))  # fmt: skip
    assert (made["name"], made["kind"], made["state"], made["host"]) == (
        "web", "container", "BUILD", "compute-1")  # fmt: skip
    ports = made["ports"].split(",")
    assert [p.split("(")[1].split("/")[0] for p in ports] == ["eth0", "eth1"]
    assert sorted(made["devices"].split(",")) == ["0000:3b:02.0", "0000:3b:02.1"]


def test_instance_show_and_list_find_it_by_name_and_json_gives_the_api_object(
    seeded: Vfnet,
) -> None:
    made = seeded.json("instance", "create", "--kind", "vm", "--port", "port1", "vm1")
    assert isinstance(made, dict)
    shown = seeded.json("instance", "show", "vm1")
    assert isinstance(shown, dict) and shown["id"] == made["id"]
    assert shown["ports"][0]["vif_type"] == "hw_veb"
    listing = seeded.ok("instance", "list").stdout.splitlines()
    assert listing[0].split()[:5] == ["ID", "NAME", "KIND", "HOST", "STATE"]
    assert listing[1].split()[:5] == [made["id"], "vm1", "vm", "compute-1", "BUILD"]


def test_instance_delete_gives_the_vfs_and_ports_back(seeded: Vfnet) -> None:
    seeded.ok("instance", "create", "--kind", "container", "--port", "port1", "web")
    seeded.ok("instance", "delete", "web")
    assert seeded.json("instance", "list") == []
    port = fields(seeded.ok("port", "show", "port1"))
    assert (port["binding:host_id"], port["device_id"]) == ("-", "-")
    again = fields(seeded.ok("instance", "create", "--kind", "container", "--port", "port1", "w2"))
    assert again["state"] == "BUILD"


def test_instance_create_with_a_port_held_by_another_instance_fails_naming_it(
    seeded: Vfnet,
) -> None:
    seeded.ok("instance", "create", "--kind", "container", "--port", "port1", "web")
    port1 = fields(seeded.ok("port", "show", "port1"))["id"]
    result = seeded("instance", "create", "--kind", "vm", "--port", "port1", "vm1")
    assert result.exit_code != 0
    assert port1 in result.output and "already bound" in result.output


def test_an_ha_group_that_is_not_group_equals_ports_is_refused(seeded: Vfnet) -> None:
    result = seeded("instance", "create", "--kind", "container", "--port", "port1",
                    "--ha-group", "bond0", "web")  # fmt: skip
    assert result.exit_code == 2
    assert "GROUP=PORT,PORT" in result.output


def test_instance_create_on_a_named_host_lands_there_or_says_why_not(seeded: Vfnet) -> None:
    pinned = seeded.json("instance", "create", "--kind", "container", "--port", "port1",
                         "--host", "compute-1", "pinned")  # fmt: skip
    assert isinstance(pinned, dict) and (pinned["state"], pinned["host"]) == ("BUILD", "compute-1")
    elsewhere = seeded.json("instance", "create", "--kind", "container", "--port", "port2",
                            "--host", "compute-9", "elsewhere")  # fmt: skip
    assert isinstance(elsewhere, dict) and elsewhere["state"] == "ERROR"
    assert "host compute-9 cannot take the instance" in elsewhere["reason"]

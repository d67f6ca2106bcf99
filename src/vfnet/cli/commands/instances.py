"""``vfnet instance``: VMs and containers with SR-IOV (and normal) ports, through the API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from vfnet.cli.arguments import examples, json_option
from vfnet.cli.commands.networks import network_id
from vfnet.cli.commands.ports import port_id
from vfnet.cli.connection import api_command
from vfnet.cli.lookup import Json, find
from vfnet.cli.output import echo_object, echo_rows
from vfnet.client import Client

COLUMNS = ("id", "name", "kind", "host", "state", "ports", "reason")


def find_instance(client: Client, ident: str) -> Json:
    """The instance ``ident`` names (an id or a name)."""
    return find("instance", ident, client.get_instance, client.list_instances)


def _readable(instance: Mapping[str, Any]) -> dict[str, Any]:
    """Ports as ``id=slot`` (with ``ifname`` in a container) and devices as addresses."""
    ports = []
    for item in instance.get("ports", []):
        where = "/".join(str(x) for x in (item.get("ifname"), item.get("pci_slot")) if x)
        ports.append(f"{item['id']}({where})" if where else item["id"])
    devices = [device["address"] for device in instance.get("devices", [])]
    return {**instance, "ports": ports, "devices": devices}


@click.group(
    epilog=examples("vfnet instance create --kind container --port port1 --port port2 web")
)
def instance() -> None:
    """Instances: VMs and containers; their ports get VFs on one host, chosen by the scheduler."""


@instance.command(
    epilog=examples(
        "vfnet instance create --kind container --port port1 --port port2 web",
        "vfnet instance create --kind vm --port port1 --network net2 --flavor gpu-small vm1",
        "vfnet instance create --kind container --port a --port b --ha-group bond0=a,b ha",
    )
)
@click.argument("name")
@click.option("--kind", required=True, type=click.Choice(["container", "vm"]),
              help="A container (network namespace) or a VM (libvirt domain).")  # fmt: skip
@click.option("--port", "ports", multiple=True, metavar="PORT",
              help="An existing port (name or id), in interface order; repeatable.")  # fmt: skip
@click.option("--network", "networks", multiple=True, metavar="NET",
              help="Make a normal port on this network (name or id); repeatable.")  # fmt: skip
@click.option("--flavor", metavar="FLAVOR", help="Flavor whose PCI aliases it also gets.")
@click.option("--ha-group", "ha_groups", multiple=True, metavar="GROUP=PORT,PORT",
              help="Ports to get VFs of different PFs (an HA pair); repeatable.")  # fmt: skip
@json_option
@api_command
def create(
    client: Client,
    name: str,
    kind: str,
    ports: tuple[str, ...],
    networks: tuple[str, ...],
    flavor: str | None,
    ha_groups: tuple[str, ...],
    as_json: bool,
) -> None:
    """Create an instance: schedule, claim and bind every port (ERROR shows why not)."""
    ids = {ident: port_id(client, ident) for ident in ports}
    body: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "ports": list(ids.values()),
        "networks": [network_id(client, net) for net in networks],
    }
    if flavor is not None:
        body["flavor"] = flavor
    if ha_groups:
        body["ha_groups"] = _groups(client, ha_groups, ids)
    made = client.create_instance(body)
    echo_object(made if as_json else _readable(made), as_json)


def _groups(client: Client, texts: tuple[str, ...], ids: Mapping[str, str]) -> dict[str, Any]:
    groups: dict[str, list[str]] = {}
    for text in texts:
        group, sep, members = text.partition("=")
        if not sep or not group or not members:
            raise click.BadParameter(f"{text!r} is not GROUP=PORT,PORT", param_hint="--ha-group")
        groups[group] = [ids.get(m) or port_id(client, m) for m in members.split(",")]
    return groups


@instance.command("list", epilog="Example: vfnet instance list --json")
@json_option
@api_command
def list_(client: Client, as_json: bool) -> None:
    """List instances (an admin sees every project's)."""
    echo_rows(client.list_instances(), COLUMNS, as_json, row=_readable)


@instance.command(epilog="Example: vfnet instance show web")
@click.argument("ident", metavar="INSTANCE")
@json_option
@api_command
def show(client: Client, ident: str, as_json: bool) -> None:
    """Show one instance: host, state, reason, ports and devices (name or id)."""
    found = find_instance(client, ident)
    echo_object(found if as_json else _readable(found), as_json)


@instance.command(epilog="Example: vfnet instance delete web")
@click.argument("idents", nargs=-1, required=True, metavar="INSTANCE...")
@api_command
def delete(client: Client, idents: tuple[str, ...]) -> None:
    """Delete instances: ports unbound, devices released, made ports deleted."""
    for ident in idents:
        client.delete_instance(str(find_instance(client, ident)["id"]))

"""``vfnet instance``: VMs and containers with SR-IOV (and normal) ports, through the API."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import click

from vfnet.cli.arguments import examples, json_option
from vfnet.cli.commands.networks import network_id
from vfnet.cli.commands.ports import port_id
from vfnet.cli.connection import api_command
from vfnet.cli.failures import BadInput, CommandFailed
from vfnet.cli.lookup import Json, find
from vfnet.cli.output import echo_object, echo_rows
from vfnet.client import Client

COLUMNS = ("id", "name", "kind", "host", "state", "ports", "reason")
PROGRESS_INTERVAL = 0.5  # seconds between looks at a migration under way


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
    return {**instance, "ports": ports, "devices": devices, "migration": _moving(instance)}


def _moving(instance: Mapping[str, Any]) -> str | None:
    """A migration under way in words: ``live unplugging compute-1 -> compute-2``."""
    migration = instance.get("migration")
    if not migration:
        return None
    kind = "live" if migration["live"] else "cold"
    return f"{kind} {migration['phase']} {migration['source']} -> {migration['target']}"


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
        "vfnet instance create --kind container --port port1 --host compute-2 pinned",
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
@click.option("--host", metavar="HOST",
              help="Admins: place it on this host (it must fit as any other would).")  # fmt: skip
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
    host: str | None,
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
    if host is not None:
        body["host"] = host
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


@instance.command(epilog="Example: vfnet instance suspend web")
@click.argument("ident", metavar="INSTANCE")
@json_option
@api_command
def suspend(client: Client, ident: str, as_json: bool) -> None:
    """Suspend an ACTIVE instance: its VFs are unplugged but stay claimed for it."""
    done = client.suspend_instance(str(find_instance(client, ident)["id"]))
    echo_object(done if as_json else _readable(done), as_json)


@instance.command(epilog="Example: vfnet instance resume web")
@click.argument("ident", metavar="INSTANCE")
@json_option
@api_command
def resume(client: Client, ident: str, as_json: bool) -> None:
    """Resume a SUSPENDED instance: its VFs are plugged back."""
    done = client.resume_instance(str(find_instance(client, ident)["id"]))
    echo_object(done if as_json else _readable(done), as_json)


@instance.group(
    epilog=examples("vfnet instance port add web port3", "vfnet instance port remove web port3")
)
def port() -> None:
    """Ports of a running instance: attach and detach them hot."""


@port.command(
    "add",
    epilog=examples(
        "vfnet instance port add web port3",
        "vfnet instance port add web --network net2",
    ),
)
@click.argument("ident", metavar="INSTANCE")
@click.argument("port_ident", metavar="[PORT]", required=False)
@click.option("--network", metavar="NET", help="Make a normal port on this network instead.")
@json_option
@api_command
def port_add(
    client: Client, ident: str, port_ident: str | None, network: str | None, as_json: bool
) -> None:
    """Attach a port (or a new normal port on --network) as the instance's next interface,
    on a VF of the instance's host."""
    if (port_ident is None) == (network is None):
        raise BadInput("give either a PORT or --network NET")
    instance_id = str(find_instance(client, ident)["id"])
    if port_ident is not None:
        done = client.attach_instance_port(instance_id, port_id=port_id(client, port_ident))
    else:
        done = client.attach_instance_port(instance_id, network_id=network_id(client, str(network)))
    echo_object(done if as_json else _readable(done), as_json)


@port.command("remove", epilog="Example: vfnet instance port remove web port3")
@click.argument("ident", metavar="INSTANCE")
@click.argument("port_ident", metavar="PORT")
@api_command
def port_remove(client: Client, ident: str, port_ident: str) -> None:
    """Detach a port: its VF is released, the port kept (deleted if the instance made it)."""
    instance_id = str(find_instance(client, ident)["id"])
    client.detach_instance_port(instance_id, port_id(client, port_ident))


@instance.command(
    epilog=examples(
        "vfnet instance migrate web --live",
        "vfnet instance migrate web --host compute-2",
    )
)
@click.argument("ident", metavar="INSTANCE")
@click.option("--host", metavar="HOST", help="The target host (default: the scheduler's choice).")
@click.option("--live", is_flag=True, help="Unplug the VFs on the source before the move.")
@json_option
@api_command
def migrate(client: Client, ident: str, host: str | None, live: bool, as_json: bool) -> None:
    """Move an ACTIVE instance to another host: VFs claimed there first, every port
    rebound with its MAC and VLAN, the source's VFs released; rolled back on failure."""
    found = find_instance(client, ident)
    instance_id, source = str(found["id"]), found.get("host")
    answer: dict[str, Any] = {}

    def call() -> None:
        try:
            answer["done"] = client.migrate_instance(instance_id, host=host, live=live)
        except Exception as error:  # raised again in this thread, below
            answer["error"] = error

    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    if not as_json:
        click.echo(f"migrating {found['name']} from {source}" + (" (live)" if live else ""))
    seen: str | None = None
    while worker.is_alive():
        worker.join(PROGRESS_INTERVAL)
        if worker.is_alive() and not as_json:
            now = _moving(client.get_instance(instance_id))
            if now is not None and now != seen:
                click.echo(f"  {now}")
                seen = now
    if "error" in answer:
        raise answer["error"]
    done = answer["done"]
    echo_object(done if as_json else _readable(done), as_json)
    if done.get("host") == source:
        raise CommandFailed(f"instance {found['name']} stayed on {source}: {done.get('reason')}")

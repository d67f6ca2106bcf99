"""``vfnet subnet``: a network's IPv4 or IPv6 range, gateway and allocation pools."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from vfnet.cli.arguments import ALLOCATION_POOL, examples, given, json_option
from vfnet.cli.commands.networks import network_id
from vfnet.cli.connection import api_command
from vfnet.cli.lookup import Json, find
from vfnet.cli.output import Column, echo_object, echo_rows
from vfnet.client import Client

COLUMNS = (
    "id", "name", Column("network_id", "NETWORK"), Column("cidr", "SUBNET"),
    Column("gateway_ip", "GATEWAY"), Column("allocation_pools", "POOLS"),
)  # fmt: skip
# ``--gateway`` words that are not addresses: no gateway at all, or the default (first host).
NO_GATEWAY = "none"
AUTO_GATEWAY = "auto"


def find_subnet(client: Client, ident: str, *, network: str | None = None) -> Json:
    """The subnet ``ident`` names (an id, or a name within ``network`` if given)."""
    return find("subnet", ident, client.get_subnet, lambda: client.list_subnets(network_id=network))


def subnet_id(client: Client, ident: str, *, network: str | None = None) -> str:
    return str(find_subnet(client, ident, network=network)["id"])


def gateway_field(text: str | None) -> dict[str, Any]:
    """The ``gateway_ip`` part of a body: left out for the default, ``None`` for no gateway."""
    if text is None or text.lower() == AUTO_GATEWAY:
        return {}
    return {"gateway_ip": None if text.lower() == NO_GATEWAY else text}


def _row(subnet: Mapping[str, Any]) -> dict[str, Any]:
    pools = [f"{pool['start']}-{pool['end']}" for pool in subnet.get("allocation_pools", [])]
    return {**subnet, "allocation_pools": pools}


@click.group(epilog="Example: vfnet subnet create --network net1 --subnet-range 192.0.2.0/24 sub1")
def subnet() -> None:
    """Subnets: the addresses a network's ports get their fixed IPs from."""


@subnet.command(
    epilog=examples(
        "vfnet subnet create --network net1 --subnet-range 192.0.2.0/24 sub1",
        "vfnet subnet create --network net1 --subnet-range 198.51.100.0/24 --gateway none "
        "--allocation-pool start=198.51.100.10,end=198.51.100.99 sub2",
        "vfnet subnet create --network net1 --subnet-range 2001:db8::/64 sub6",
    )
)
@click.argument("name")
@click.option("--network", "net", required=True, metavar="NET", help="Network (name or id).")
@click.option("--subnet-range", "cidr", required=True, metavar="CIDR",
              help="The subnet, e.g. 192.0.2.0/24 or 2001:db8::/64.")  # fmt: skip
@click.option("--gateway", metavar="IP|auto|none",
              help="Gateway; 'auto' (default): the first host; 'none': no gateway.")  # fmt: skip
@click.option("--allocation-pool", "pools", type=ALLOCATION_POOL, multiple=True,
              metavar="start=IP,end=IP",
              help="Where fixed IPs come from; repeatable [default: whole subnet].")  # fmt: skip
@click.option("--ip-version", type=click.Choice(["4", "6"]),
              help="Checked against the range [default: the range's].")  # fmt: skip
@json_option
@api_command
def create(
    client: Client,
    name: str,
    net: str,
    cidr: str,
    gateway: str | None,
    pools: tuple[dict[str, str], ...],
    ip_version: str | None,
    as_json: bool,
) -> None:
    """Create a subnet on a network (admin)."""
    body: dict[str, Any] = {"name": name, "network_id": network_id(client, net), "cidr": cidr}
    body.update(gateway_field(gateway))
    if pools:
        body["allocation_pools"] = list(pools)
    if ip_version is not None:
        body["ip_version"] = int(ip_version)
    echo_object(client.create_subnet(body), as_json)


@subnet.command("list", epilog="Example: vfnet subnet list --network net1")
@click.option("--network", "net", metavar="NET", help="Only this network's subnets.")
@json_option
@api_command
def list_(client: Client, net: str | None, as_json: bool) -> None:
    """List subnets."""
    found = client.list_subnets(network_id=network_id(client, net) if net is not None else None)
    echo_rows(found, COLUMNS, as_json, row=_row)


@subnet.command(epilog="Example: vfnet subnet show sub1")
@click.argument("sub", metavar="SUBNET")
@json_option
@api_command
def show(client: Client, sub: str, as_json: bool) -> None:
    """Show one subnet (SUBNET is a name or an id)."""
    echo_object(find_subnet(client, sub), as_json)


@subnet.command(epilog="Example: vfnet subnet update sub1 --name storage --gateway none")
@click.argument("sub", metavar="SUBNET")
@click.option("--name", help="New name.")
@click.option("--gateway", metavar="IP|none", help="New gateway address, or 'none'.")
@json_option
@api_command
def update(client: Client, sub: str, name: str | None, gateway: str | None, as_json: bool) -> None:
    """Rename a subnet or change its gateway (admin)."""
    body = {**given(name=name), **gateway_field(gateway)}
    if not body:
        raise click.UsageError("nothing to change; see --help")
    echo_object(client.update_subnet(subnet_id(client, sub), body), as_json)


@subnet.command(epilog="Example: vfnet subnet delete sub1")
@click.argument("subs", nargs=-1, required=True, metavar="SUBNET...")
@api_command
def delete(client: Client, subs: tuple[str, ...]) -> None:
    """Delete subnets; refused while a port holds one of their addresses."""
    for sub in subs:
        client.delete_subnet(subnet_id(client, sub))

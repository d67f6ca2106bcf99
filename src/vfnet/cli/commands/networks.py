"""``vfnet network``: provider networks (flat or vlan on a physical network) through the API."""

from __future__ import annotations

from typing import Any

import click

from vfnet.cli.arguments import examples, given, json_option
from vfnet.cli.commands.qos import policy_id
from vfnet.cli.connection import api_command
from vfnet.cli.lookup import Json, find
from vfnet.cli.output import Column, echo_object, echo_rows
from vfnet.client import Client

COLUMNS = (
    "id", "name", Column("provider:network_type", "TYPE"),
    Column("provider:physical_network", "PHYSNET"), Column("provider:segmentation_id", "SEGMENT"),
    "mtu", "shared", "status", "subnets",
)  # fmt: skip


def find_network(client: Client, ident: str) -> Json:
    """The network ``ident`` names (an id or a name)."""
    return find("network", ident, client.get_network, client.list_networks)


def network_id(client: Client, ident: str) -> str:
    return str(find_network(client, ident)["id"])


@click.group(
    epilog=examples(
        "vfnet network create --provider-network-type vlan --provider-physical-network physnet1 "
        "--provider-segment 100 net1"
    )
)
def network() -> None:
    """Networks: a flat or VLAN segment on a physical network that VFs attach to."""


@network.command(
    epilog=examples(
        "vfnet network create --provider-network-type vlan --provider-physical-network physnet1 "
        "--provider-segment 100 net1",
        "vfnet network create --provider-network-type flat --provider-physical-network physnet2 "
        "--shared flat-net",
        "vfnet network create --provider-network-type vlan --provider-physical-network physnet1 "
        "--provider-segment 200 --mtu 9000 jumbo",
    )
)
@click.argument("name")
@click.option("--provider-network-type", "network_type", required=True, metavar="TYPE",
              help="flat or vlan (what a VF can reach).")  # fmt: skip
@click.option("--provider-physical-network", "physnet", metavar="PHYSNET",
              help="The physical network, as hosts name it in their device_spec.")  # fmt: skip
@click.option("--provider-segment", "segment", type=int, metavar="VLAN",
              help="The VLAN id (1-4094) of a vlan network.")  # fmt: skip
@click.option("--shared", is_flag=True, help="Let every project use the network.")
@click.option("--disable", is_flag=True, help="Create it administratively down.")
@click.option("--qos-policy", metavar="POLICY", help="QoS policy (name or id) for its ports.")
@click.option("--mtu", type=int, metavar="BYTES",
              help="MTU of its ports' netdevs, 68-9216 [default: 1500].")  # fmt: skip
@json_option
@api_command
def create(
    client: Client,
    name: str,
    network_type: str,
    physnet: str | None,
    segment: int | None,
    shared: bool,
    disable: bool,
    qos_policy: str | None,
    mtu: int | None,
    as_json: bool,
) -> None:
    """Create a provider network (admin)."""
    body: dict[str, Any] = {
        "name": name,
        "provider:network_type": network_type,
        "admin_state_up": not disable,
        "shared": shared,
    }
    if physnet is not None:
        body["provider:physical_network"] = physnet
    if segment is not None:
        body["provider:segmentation_id"] = segment
    if qos_policy is not None:
        body["qos_policy_id"] = policy_id(client, qos_policy)
    if mtu is not None:
        body["mtu"] = mtu
    echo_object(client.create_network(body), as_json)


@network.command("list", epilog="Example: vfnet network list --json")
@json_option
@api_command
def list_(client: Client, as_json: bool) -> None:
    """List the networks this token can see (its project's and shared ones)."""
    echo_rows(client.list_networks(), COLUMNS, as_json)


@network.command(epilog="Example: vfnet network show net1")
@click.argument("net")
@json_option
@api_command
def show(client: Client, net: str, as_json: bool) -> None:
    """Show one network (NET is a name or an id)."""
    echo_object(find_network(client, net), as_json)


@network.command(
    epilog=examples(
        "vfnet network update net1 --qos-policy gold --share",
        "vfnet network update net1 --mtu 9000",
    )
)
@click.argument("net")
@click.option("--name", help="New name.")
@click.option("--enable/--disable", "admin_state_up", default=None, help="Administrative state.")
@click.option("--share/--no-share", "shared", default=None, help="Shared with every project.")
@click.option("--qos-policy", metavar="POLICY", help="QoS policy (name or id) for its ports.")
@click.option("--no-qos-policy", is_flag=True, help="Remove the network's QoS policy.")
@click.option("--mtu", type=int, metavar="BYTES",
              help="MTU of its ports' netdevs, 68-9216; bound ports' hosts apply it.")  # fmt: skip
@json_option
@api_command
def update(
    client: Client,
    net: str,
    name: str | None,
    admin_state_up: bool | None,
    shared: bool | None,
    qos_policy: str | None,
    no_qos_policy: bool,
    mtu: int | None,
    as_json: bool,
) -> None:
    """Change a network's name, state, sharing, QoS policy or MTU (admin)."""
    body = given(name=name, admin_state_up=admin_state_up, shared=shared, mtu=mtu)
    if qos_policy is not None and no_qos_policy:
        raise click.UsageError("--qos-policy and --no-qos-policy exclude each other")
    if qos_policy is not None:
        body["qos_policy_id"] = policy_id(client, qos_policy)
    elif no_qos_policy:
        body["qos_policy_id"] = None
    if not body:
        raise click.UsageError("nothing to change; see --help")
    echo_object(client.update_network(network_id(client, net), body), as_json)


@network.command(epilog="Example: vfnet network delete net1 net2")
@click.argument("nets", nargs=-1, required=True, metavar="NET...")
@api_command
def delete(client: Client, nets: tuple[str, ...]) -> None:
    """Delete networks and their subnets; refused while a network has ports."""
    for net in nets:
        client.delete_network(network_id(client, net))

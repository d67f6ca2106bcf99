"""``vfnet port``: ports with a vnic type, MAC and fixed IPs; binding them on a host."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from vfnet.cli.arguments import FIXED_IP, PROFILE, examples, given, json_option
from vfnet.cli.commands.networks import network_id
from vfnet.cli.commands.qos import policy_id
from vfnet.cli.commands.subnets import subnet_id
from vfnet.cli.connection import api_command
from vfnet.cli.lookup import Json, find
from vfnet.cli.output import Column, echo_object, echo_rows
from vfnet.client import Client

COLUMNS = (
    "id", "name", Column("mac_address", "MAC"), Column("fixed_ips", "FIXED IPS"),
    Column("binding:vnic_type", "VNIC TYPE"), "status", Column("binding:host_id", "HOST"),
    Column("binding:vif_type", "VIF TYPE"),
)  # fmt: skip
HOST = "binding:host_id"


def find_port(client: Client, ident: str) -> Json:
    """The port ``ident`` names (an id or a name)."""
    return find("port", ident, client.get_port, client.list_ports)


def port_id(client: Client, ident: str) -> str:
    return str(find_port(client, ident)["id"])


def _row(port: Mapping[str, Any]) -> dict[str, Any]:
    return {**port, "fixed_ips": [ip.get("ip_address") for ip in port.get("fixed_ips", [])]}


def fixed_ips_field(client: Client, net_id: str, wanted: tuple[dict[str, str], ...]) -> list[Any]:
    """``--fixed-ip`` values as the API's ``fixed_ips``, subnets named within the network."""
    fixed_ips = []
    for item in wanted:
        fixed: dict[str, str] = {}
        if "subnet" in item:
            fixed["subnet_id"] = subnet_id(client, item["subnet"], network=net_id)
        if "ip_address" in item:
            fixed["ip_address"] = item["ip_address"]
        fixed_ips.append(fixed)
    return fixed_ips


@click.group(epilog="Example: vfnet port create --network net1 --vnic-type direct port1")
def port() -> None:
    """Ports: a MAC and fixed IPs on a network, bound to a VF (or PF, or bridge) on a host."""


@port.command(
    epilog=examples(
        "vfnet port create --network net1 --vnic-type direct port1",
        "vfnet port create --network net1 --vnic-type direct --fixed-ip "
        "subnet=sub1,ip-address=192.0.2.50 --mac-address fa:16:3e:00:00:01 "
        "--binding-profile trusted=true port2",
    )
)
@click.argument("name")
@click.option("--network", "net", required=True, metavar="NET", help="Network (name or id).")
@click.option("--vnic-type", metavar="TYPE",
              help="normal (default), direct, macvtap, direct-physical or vdpa.")  # fmt: skip
@click.option("--mac-address", metavar="MAC", help="MAC address [default: generated].")
@click.option("--fixed-ip", "fixed_ips", type=FIXED_IP, multiple=True,
              metavar="subnet=SUBNET,ip-address=IP",
              help="Address to take (subnet by name or id); repeat for several.")  # fmt: skip
@click.option("--disable-port-security", is_flag=True, help="No MAC anti-spoofing (spoofchk off).")
@click.option("--no-propagate-uplink-status", is_flag=True,
              help="Keep the VF link up when the PF's link goes down.")  # fmt: skip
@click.option("--binding-profile", "profile", type=PROFILE, metavar="KEY=VALUE|JSON",
              help="Admin only: trusted=true, or a JSON object with capabilities.")  # fmt: skip
@click.option("--mirror-to", metavar="PORT", help="Port (name or id) that gets a copy of traffic.")
@click.option("--qos-policy", metavar="POLICY", help="QoS policy (name or id).")
@click.option("--disable", is_flag=True, help="Create it administratively down.")
@json_option
@api_command
def create(
    client: Client,
    name: str,
    net: str,
    vnic_type: str | None,
    mac_address: str | None,
    fixed_ips: tuple[dict[str, str], ...],
    disable_port_security: bool,
    no_propagate_uplink_status: bool,
    profile: dict[str, Any] | None,
    mirror_to: str | None,
    qos_policy: str | None,
    disable: bool,
    as_json: bool,
) -> None:
    """Create a port with a MAC and fixed IPs.

    Without --mac-address the MAC is generated; without --fixed-ip the port gets the
    lowest free address of the network's first subnet of each IP version.
    """
    net_id = network_id(client, net)
    body: dict[str, Any] = {
        "name": name,
        "network_id": net_id,
        "admin_state_up": not disable,
        "port_security_enabled": not disable_port_security,
        "propagate_uplink_status": not no_propagate_uplink_status,
        **given(
            **{"binding:vnic_type": vnic_type, "mac_address": mac_address},
            **{"binding:profile": profile},
        ),
    }
    if fixed_ips:
        body["fixed_ips"] = fixed_ips_field(client, net_id, fixed_ips)
    if mirror_to is not None:
        body["mirror_to"] = port_id(client, mirror_to)
    if qos_policy is not None:
        body["qos_policy_id"] = policy_id(client, qos_policy)
    echo_object(client.create_port(body), as_json)


@port.command("list", epilog="Example: vfnet port list --network net1 --host compute-1")
@click.option("--network", "net", metavar="NET", help="Only this network's ports.")
@click.option("--host", help="Only ports bound on this host.")
@json_option
@api_command
def list_(client: Client, net: str | None, host: str | None, as_json: bool) -> None:
    """List ports."""
    net_id = network_id(client, net) if net is not None else None
    echo_rows(client.list_ports(network_id=net_id, host=host), COLUMNS, as_json, row=_row)


@port.command(epilog="Example: vfnet port show port1")
@click.argument("ident", metavar="PORT")
@json_option
@api_command
def show(client: Client, ident: str, as_json: bool) -> None:
    """Show one port, with its binding (PORT is a name or an id)."""
    echo_object(find_port(client, ident), as_json)


@port.command(
    epilog=examples(
        "vfnet port set port1 --host compute-1",
        "vfnet port set port1 --qos-policy gold --disable-port-security",
    )
)
@click.argument("ident", metavar="PORT")
@click.option("--host", help="Bind the port on this host (admin): claims a VF there.")
@click.option("--name", help="New name.")
@click.option("--enable/--disable", "admin_state_up", default=None, help="Administrative state.")
@click.option("--enable-port-security/--disable-port-security", "port_security", default=None,
              help="MAC anti-spoofing (spoofchk).")  # fmt: skip
@click.option("--propagate-uplink-status/--no-propagate-uplink-status", "propagate", default=None,
              help="VF link follows the PF's link.")  # fmt: skip
@click.option("--binding-profile", "profile", type=PROFILE, metavar="KEY=VALUE|JSON",
              help="Admin only: trusted=true, or a JSON object with capabilities.")  # fmt: skip
@click.option("--mirror-to", metavar="PORT", help="Port (name or id) that gets a copy of traffic.")
@click.option("--qos-policy", metavar="POLICY", help="QoS policy (name or id).")
@json_option
@api_command
def update(
    client: Client,
    ident: str,
    host: str | None,
    name: str | None,
    admin_state_up: bool | None,
    port_security: bool | None,
    propagate: bool | None,
    profile: dict[str, Any] | None,
    mirror_to: str | None,
    qos_policy: str | None,
    as_json: bool,
) -> None:
    """Change a port, or bind it on a host (--host).

    'port set' and 'port update' are the same command.
    """
    body = given(
        name=name,
        admin_state_up=admin_state_up,
        port_security_enabled=port_security,
        propagate_uplink_status=propagate,
        **{"binding:profile": profile, HOST: host},
    )
    if mirror_to is not None:
        body["mirror_to"] = port_id(client, mirror_to)
    if qos_policy is not None:
        body["qos_policy_id"] = policy_id(client, qos_policy)
    if not body:
        raise click.UsageError("nothing to change; see --help")
    echo_object(client.update_port(port_id(client, ident), body), as_json)


port.add_command(update, "set")


@port.command(epilog="Example: vfnet port unset port1 --host")
@click.argument("ident", metavar="PORT")
@click.option("--host", is_flag=True, help="Unbind the port: release its VF.")
@click.option("--qos-policy", is_flag=True, help="Remove the port's own QoS policy.")
@click.option("--mirror-to", is_flag=True, help="Stop mirroring.")
@click.option("--binding-profile", is_flag=True, help="Clear the user keys of binding:profile.")
@json_option
@api_command
def unset(
    client: Client,
    ident: str,
    host: bool,
    qos_policy: bool,
    mirror_to: bool,
    binding_profile: bool,
    as_json: bool,
) -> None:
    """Clear a port's binding (unbind), QoS policy, mirroring or profile."""
    cleared = {HOST: host, "qos_policy_id": qos_policy, "mirror_to": mirror_to}
    body: dict[str, Any] = {field: None for field, chosen in cleared.items() if chosen}
    if binding_profile:
        body["binding:profile"] = {}
    if not body:
        raise click.UsageError("nothing to unset; see --help")
    echo_object(client.update_port(port_id(client, ident), body), as_json)


@port.command(epilog="Example: vfnet port delete port1 port2")
@click.argument("idents", nargs=-1, required=True, metavar="PORT...")
@api_command
def delete(client: Client, idents: tuple[str, ...]) -> None:
    """Delete ports (a bound port's VF is released and reset)."""
    for ident in idents:
        client.delete_port(port_id(client, ident))

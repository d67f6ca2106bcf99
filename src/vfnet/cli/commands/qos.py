"""``vfnet qos``: QoS policies and their rules (a VF's egress max and min rate)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from vfnet.cli.arguments import examples, given, json_option
from vfnet.cli.connection import api_command
from vfnet.cli.failures import CommandFailed
from vfnet.cli.lookup import Json, find
from vfnet.cli.output import echo_object, echo_rows
from vfnet.client import Client

COLUMNS = ("id", "name", "shared", "project_id", "rules")
RULE_COLUMNS = ("type", "max_kbps", "min_kbps", "direction")
# The rule types as openstack spells them on the command line, and the kbps option each takes.
RULE_TYPES = {"bandwidth-limit": "max_kbps", "minimum-bandwidth": "min_kbps"}


def find_policy(client: Client, ident: str) -> Json:
    """The QoS policy ``ident`` names (an id or a name)."""
    return find("QoS policy", ident, client.get_qos_policy, client.list_qos_policies)


def policy_id(client: Client, ident: str) -> str:
    return str(find_policy(client, ident)["id"])


def rule_text(rule: Mapping[str, Any]) -> str:
    """``bandwidth_limit 10000 kbps egress``: a rule in a table cell."""
    kbps = rule.get("max_kbps", rule.get("min_kbps"))
    return f"{rule.get('type')} {kbps} kbps {rule.get('direction', 'egress')}"


def _row(policy: Mapping[str, Any]) -> dict[str, Any]:
    return {**policy, "rules": [rule_text(rule) for rule in policy.get("rules", [])]}


@click.group(epilog="Example: vfnet qos rule create gold --type bandwidth-limit --max-kbps 10000")
def qos() -> None:
    """QoS policies: the egress rate limit and guarantee a port's VF enforces."""


@qos.command(epilog="Example: vfnet qos create gold --shared")
@click.argument("name")
@click.option("--shared", is_flag=True, help="Let every project use the policy.")
@json_option
@api_command
def create(client: Client, name: str, shared: bool, as_json: bool) -> None:
    """Create a QoS policy without rules (admin); add them with 'qos rule create'."""
    policy = client.create_qos_policy({"name": name, "shared": shared, "rules": []})
    echo_object(_row(policy) if not as_json else policy, as_json)


@qos.command("list", epilog="Example: vfnet qos list --json")
@json_option
@api_command
def list_(client: Client, as_json: bool) -> None:
    """List the QoS policies this token can see."""
    echo_rows(client.list_qos_policies(), COLUMNS, as_json, row=_row)


@qos.command(epilog="Example: vfnet qos show gold")
@click.argument("policy")
@json_option
@api_command
def show(client: Client, policy: str, as_json: bool) -> None:
    """Show one QoS policy (POLICY is a name or an id)."""
    found = find_policy(client, policy)
    echo_object(found if as_json else _row(found), as_json)


@qos.command(epilog="Example: vfnet qos update gold --name platinum --no-share")
@click.argument("policy")
@click.option("--name", help="New name.")
@click.option("--share/--no-share", "shared", default=None, help="Shared with every project.")
@json_option
@api_command
def update(
    client: Client, policy: str, name: str | None, shared: bool | None, as_json: bool
) -> None:
    """Rename a QoS policy or change its sharing (admin)."""
    body = given(name=name, shared=shared)
    if not body:
        raise click.UsageError("nothing to change; see --help")
    changed = client.update_qos_policy(policy_id(client, policy), body)
    echo_object(changed if as_json else _row(changed), as_json)


@qos.command(epilog="Example: vfnet qos delete gold")
@click.argument("policies", nargs=-1, required=True, metavar="POLICY...")
@api_command
def delete(client: Client, policies: tuple[str, ...]) -> None:
    """Delete QoS policies; refused while a network or port uses one."""
    for policy in policies:
        client.delete_qos_policy(policy_id(client, policy))


@qos.group(epilog="Example: vfnet qos rule create gold --type minimum-bandwidth --min-kbps 1000")
def rule() -> None:
    """A policy's rules: at most one bandwidth limit and one minimum bandwidth."""


@rule.command(
    "create",
    epilog=examples(
        "vfnet qos rule create gold --type bandwidth-limit --max-kbps 10000",
        "vfnet qos rule create gold --type minimum-bandwidth --min-kbps 1000",
    ),
)
@click.argument("policy")
@click.option("--type", "rule_type", type=click.Choice(sorted(RULE_TYPES)), required=True,
              help="What the VF enforces: a maximum or a guaranteed minimum rate.")  # fmt: skip
@click.option("--max-kbps", type=int, help="Maximum egress rate (bandwidth-limit).")
@click.option("--min-kbps", type=int, help="Guaranteed egress rate (minimum-bandwidth).")
@click.option("--egress/--ingress", default=True, help="Direction; a VF shapes egress only.")
@json_option
@api_command
def create_rule(
    client: Client,
    policy: str,
    rule_type: str,
    max_kbps: int | None,
    min_kbps: int | None,
    egress: bool,
    as_json: bool,
) -> None:
    """Add a rule to a QoS policy (admin)."""
    rate_field = RULE_TYPES[rule_type]
    rates = {"max_kbps": max_kbps, "min_kbps": min_kbps}
    if rates[rate_field] is None:
        raise click.UsageError(f"--type {rule_type} needs --{rate_field.replace('_', '-')}")
    other = next(name for name in rates if name != rate_field)
    if rates[other] is not None:
        raise click.UsageError(f"--{other.replace('_', '-')} is not for --type {rule_type}")
    new = {
        "type": rule_type.replace("-", "_"),
        rate_field: rates[rate_field],
        "direction": "egress" if egress else "ingress",
    }
    found = find_policy(client, policy)
    rules = [*found.get("rules", []), new]
    changed = client.update_qos_policy(found["id"], {"rules": rules})
    echo_rows(changed.get("rules", []), RULE_COLUMNS, as_json)


@rule.command("list", epilog="Example: vfnet qos rule list gold")
@click.argument("policy")
@json_option
@api_command
def list_rules(client: Client, policy: str, as_json: bool) -> None:
    """List a QoS policy's rules."""
    echo_rows(find_policy(client, policy).get("rules", []), RULE_COLUMNS, as_json)


@rule.command("delete", epilog="Example: vfnet qos rule delete gold --type bandwidth-limit")
@click.argument("policy")
@click.option("--type", "rule_type", type=click.Choice(sorted(RULE_TYPES)), required=True,
              help="The rule to remove (a policy has at most one of each type).")  # fmt: skip
@api_command
def delete_rule(client: Client, policy: str, rule_type: str) -> None:
    """Remove a rule from a QoS policy (admin)."""
    found = find_policy(client, policy)
    rules = found.get("rules", [])
    kept = [r for r in rules if r.get("type") != rule_type.replace("-", "_")]
    if len(kept) == len(rules):
        raise CommandFailed(f"QoS policy {policy!r} has no {rule_type} rule")
    client.update_qos_policy(found["id"], {"rules": kept})

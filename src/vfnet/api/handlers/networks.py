"""Handlers of /v1/networks: admins create provider networks; everyone reads the ones they may.

A member sees its own project's networks and shared ones; any other network answers
exactly as a missing one does (404), so existence never leaks across projects. Agents
read every network: the ports bound on their host may be on any of them.
"""

from __future__ import annotations

from vfnet.api.context import Context, Ctx
from vfnet.api.schemas.base import given
from vfnet.api.schemas.networks import NetworkIn, NetworkList, NetworkOut, NetworkUpdate
from vfnet.errors import NotFound
from vfnet.network.networks import (
    check_provider_allowed,
    parse_segment,
    validate_network,
)
from vfnet.store.networks import NetworkWithMtu
from vfnet.store.records import NetworkRecord

ACTIVE, DOWN = "ACTIVE", "DOWN"


def render(network: NetworkRecord) -> NetworkOut:
    return NetworkOut(
        id=network.id,
        name=network.name,
        project_id=network.project_id,
        network_type=network.network_type,
        physical_network=network.physical_network,
        segmentation_id=network.segmentation_id,
        admin_state_up=network.admin_state_up,
        shared=network.shared,
        qos_policy_id=network.qos_policy_id,
        mtu=network.mtu,
        status=ACTIVE if network.admin_state_up else DOWN,
        subnets=list(network.subnet_ids),
        created_at=network.created_at,
    )


def may_read(ctx: Context, project_id: str | None, *, shared: bool = False) -> bool:
    """Admins and agents read everything; a member its own project's and shared objects."""
    return ctx.principal.reads_everything or shared or ctx.principal.owns_project(project_id)


def visible_network(ctx: Context, network_id: str) -> NetworkRecord:
    """The network, or NotFound when it is missing or the caller may not see it."""
    network = ctx.store.get_network(network_id)
    if not may_read(ctx, network.project_id, shared=network.shared):
        raise NotFound("network", network_id)
    return network


def list_networks(ctx: Ctx) -> NetworkList:
    """GET /v1/networks: every network (admin, agent), else the project's and shared ones."""
    project = None if ctx.principal.reads_everything else ctx.principal.project or ""
    return NetworkList(networks=[render(n) for n in ctx.store.list_networks(project_id=project)])


def get_network(network_id: str, ctx: Ctx) -> NetworkOut:
    """GET /v1/networks/{network_id}."""
    return render(visible_network(ctx, network_id))


def create_network(body: NetworkIn, ctx: Ctx) -> NetworkOut:
    """POST /v1/networks (admin): 201.

    Raises:
        ValidationError: a bad segment: VLAN outside 1-4094, an id on a flat network,
            no physnet (400, naming the ``provider:*`` field); an MTU outside 68-9216.
        Conflict: the VLAN (or the physnet's flat network) is taken (409).
    """
    sent = given(body)
    check_provider_allowed(ctx.principal.role.value, sent)
    segment = parse_segment(body.network_type, body.physical_network, body.segmentation_id)
    if body.qos_policy_id is not None:
        ctx.store.get_qos_policy(body.qos_policy_id)
    network = NetworkWithMtu(
        name=body.name,
        project_id=body.project_id or ctx.principal.project or ctx.principal.role.value,
        segment=segment,
        admin_state_up=body.admin_state_up,
        shared=body.shared,
        qos_policy_id=body.qos_policy_id,
        mtu=body.mtu,
    )
    # The store refuses a taken segment race-safely; the name check is pure and first.
    validate_network(network, ())
    return render(ctx.store.create_network(network))


def update_network(network_id: str, body: NetworkUpdate, ctx: Ctx) -> NetworkOut:
    """PUT /v1/networks/{network_id} (admin): only the fields given change."""
    changes = given(body)
    if changes.get("qos_policy_id") is not None:
        ctx.store.get_qos_policy(str(changes["qos_policy_id"]))
    return render(ctx.store.update_network(network_id, **changes))


def delete_network(network_id: str, ctx: Ctx) -> None:
    """DELETE /v1/networks/{network_id} (admin): 204; 409 ``in_use`` while it has ports."""
    ctx.store.delete_network(network_id)

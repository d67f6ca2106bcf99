"""Handlers of /v1/subnets: admins create them on a network; readers of the network read them."""

from __future__ import annotations

from vfnet.api.context import Context, Ctx
from vfnet.api.handlers.networks import may_read, visible_network
from vfnet.api.schemas.base import given
from vfnet.api.schemas.subnets import PoolOut, SubnetIn, SubnetList, SubnetOut, SubnetUpdate
from vfnet.errors import NotFound
from vfnet.network.subnets import DEFAULT_GATEWAY, SubnetRequest
from vfnet.store.records import SubnetRecord


def render(subnet: SubnetRecord) -> SubnetOut:
    return SubnetOut(
        id=subnet.id,
        name=subnet.name,
        network_id=subnet.network_id,
        project_id=subnet.project_id,
        cidr=subnet.cidr,
        ip_version=subnet.ip_version,
        gateway_ip=subnet.gateway_ip,
        allocation_pools=[PoolOut(start=a, end=b) for a, b in subnet.allocation_pools],
        created_at=subnet.created_at,
    )


def _visible(ctx: Context, subnet_id: str) -> SubnetRecord:
    subnet = ctx.store.get_subnet(subnet_id)
    try:
        visible_network(ctx, subnet.network_id)
    except NotFound:
        raise NotFound("subnet", subnet_id) from None
    return subnet


def list_subnets(ctx: Ctx, network_id: str | None = None) -> SubnetList:
    """GET /v1/subnets?network_id=: the subnets of the networks the caller may see."""
    if network_id is not None:
        visible_network(ctx, network_id)
    subnets = ctx.store.list_subnets(network_id=network_id)
    if not ctx.principal.reads_everything:
        seen = {
            n.id
            for n in ctx.store.list_networks(project_id=ctx.principal.project or "")
            if may_read(ctx, n.project_id, shared=n.shared)
        }
        subnets = [subnet for subnet in subnets if subnet.network_id in seen]
    return SubnetList(subnets=[render(subnet) for subnet in subnets])


def get_subnet(subnet_id: str, ctx: Ctx) -> SubnetOut:
    """GET /v1/subnets/{subnet_id}."""
    return render(_visible(ctx, subnet_id))


def create_subnet(body: SubnetIn, ctx: Ctx) -> SubnetOut:
    """POST /v1/subnets (admin): 201.

    Raises:
        NotFound: the network does not exist (404).
        ValidationError: a bad CIDR, a gateway outside it, pools outside the CIDR or
            overlapping each other (400, naming ``allocation_pools[i]`` and the like).
        Conflict: the CIDR overlaps another subnet of the network (409).
    """
    network = ctx.store.get_network(body.network_id)
    sent = given(body)
    request = SubnetRequest(
        network_id=network.id,
        cidr=body.cidr,
        ip_version=body.ip_version,
        gateway_ip=body.gateway_ip if "gateway_ip" in sent else DEFAULT_GATEWAY,
        allocation_pools=(
            None
            if body.allocation_pools is None
            else [{"start": p.start, "end": p.end} for p in body.allocation_pools]
        ),
        name=body.name,
    )
    return render(ctx.store.create_subnet(request, project_id=network.project_id))


def update_subnet(subnet_id: str, body: SubnetUpdate, ctx: Ctx) -> SubnetOut:
    """PUT /v1/subnets/{subnet_id} (admin): ``name`` and ``gateway_ip``."""
    return render(ctx.store.update_subnet(subnet_id, **given(body)))


def delete_subnet(subnet_id: str, ctx: Ctx) -> None:
    """DELETE /v1/subnets/{subnet_id} (admin): 204; 409 ``in_use`` while ports hold addresses."""
    ctx.store.delete_subnet(subnet_id)

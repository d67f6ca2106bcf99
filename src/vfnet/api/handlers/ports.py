"""Handlers of /v1/ports: members make ports on networks they see; admins bind them to hosts.

A member sees its own project's ports only, and an agent the ports bound on its host;
any other port answers exactly as a missing one does (404). Only admins write
``binding:profile`` and ``binding:host_id``: the profile decides which device a port
gets, and the host where it is plugged.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool

from vfnet.api import binding
from vfnet.api.auth import Role
from vfnet.api.context import Context, Ctx
from vfnet.api.handlers.networks import visible_network
from vfnet.api.handlers.qos import visible_policy
from vfnet.api.schemas.base import given
from vfnet.api.schemas.ports import (
    HOST_ID,
    PROFILE,
    FixedIpOut,
    PortIn,
    PortList,
    PortOut,
    PortUpdate,
)
from vfnet.errors import Forbidden, InUse, NotFound
from vfnet.network.macs import normalise_mac
from vfnet.network.ports import PortRequest, check_profile
from vfnet.store.records import FixedIpRequest, PortRecord


def render(port: PortRecord) -> PortOut:
    return PortOut(
        id=port.id,
        name=port.name,
        network_id=port.network_id,
        project_id=port.project_id,
        mac_address=port.mac_address,
        fixed_ips=[
            FixedIpOut(subnet_id=f.subnet_id, ip_address=f.ip_address) for f in port.fixed_ips
        ],
        vnic_type=port.vnic_type,
        admin_state_up=port.admin_state_up,
        port_security_enabled=port.port_security_enabled,
        propagate_uplink_status=port.propagate_uplink_status,
        # Always empty: a port asking for security groups is refused (the NIC cannot filter).
        security_groups=[],
        profile=dict(port.profile),
        mirror_to=port.mirror_to,
        qos_policy_id=port.qos_policy_id,
        status=port.status,
        status_reason=port.status_reason,  # set by the host's status report (handlers/status)
        host_id=port.host,
        vif_type=port.vif_type,
        vif_details=dict(port.vif_details),
        failure_reason=port.failure_reason,
        device_id=port.device_id,
        created_at=port.created_at,
    )


def _may_read(ctx: Context, port: PortRecord) -> bool:
    caller = ctx.principal
    if caller.role is Role.AGENT:
        return port.host is not None and port.host == caller.host
    return caller.owns_project(port.project_id)


def visible_port(ctx: Context, port_id: str) -> PortRecord:
    """The port, or NotFound when it is missing or the caller may not see it."""
    port = ctx.store.get_port(port_id)
    if not _may_read(ctx, port):
        raise NotFound("port", port_id)
    return port


def _project_of(ctx: Context, asked: str | None) -> str | None:
    """Admins make ports for any project; a member only for its own."""
    if ctx.principal.is_admin:
        return asked or ctx.principal.project
    if asked is not None and asked != ctx.principal.project:
        raise Forbidden("a member creates ports in its own project only")
    return ctx.principal.project


def _check_admin_only(ctx: Context, sent: dict[str, object]) -> None:
    """Refused before anything is looked up, so a member learns nothing else first."""
    role = ctx.principal.role.value
    profile = sent.get(PROFILE)
    if isinstance(profile, dict):
        check_profile(profile, role)
    if HOST_ID in sent and not ctx.principal.is_admin:
        raise Forbidden(f"only an admin may set {HOST_ID}; the {role} role may not")


def _check_references(ctx: Context, sent: dict[str, object]) -> None:
    """A policy or mirror target the caller cannot see is as missing as one that is."""
    if sent.get("qos_policy_id") is not None:
        visible_policy(ctx, str(sent["qos_policy_id"]))
    if sent.get("mirror_to") is not None:
        visible_port(ctx, str(sent["mirror_to"]))


def list_ports(ctx: Ctx, network_id: str | None = None, host: str | None = None) -> PortList:
    """GET /v1/ports?network_id=&host=: every port (admin), the project's (member), or
    those bound on the agent's own host (agent)."""
    caller = ctx.principal
    project = None if caller.reads_everything else caller.project
    if caller.role is Role.AGENT:
        caller.check_host(host or str(caller.host))
        host = caller.host
    ports = ctx.store.list_ports(network_id=network_id, project_id=project, host=host)
    return PortList(ports=[render(port) for port in ports])


def get_port(port_id: str, ctx: Ctx) -> PortOut:
    """GET /v1/ports/{port_id}."""
    return render(visible_port(ctx, port_id))


async def create_port(body: PortIn, ctx: Ctx) -> PortOut:
    """POST /v1/ports: 201, with a MAC and fixed IPs; bound too when ``binding:host_id`` is given.

    Runs on the event loop's thread when ``inline_port_creation`` is set (SQLite), else
    in the threadpool as the other handlers do.

    Raises:
        Forbidden: a member sets ``binding:profile`` or ``binding:host_id`` (403).
        NotFound: the network, policy or mirror target is missing or not the caller's (404).
        ValidationError: a malformed or multicast MAC, a fixed IP outside its subnet, a
            vnic type vfnet cannot serve, security groups (400, naming the field).
        Conflict: the MAC or a fixed IP is taken, the subnet is full (409).
    """
    if ctx.settings.inline_port_creation:
        return _create_port(body, ctx)
    return await run_in_threadpool(_create_port, body, ctx)


def _create_port(body: PortIn, ctx: Context) -> PortOut:
    sent = given(body)
    _check_admin_only(ctx, sent)
    project = _project_of(ctx, body.project_id)
    mac = None if body.mac_address is None else normalise_mac(body.mac_address)
    # The store reads the network and refuses one the caller cannot see in its own
    # transaction; read first here only so that it is the 404 a caller gets first.
    if sent.get("qos_policy_id") is not None or sent.get("mirror_to") is not None:
        visible_network(ctx, body.network_id)
    _check_references(ctx, sent)
    request = PortRequest(
        network_id=body.network_id,
        vnic_type=body.vnic_type,
        admin_state_up=body.admin_state_up,
        port_security_enabled=body.port_security_enabled,
        propagate_uplink_status=body.propagate_uplink_status,
        security_groups=tuple(body.security_groups),
        profile=body.profile,
        mirror_to=body.mirror_to,
        qos_policy_id=body.qos_policy_id,
        name=body.name,
    )
    fixed_ips = (
        None
        if body.fixed_ips is None
        else [FixedIpRequest(f.subnet_id, f.ip_address) for f in body.fixed_ips]
    )
    port = ctx.store.create_port(
        request,
        project_id=project,
        role=ctx.principal.role.value,
        mac_address=mac,
        fixed_ips=fixed_ips,
        base_mac=ctx.settings.base_mac,
        random=ctx.random,
    )
    if body.host_id is not None:
        port = binding.bind(ctx.store, port.id, body.host_id)
    return render(port)


def update_port(port_id: str, body: PortUpdate, ctx: Ctx) -> PortOut:
    """PUT /v1/ports/{port_id}: only the fields given change.

    ``binding:host_id`` (admins) binds the port on that host; the answer shows the
    binding, or ``binding_failed`` with the reason. ``null`` unbinds and frees its device.
    """
    sent = given(body)
    _check_admin_only(ctx, sent)
    if isinstance(sent.get("mac_address"), str):
        sent["mac_address"] = normalise_mac(str(sent["mac_address"]))
    port = visible_port(ctx, port_id)
    _check_references(ctx, sent)
    rebinding = HOST_ID in sent
    host = sent.pop(HOST_ID, None)
    if sent:
        port = ctx.store.update_port(port_id, sent, role=ctx.principal.role.value)
    if rebinding:
        _check_not_in_instance(ctx, port, "rebind")
        port = (
            binding.bind(ctx.store, port_id, str(host))
            if host
            else binding.unbind(ctx.store, port_id)
        )
    return render(port)


def delete_port(port_id: str, ctx: Ctx) -> None:
    """DELETE /v1/ports/{port_id}: 204; its addresses and device are freed.

    Raises:
        InUse: the port belongs to an instance, whose claim holds its device (409).
    """
    _check_not_in_instance(ctx, visible_port(ctx, port_id), "delete")
    deleted = ctx.store.delete_port(port_id)
    if deleted.claim_owner is not None:
        ctx.store.release(deleted.claim_owner)


def _check_not_in_instance(ctx: Ctx, port: PortRecord, doing: str) -> None:
    """An instance's ports share its one claim: freeing one port's device here would free
    the instance's other devices too, so the instance lets go of its ports itself."""
    if not port.device_id:
        return
    try:
        ctx.store.get_instance(port.device_id)
    except NotFound:
        return  # a device_id a user wrote, naming no vfnet instance
    raise InUse(
        f"port {port.id!r} belongs to instance {port.device_id!r}; delete the instance "
        f"before you {doing} the port"
    )

"""Handlers of /v1/instances: create (schedule, claim, bind every port), list, show, delete;
ports attached and detached hot, suspend and resume, migrate.

A member sees only its own project's instances: another project's answers exactly as a
missing one does (404), and so do ports and networks it cannot see. Bad input is
refused before anything is written; a failure after the instance is recorded (no valid
host, a port that cannot bind) leaves it in ERROR with the reason and nothing claimed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from vfnet.api import binding, booting, lifecycle
from vfnet.api.context import Context, Ctx
from vfnet.api.handlers.networks import visible_network
from vfnet.api.handlers.ports import visible_port
from vfnet.api.migration import MigrationSettings, migrate
from vfnet.api.placing import Wanted
from vfnet.api.schemas.instances import (
    AttachPortIn,
    InstanceDeviceOut,
    InstanceIn,
    InstanceList,
    InstanceOut,
    InstancePortOut,
    MigrateIn,
    MigrationOut,
)
from vfnet.errors import Conflict, Forbidden, NotFound, ValidationError
from vfnet.network.ports import PortRequest
from vfnet.store.instances import DELETING, InstanceRecord
from vfnet.store.records import NetworkRecord, PortRecord


def render(ctx: Context, instance: InstanceRecord) -> InstanceOut:
    ports = []
    for position, port_id in enumerate(instance.port_ids):
        try:
            port = ctx.store.get_port(port_id)
        except NotFound:  # deleted under the instance: nothing to show for it
            continue
        slot = port.profile.get("pci_slot")
        ports.append(
            InstancePortOut(
                id=port.id,
                network_id=port.network_id,
                vnic_type=port.vnic_type,
                status=port.status,
                vif_type=port.vif_type,
                pci_slot=str(slot) if slot else None,
                ifname=f"eth{position}" if instance.kind == "container" else None,
            )
        )
    claims = ctx.store.claims_of(instance.claim_owner) if instance.claim_owner else []
    devices = [
        InstanceDeviceOut(address=str(d.address), request_id=d.request_id, status=d.status)
        for claim in claims
        for d in claim.devices
    ]
    moving = instance.migration
    return InstanceOut(
        id=instance.id,
        name=instance.name,
        project_id=instance.project_id,
        kind=instance.kind,
        flavor=instance.flavor,
        host=instance.host,
        state=instance.state,
        reason=instance.reason,
        ports=ports,
        devices=devices,
        migration=None if moving is None else MigrationOut.model_validate(dict(moving)),
        created_at=instance.created_at,
    )


def _visible(ctx: Context, instance_id: str) -> InstanceRecord:
    instance = ctx.store.get_instance(instance_id)
    if not ctx.principal.owns_project(instance.project_id):
        raise NotFound("instance", instance_id)
    return instance


def _project_of(ctx: Context, asked: str | None) -> str | None:
    """Admins create instances for any project; a member only for its own."""
    if ctx.principal.is_admin:
        return asked or ctx.principal.project
    if asked is not None and asked != ctx.principal.project:
        raise Forbidden("a member creates instances in its own project only")
    return ctx.principal.project


def _ports_of(ctx: Context, port_ids: list[str]) -> list[PortRecord]:
    """The ports asked for, each visible, once, and attached to no instance."""
    if len(set(port_ids)) != len(port_ids):
        raise ValidationError("ports", "a port is listed more than once")
    ports = [visible_port(ctx, port_id) for port_id in port_ids]
    for port in ports:
        if port.device_id:
            raise Conflict(f"port {port.id} is already bound to instance {port.device_id}")
    return ports


def _ha_groups(body: InstanceIn) -> dict[str, str]:
    """Port id -> its HA group; each grouped port must be one of the instance's."""
    groups: dict[str, str] = {}
    for group, members in body.ha_groups.items():
        for port_id in members:
            if port_id not in body.ports:
                raise ValidationError(
                    f"ha_groups.{group}", f"port {port_id} is not one of the instance's ports"
                )
            if port_id in groups:
                raise ValidationError(f"ha_groups.{group}", f"port {port_id} is in two groups")
            groups[port_id] = group
    return groups


def _networks(ctx: Context, ports: list[PortRecord], asked: list[str]) -> dict[str, NetworkRecord]:
    wanted = {port.network_id for port in ports}
    found = {nid: ctx.store.get_network(nid) for nid in sorted(wanted)}
    found |= {nid: visible_network(ctx, nid) for nid in asked}
    return found


def _made_ports(ctx: Context, networks: list[str], project: str | None) -> list[PortRecord]:
    """A normal port on each network, as Nova makes one for ``--nic net-id``."""
    return [
        ctx.store.create_port(
            PortRequest(network_id=network_id, vnic_type="normal"),
            project_id=project,
            role=ctx.principal.role.value,
            mac_address=None,
            fixed_ips=None,
            base_mac=ctx.settings.base_mac,
            random=ctx.random,
        )
        for network_id in networks
    ]


def create_instance(body: InstanceIn, ctx: Ctx) -> InstanceOut:
    """POST /v1/instances: 201 with the instance BUILD on its host, or ERROR with the reason.

    Raises:
        NotFound: a port, network or flavor is missing or not the caller's (404).
        ValidationError: an unknown flavor alias, a bad HA group (400).
        Conflict: a port is already bound to another instance (409).
        Forbidden: a member chose the host (403).
    """
    project = _project_of(ctx, body.project_id)
    if body.host is not None and not ctx.principal.is_admin:
        raise Forbidden("only admins choose an instance's host")
    ports = _ports_of(ctx, body.ports)
    groups = _ha_groups(body)
    networks = _networks(ctx, ports, body.networks)
    policy = body.numa_policy.value if body.numa_policy else None
    alias_requests, default = booting.flavor_requests(
        ctx.store, body.flavor, ctx.settings.aliases, policy
    )
    made = _made_ports(ctx, body.networks, project)
    ports += made
    needs = booting.port_needs(ctx.store, ports, networks)
    requests, normal = booting.port_requests(ports, networks, groups, default, needs)
    try:
        instance = ctx.store.create_instance(
            name=body.name,
            project_id=project,
            kind=body.kind,
            flavor=body.flavor,
            port_ids=[port.id for port in ports],
            made_port_ids=[port.id for port in made],
        )
    except Exception:
        for port in made:
            ctx.store.delete_port(port.id)
        raise
    cells = None if body.numa_cells is None else frozenset(body.numa_cells)
    wanted = Wanted(tuple(alias_requests + requests), cells, body.policy, normal, body.host)
    attempts = ctx.settings.placement_attempts
    return render(ctx, booting.boot(ctx.store, ctx.chooser, instance, wanted, attempts))


def list_instances(ctx: Ctx) -> InstanceList:
    """GET /v1/instances: every instance (admin) or the caller's project's (member)."""
    project = None if ctx.principal.is_admin else ctx.principal.project
    found = ctx.store.list_instances(project_id=project)
    return InstanceList(instances=[render(ctx, instance) for instance in found])


def get_instance(instance_id: str, ctx: Ctx) -> InstanceOut:
    """GET /v1/instances/{instance_id}."""
    return render(ctx, _visible(ctx, instance_id))


def delete_instance(instance_id: str, ctx: Ctx) -> None:
    """DELETE /v1/instances/{instance_id}: 204; every port unbound, its devices released
    (on hosts whose agent verifies resets, free once verified), the made ports deleted."""
    instance = _visible(ctx, instance_id)
    store = ctx.store
    store.update_instance(instance_id, state=DELETING)
    for port_id in instance.port_ids:
        try:
            binding.unbind(store, port_id, release=False)
        except NotFound:
            continue
    if instance.claim_owner:
        store.release(instance.claim_owner)
    if instance.migration is not None:  # the target's claim: the migration stops on seeing this
        store.release(str(instance.migration["target_owner"]))
    for port_id in instance.made_port_ids:
        try:
            store.delete_port(port_id)
        except NotFound:
            continue
    store.delete_instance(instance_id)


def attach_port(instance_id: str, body: AttachPortIn, ctx: Ctx) -> InstanceOut:
    """POST /v1/instances/{instance_id}/ports: the port (or a normal port made on the
    network) plugged in hot as the instance's next interface, on the instance's host.

    Raises:
        NotFound: the instance, port or network is missing or not the caller's (404).
        Conflict: the port is attached already, or the instance cannot take one now (409).
        NoValidHost: the instance's host has no free device for the port (409).
    """
    instance = _visible(ctx, instance_id)
    if body.port_id is not None:
        (port,) = _ports_of(ctx, [body.port_id])
        made = False
    else:
        network_id = str(body.network_id)
        visible_network(ctx, network_id)
        (port,) = _made_ports(ctx, [network_id], instance.project_id)
        made = True
    try:
        lifecycle.attach(ctx.store, instance, port, made=made)
    except Exception:
        if made:
            ctx.store.delete_port(port.id)
        raise
    return render(ctx, ctx.store.get_instance(instance_id))


def detach_port(instance_id: str, port_id: str, ctx: Ctx) -> None:
    """DELETE /v1/instances/{instance_id}/ports/{port_id}: 204; the port unbound, its
    device released, given back (or deleted, when the instance made it).

    Raises:
        NotFound: the instance or port is missing or not the caller's (404).
        Conflict: the port is not attached to this instance, or it is migrating (409).
    """
    instance = _visible(ctx, instance_id)
    if port_id not in instance.port_ids:
        visible_port(ctx, port_id)
        raise Conflict(f"port {port_id} is not attached to instance {instance_id}")
    lifecycle.detach(ctx.store, instance, port_id)


def suspend_instance(instance_id: str, ctx: Ctx) -> InstanceOut:
    """POST /v1/instances/{instance_id}/suspend: ACTIVE -> SUSPENDED, devices kept."""
    _visible(ctx, instance_id)
    return render(ctx, lifecycle.suspend(ctx.store, instance_id))


def resume_instance(instance_id: str, ctx: Ctx) -> InstanceOut:
    """POST /v1/instances/{instance_id}/resume: SUSPENDED -> ACTIVE."""
    _visible(ctx, instance_id)
    return render(ctx, lifecycle.resume(ctx.store, instance_id))


def migration_settings(ctx: Ctx) -> MigrationSettings:
    """How long a migration waits for agents: ``[server] migration_timeout`` (tests may
    override this dependency with ``app.dependency_overrides``)."""
    return MigrationSettings(timeout=ctx.settings.migration_timeout)


def migrate_instance(
    instance_id: str,
    body: MigrateIn,
    ctx: Ctx,
    settings: Annotated[MigrationSettings, Depends(migration_settings)],
) -> InstanceOut:
    """POST /v1/instances/{instance_id}/migrate: answers once the migration is over, with
    the instance ACTIVE on its new host, or back on its source with the reason.

    Raises:
        NotFound: the instance or the named host does not exist (404).
        ValidationError: the named host is the instance's own (400).
        Conflict: the instance is not ACTIVE, or was deleted while moving (409).
        NoValidHost: no host (or not the one named) can take it (409).
    """
    instance = _visible(ctx, instance_id)
    moved = migrate(
        ctx.store,
        ctx.chooser,
        ctx.settings.aliases,
        instance,
        target=body.host,
        live=body.live,
        settings=settings,
        attempts=ctx.settings.placement_attempts,
    )
    return render(ctx, moved)

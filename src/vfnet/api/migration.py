"""Moving an instance to another host: claim there first, unplug, rebind, release the source.

The phases, recorded in ``instance.migration`` where both hosts' desired states see them:

1. the target's devices are claimed under a new owner before anything moves;
2. ``unplugging``: the source's document shows the instance migrating and its agent
   unplugs the SR-IOV devices; a live migration waits for the agent's status report on
   that generation (not on hosts whose agent does not manage VFs: none would come);
3. ``moving``: every port rebound to its device on the target with the same MAC, VLAN
   and fixed IPs, the instance's host is the target, and the migration waits until
   the target's agent reports every SR-IOV port ACTIVE;
4. done: the source's claim is released (each VF reset by the source agent on hosts
   that verify it), the target's owner holds the instance, ACTIVE again.

Any failure or timeout rolls back: ports rebound to their source devices, the target's
claim released, the instance ACTIVE on its source with the reason. A DELETE meanwhile
releases both claims; the migration notices at its next step and stops without undoing it.
The whole flow runs in the request's worker thread and answers when it is over.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from vfnet.api import binding
from vfnet.api.migration_target import claim_target, wanted_of
from vfnet.api.placing import Chooser
from vfnet.errors import Conflict, NotFound, ValidationError, VfnetError
from vfnet.network.binding import BINDING_FAILED
from vfnet.pci.address import PciAddress
from vfnet.pci.alias import Alias
from vfnet.store import Store
from vfnet.store.instances import ACTIVE, DELETING, ERROR, MIGRATING, InstanceRecord

log = logging.getLogger(__name__)

UNPLUGGING, MOVING = "unplugging", "moving"


@dataclass(frozen=True, slots=True)
class MigrationSettings:
    #: How long a migration may wait for the agents, in all, before it rolls back.
    timeout: float = 60.0
    #: How often it reads the agents' progress from the store.
    poll_interval: float = 0.1
    clock: Callable[[], float] = field(default=time.monotonic)
    sleep: Callable[[float], None] = field(default=time.sleep)


class MigrationFailed(VfnetError):
    """A step failed or timed out; the migration rolls back with this as the reason."""


class Deleted(Exception):
    """The instance was deleted under the migration, which stops there."""


@dataclass(frozen=True, slots=True)
class Move:
    """One migration: where from and to, under which claim owners, and which devices."""

    instance_id: str
    source: str
    target: str
    source_owner: str
    target_owner: str
    live: bool
    port_ids: tuple[str, ...]
    source_devices: Mapping[str, PciAddress]  # SR-IOV port id -> its device on the source
    target_devices: Mapping[str, PciAddress]  # ... and on the target
    deadline: float

    def record(self, phase: str) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "target_owner": self.target_owner,
            "live": self.live,
            "phase": phase,
        }


def migrate(
    store: Store,
    chooser: Chooser,
    aliases: Mapping[str, Alias],
    instance: InstanceRecord,
    *,
    target: str | None,
    live: bool,
    settings: MigrationSettings,
    attempts: int,
) -> InstanceRecord:
    """Move the instance; ACTIVE on the target, or back on its source with the reason.

    Raises:
        Conflict: the instance is not ACTIVE, or was deleted while it moved.
        ValidationError: ``target`` is the instance's own host.
        NotFound: ``target`` is not a registered host.
        NoValidHost: no host (or not ``target``) can take the instance.
    """
    source, source_owner = instance.host, instance.claim_owner
    if instance.state != ACTIVE or source is None or source_owner is None:
        raise Conflict(
            f"instance {instance.id} is {instance.state}: cannot migrate it (needs ACTIVE)"
        )
    if target == source:
        raise ValidationError("host", f"{target} is the instance's own host; name another one")
    owner = str(uuid.uuid4())
    wanted = wanted_of(store, instance, aliases)
    held = _by_port(store, source_owner, instance.port_ids)
    claim = claim_target(
        store, chooser, wanted, source=source, target=target, owner=owner, attempts=attempts
    )
    move = Move(
        instance_id=instance.id,
        source=source,
        target=claim.host,
        source_owner=source_owner,
        target_owner=owner,
        live=live,
        port_ids=instance.port_ids,
        source_devices=held,
        target_devices={d.request_id: d.address for d in claim.devices},
        deadline=settings.clock() + settings.timeout,
    )
    try:
        store.transition_instance(
            instance.id, frozenset({ACTIVE}), "migrate",
            state=MIGRATING, reason=None, migration=move.record(UNPLUGGING),
        )  # fmt: skip
    except Exception:
        store.release(owner)
        raise
    log.info("migrate: instance %s from %s to %s (%s)", instance.id, source, move.target,
             "live" if live else "cold")  # fmt: skip
    return _run(store, move, settings)


def _by_port(store: Store, owner: str, port_ids: tuple[str, ...]) -> dict[str, PciAddress]:
    held = (device for claim in store.claims_of(owner) for device in claim.devices)
    return {device.request_id: device.address for device in held if device.request_id in port_ids}


def _run(store: Store, move: Move, settings: MigrationSettings) -> InstanceRecord:
    try:
        try:
            _unplug_source(store, move, settings)
            _move_ports(store, move)
            _await_target(store, move, settings)
            return _finish(store, move)
        except VfnetError as failed:
            log.warning("migrate: instance %s rolls back: %s", move.instance_id, failed)
            return _roll_back(store, move, str(failed))
        except Deleted:
            raise
        except Exception:
            _roll_back(store, move, "internal error while migrating")
            raise
    except Deleted:
        _abandon(store, move)
        raise Conflict(
            f"instance {move.instance_id} was deleted while migrating to {move.target}; "
            "both its claims are released"
        ) from None


def _unplug_source(store: Store, move: Move, settings: MigrationSettings) -> None:
    if not move.live or not store.get_host(move.source).manages_vfs:
        return
    generation = store.desired_generation(move.source)
    _wait(
        store, move, settings,
        lambda: store.status_generation(move.source) >= generation,
        f"the agent of {move.source} did not report the devices unplugged",
    )  # fmt: skip
    log.info("migrate: instance %s unplugged on %s", move.instance_id, move.source)


def _move_ports(store: Store, move: Move) -> None:
    """Rebind every port on the target, then move the instance there in one write: until
    then the source's document shows it migrating (its devices unplugged)."""
    for port_id in move.port_ids:
        _alive(store, move)
        address = move.target_devices.get(port_id)
        if address is None:  # a normal port: no device, a bridge on the target
            bound = binding.bind(store, port_id, move.target)
        else:
            binding.unbind(store, port_id, release=False)
            bound = binding.bind_claimed(store, port_id, move.target, address, move.target_owner)
        if bound.vif_type == BINDING_FAILED:
            raise MigrationFailed(
                f"port {port_id} failed to bind on {move.target}: {bound.failure_reason}"
            )
    _update(store, move, host=move.target, migration=move.record(MOVING))
    log.info("migrate: instance %s rebound on %s", move.instance_id, move.target)


def _await_target(store: Store, move: Move, settings: MigrationSettings) -> None:
    if not store.get_host(move.target).manages_vfs:
        return
    generation = store.desired_generation(move.target)

    def plugged() -> bool:
        sriov = [port_id for port_id in move.port_ids if port_id in move.target_devices]
        ports = [store.get_port(port_id) for port_id in sriov]
        failed = next((port for port in ports if port.status == ERROR), None)
        if failed is not None:
            reason = failed.status_reason or "reported ERROR"
            raise MigrationFailed(f"port {failed.id} on {move.target}: {reason}")
        # An admin-down port stays DOWN once reported: the report itself is the answer.
        reported = store.status_generation(move.target) >= generation
        return all(p.status == ACTIVE or (reported and not p.admin_state_up) for p in ports)

    _wait(
        store, move, settings, plugged,
        f"the agent of {move.target} did not report every port ACTIVE",
    )  # fmt: skip


def _finish(store: Store, move: Move) -> InstanceRecord:
    store.release(move.source_owner)
    done = _update(
        store, move, claim_owner=move.target_owner, migration=None, state=ACTIVE, reason=None
    )
    log.info("migrate: instance %s is on %s", move.instance_id, move.target)
    return done


def _roll_back(store: Store, move: Move, reason: str) -> InstanceRecord:
    """Every port back on its source device, the target's claim released."""
    unbound = []
    for port_id in move.port_ids:
        _alive(store, move)
        port = store.get_port(port_id)
        address = move.source_devices.get(port_id)
        moved = port.host != move.source or port.vif_type == BINDING_FAILED
        if not moved and (address is None or port.claim_owner == move.source_owner):
            continue
        if address is None:
            bound = binding.bind(store, port_id, move.source)
        else:
            binding.unbind(store, port_id, release=False)
            bound = binding.bind_claimed(store, port_id, move.source, address, move.source_owner)
        if bound.vif_type == BINDING_FAILED:
            unbound.append(f"port {port_id} did not bind back: {bound.failure_reason}")
    store.release(move.target_owner)
    said = "; ".join([f"migration to {move.target} failed: {reason}", *unbound])
    return _update(
        store, move, host=move.source, migration=None, state=ERROR if unbound else ACTIVE,
        reason=said,
    )  # fmt: skip


def _abandon(store: Store, move: Move) -> None:
    """After a DELETE: whatever the migration bound since is unbound, both claims freed."""
    for port_id in move.port_ids:
        try:
            port = store.get_port(port_id)
        except NotFound:
            continue
        if port.claim_owner in (move.source_owner, move.target_owner):
            binding.unbind(store, port_id, release=False)
    store.release(move.target_owner)
    store.release(move.source_owner)
    log.info("migrate: instance %s was deleted; migration stopped", move.instance_id)


def _wait(
    store: Store,
    move: Move,
    settings: MigrationSettings,
    done: Callable[[], bool],
    failure: str,
) -> None:
    while True:
        _alive(store, move)
        if done():
            return
        if settings.clock() >= move.deadline:
            raise MigrationFailed(f"{failure} within {settings.timeout:g} s")
        settings.sleep(settings.poll_interval)


def _alive(store: Store, move: Move) -> None:
    try:
        instance = store.get_instance(move.instance_id)
    except NotFound:
        raise Deleted from None
    if instance.state == DELETING:
        raise Deleted


def _update(store: Store, move: Move, **changes: object) -> InstanceRecord:
    """Change the instance while it is still MIGRATING: only a DELETE moves it on."""
    try:
        return store.transition_instance(
            move.instance_id, frozenset({MIGRATING}), "record the migration of", **changes
        )
    except (NotFound, Conflict):
        raise Deleted from None

"""An instance's life on the server: requests -> place (one claim) -> bind every port -> state.

Every device of an instance is held by the one claim ``place`` makes, so a failure
anywhere after it is undone by unbinding the ports bound so far and releasing that one
owner: nothing claimed is left behind. The instance is kept in ERROR with the reason,
as Nova keeps a failed server.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from vfnet.api import binding
from vfnet.api.placing import Chooser, Wanted, place
from vfnet.errors import NotFound, NoValidHost, VfnetError
from vfnet.inventory.requests import NumaPolicy, PciRequest
from vfnet.network.binding import BINDING_FAILED
from vfnet.network.vnic_types import SRIOV_KINDS, VnicType
from vfnet.pci.alias import Alias
from vfnet.scheduler.refusals import vf_needs
from vfnet.scheduler.requests import instance_numa_policy, request_for_port, requests_for_flavor
from vfnet.store import Store
from vfnet.store.instances import ACTIVE, BUILD, ERROR, InstanceRecord
from vfnet.store.records import ClaimRecord, NetworkRecord, PortRecord

log = logging.getLogger(__name__)


class BootFailed(VfnetError):
    """A step after the instance was recorded failed; the instance goes ERROR with this."""


def flavor_requests(
    store: Store, flavor: str | None, aliases: Mapping[str, Alias], image_policy: str | None
) -> tuple[list[PciRequest], NumaPolicy | None]:
    """The flavor's alias requests and its NUMA policy (ValidationError: unknown alias)."""
    extra_specs = dict(store.get_flavor(flavor).extra_specs) if flavor else {}
    requests = requests_for_flavor(extra_specs, aliases, image_numa_policy=image_policy)
    return requests, instance_numa_policy(extra_specs, image_policy)


def port_requests(
    ports: Sequence[PortRecord],
    networks: Mapping[str, NetworkRecord],
    groups: Mapping[str, str],
    default_policy: NumaPolicy | None,
    needs: Mapping[str, frozenset[str]] | None = None,
) -> tuple[list[PciRequest], frozenset[str]]:
    """One request per SR-IOV port (``groups``: port id -> HA group; ``needs``: port id ->
    the VF attributes it needs, see ``port_needs``), and the physnets of the normal
    ports, which need a bridge on the host."""
    requests, normal = [], set()
    for port in ports:
        physnet = networks[port.network_id].physical_network
        trusted = port.profile.get("trusted")
        made = request_for_port(
            port.id,
            port.vnic_type,
            physnet,
            trusted=trusted if isinstance(trusted, bool | str) else None,
            pf_group=groups.get(port.id),
            default_numa_policy=default_policy,
            vf_needs=(needs or {}).get(port.id, frozenset()),
        )
        if made is not None:
            requests.append(made)
        elif physnet is not None:
            normal.add(physnet)
    return requests, frozenset(normal)


def port_needs(
    store: Store, ports: Sequence[PortRecord], networks: Mapping[str, NetworkRecord]
) -> dict[str, frozenset[str]]:
    """Per port, the VF attributes it needs a NIC to set: PFs that refused one are skipped."""
    found = {}
    for port in ports:
        policy_id = port.qos_policy_id or networks[port.network_id].qos_policy_id
        policy = store.get_qos_policy(policy_id).to_policy() if policy_id else None
        found[port.id] = vf_needs(
            policy, propagate_uplink_status=port.propagate_uplink_status, mirror_to=port.mirror_to
        )
    return found


def boot(
    store: Store, chooser: Chooser, instance: InstanceRecord, wanted: Wanted, attempts: int
) -> InstanceRecord:
    """Place the instance, bind every port on the chosen host; ERROR with the reason on
    any failure, with everything claimed and bound undone."""
    try:
        claim = place(store, chooser, wanted, attempts)
    except NoValidHost as refused:
        log.info("boot: instance %s has no valid host: %s", instance.id, refused)
        return store.update_instance(instance.id, state=ERROR, reason=f"no valid host: {refused}")
    log.info("boot: instance %s placed on %s", instance.id, claim.host)
    try:
        _bind_all(store, instance, claim)
    except VfnetError as failed:  # BootFailed, or a port, network or device gone
        _undo(store, instance, claim.owner)
        return store.update_instance(instance.id, state=ERROR, reason=str(failed))
    except Exception:
        _undo(store, instance, claim.owner)
        store.update_instance(instance.id, state=ERROR, reason="internal error while binding")
        raise
    state = state_of(store, instance.port_ids)
    return store.update_instance(
        instance.id, host=claim.host, claim_owner=claim.owner, state=state[0], reason=state[1]
    )


def _bind_all(store: Store, instance: InstanceRecord, claim: ClaimRecord) -> None:
    devices = {device.request_id: device.address for device in claim.devices}
    for port_id in instance.port_ids:
        if port_id in devices:
            bound = binding.bind_claimed(store, port_id, claim.host, devices[port_id], claim.owner)
        else:
            bound = binding.bind(store, port_id, claim.host)
        if bound.vif_type == BINDING_FAILED:
            raise BootFailed(f"port {port_id} failed to bind: {bound.failure_reason}")


def _undo(store: Store, instance: InstanceRecord, owner: str) -> None:
    for port_id in instance.port_ids:
        binding.unbind(store, port_id, release=False)
    store.release(owner)
    log.info("boot: instance %s rolled back, claim %s released", instance.id, owner)


def state_of(store: Store, port_ids: Sequence[str]) -> tuple[str, str | None]:
    """ACTIVE once every SR-IOV port is ACTIVE; ERROR with the reason of a port in ERROR."""
    ports = [store.get_port(port_id) for port_id in port_ids]
    sriov = [port for port in ports if VnicType(port.vnic_type) in SRIOV_KINDS]
    failed = next((port for port in sriov if port.status == ERROR), None)
    if failed is not None:
        return ERROR, f"port {failed.id}: {failed.status_reason or 'reported ERROR'}"
    if all(port.status == ACTIVE for port in sriov):
        return ACTIVE, None
    return BUILD, None


def port_reported(store: Store, port: PortRecord) -> None:
    """After an agent's report on ``port``: its instance's state, if it has one."""
    if not port.device_id:
        return
    try:
        instance = store.get_instance(port.device_id)
    except NotFound:
        return  # a device_id set by hand, not an instance of ours
    # One in ERROR on its host was put there by a port's report (a boot that failed was
    # never placed): it comes back once the agent got every port ACTIVE after all.
    if instance.state not in (BUILD, ACTIVE, ERROR) or instance.host != port.host:
        return
    state, reason = state_of(store, instance.port_ids)
    if instance.state == ACTIVE and state != ERROR:
        # Once ACTIVE, a port still plugging (attached hot, back from a failed
        # migration) does not make it BUILD again, nor clear why the last change failed.
        return
    if instance.state == ERROR and state != ACTIVE:
        return
    if (state, reason) != (instance.state, instance.reason):
        store.update_instance(instance.id, state=state, reason=reason)

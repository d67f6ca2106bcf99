"""An instance's life after it is built: ports attached and detached hot, suspend and resume.

A hot-attached port's device is claimed on the instance's host only, under the
instance's own claim, so deleting the instance frees it with the rest; detaching takes
just that device out of the claim and releases it (a verified reset first on hosts whose
agent manages VFs). Suspending keeps every device claimed: the agent unplugs them and
plugs them back on resume. Each change either completes or leaves nothing held.
"""

from __future__ import annotations

import logging

from vfnet.api import binding, booting
from vfnet.errors import Conflict, InsufficientDevices, NoValidHost
from vfnet.network.binding import BINDING_FAILED
from vfnet.store import Store
from vfnet.store.instances import ACTIVE, BUILD, ERROR, SUSPENDED, InstanceRecord
from vfnet.store.records import PortRecord

log = logging.getLogger(__name__)

# States in which an instance has a host and a claim that can take one more port.
ATTACHABLE = frozenset({BUILD, ACTIVE, SUSPENDED})
# States in which no migration or deletion is moving its ports.
DETACHABLE = ATTACHABLE | {ERROR}


def attach(store: Store, instance: InstanceRecord, port: PortRecord, *, made: bool) -> None:
    """Attach ``port`` as the instance's next interface: claimed on its host, bound.

    Raises:
        Conflict: the instance cannot take a port now (its state names why), or the
            port is attached already, or it cannot bind on the host.
        NoValidHost: the instance's host has no free device (or bridge) for the port.
    """
    if instance.host is None or instance.claim_owner is None:
        raise Conflict(f"instance {instance.id} is {instance.state} on no host: cannot attach")
    store.attach_instance_port(instance.id, port.id, made=made, allowed=ATTACHABLE)
    try:
        _plug(store, instance.host, instance.claim_owner, port)
    except Exception:
        _unplug(store, instance, port.id)
        store.detach_instance_port(instance.id, port.id)
        raise
    log.info("attach: port %s plugged into instance %s", port.id, instance.id)


def _plug(store: Store, host: str, owner: str, port: PortRecord) -> None:
    if port.bound:  # bound on its own before: that binding and its device go first
        binding.unbind(store, port.id)
    network = store.get_network(port.network_id)
    networks = {network.id: network}
    needs = booting.port_needs(store, [port], networks)
    requests, normal = booting.port_requests([port], networks, {}, None, needs)
    if requests:
        try:
            claim = store.claim_with_retry(host, owner, requests)
        except InsufficientDevices as refused:
            raise NoValidHost(
                f"host {host} has no free device for port {port.id}: {refused}"
            ) from None
        (address,) = claim.addresses
        bound = binding.bind_claimed(store, port.id, host, address, owner)
    else:
        missing = sorted(normal - set(store.get_host(host).bridges))
        if missing:
            raise NoValidHost(
                f"host {host} has no bridge for physical network {missing[0]}, "
                f"which normal port {port.id} needs"
            )
        bound = binding.bind(store, port.id, host)
    if bound.vif_type == BINDING_FAILED:
        raise Conflict(f"port {port.id} failed to bind on {host}: {bound.failure_reason}")


def detach(store: Store, instance: InstanceRecord, port_id: str) -> None:
    """Take the port out of the instance: unbound, its device alone released, given
    back (``device_id`` empty), or deleted when the instance made it.

    Raises:
        Conflict: the port is not the instance's, or the instance is migrating or
            being deleted.
    """
    if instance.state not in DETACHABLE:
        needed = " or ".join(sorted(DETACHABLE))
        raise Conflict(
            f"instance {instance.id} is {instance.state}: cannot detach a port from it "
            f"(needs {needed})"
        )
    store.detach_instance_port(instance.id, port_id)
    _unplug(store, instance, port_id)
    if port_id in instance.made_port_ids:
        store.delete_port(port_id)
    log.info("detach: port %s taken out of instance %s", port_id, instance.id)


def _unplug(store: Store, instance: InstanceRecord, port_id: str) -> None:
    """Unbind the port and release the device the instance's claim holds for it."""
    binding.unbind(store, port_id)  # also frees a device the port held on its own
    owner = instance.claim_owner
    if owner is None:
        return
    for claim in store.claims_of(owner):
        for device in claim.devices:
            if device.request_id == port_id:
                store.release_device(claim.host, owner, device.address)


def suspend(store: Store, instance_id: str) -> InstanceRecord:
    """ACTIVE -> SUSPENDED; the devices stay claimed (Conflict naming any other state)."""
    return store.transition_instance(
        instance_id, frozenset({ACTIVE}), "suspend", state=SUSPENDED, reason=None
    )


def resume(store: Store, instance_id: str) -> InstanceRecord:
    """SUSPENDED -> ACTIVE (Conflict naming any other state)."""
    return store.transition_instance(
        instance_id, frozenset({SUSPENDED}), "resume", state=ACTIVE, reason=None
    )

"""Binding a port on a host, and unbinding it: pre-check, claim, bind, persist, release.

The one pipeline every binding goes through: a ``binding:host_id`` update, where the
port's device is claimed here for owner ``port:<id>``, and an instance's creation, where
the instance's one claim already holds the device (``bind_claimed``). The decisions
are ``vfnet.network.binding``'s; this module fetches what they need, claims the device,
and writes the outcome. A port that cannot bind is persisted as
``binding_failed`` with the reason, and holds no device.
"""

from __future__ import annotations

import logging

from vfnet.errors import InsufficientDevices
from vfnet.network.binding import (
    BINDING_FAILED,
    Binding,
    BindingFailed,
    ClaimedDevice,
    HostNetworking,
    bind_port,
    unbound_profile,
)
from vfnet.network.networks import Network
from vfnet.network.ports import Port, PortStatus
from vfnet.network.qos import QosPolicy
from vfnet.network.vnic_types import SRIOV_KINDS, VnicType
from vfnet.pci.address import PciAddress
from vfnet.pci.devices import DeviceType
from vfnet.scheduler.refusals import vf_needs
from vfnet.scheduler.requests import request_for_port
from vfnet.store import Store
from vfnet.store.records import PortRecord

log = logging.getLogger(__name__)

# What each kind of reported device lets a host serve.
_SERVES: dict[DeviceType, frozenset[VnicType]] = {
    DeviceType.VF: frozenset({VnicType.DIRECT, VnicType.MACVTAP}),
    DeviceType.PF: frozenset({VnicType.DIRECT_PHYSICAL}),
    DeviceType.VDPA: frozenset({VnicType.VDPA}),
}


def claim_owner(port_id: str) -> str:
    """The owner a port's device is claimed for: one per port, so a release is idempotent."""
    return f"port:{port_id}"


def host_networking(store: Store, host: str) -> HostNetworking:
    """What ``host`` offers ports: its physnets, and vnic types from its devices and bridges.

    Raises:
        NotFound: the host is not registered.
    """
    record = store.get_host(host)
    kinds = {device.dev_type for device in store.list_devices(host=host)}
    served = {vnic for kind in kinds for vnic in _SERVES.get(kind, ())}
    if record.bridges:
        served.add(VnicType.NORMAL)
    return HostNetworking(
        host=host,
        physnets=frozenset(record.physnets),
        vnic_types=frozenset(served),
        bridges=frozenset(record.bridges),
    )


def bind(store: Store, port_id: str, host: str) -> PortRecord:
    """Bind the port on ``host`` and persist the outcome: bound, or binding_failed and why.

    Binding again on the host it is bound to changes nothing; on another host, the old
    binding (and its device) goes first.

    Raises:
        NotFound: the port, its network or the host does not exist.
    """
    record = store.get_port(port_id)
    if record.host == host and record.vif_type != BINDING_FAILED:
        return record
    if record.bound:
        record = unbind(store, port_id)
    port, network = record.to_port(), store.get_network(record.network_id).to_network()
    offered = host_networking(store, host)
    outcome = bind_port(port, network, offered, _stand_in(port, network))
    if isinstance(outcome, BindingFailed) or port.vnic_type not in SRIOV_KINDS:
        return _persist(store, port, outcome, owner=None)
    log.info("bind: claiming a %s device on %s for port %s", port.vnic_type, host, port_id)
    owner = claim_owner(port_id)
    try:
        device = _claim(store, port, network, host, owner)
    except InsufficientDevices as refused:
        failed = BindingFailed(host, f"host {host} has no free device for this port: {refused}")
        return _persist(store, port, failed, owner=None)
    outcome = bind_port(port, network, offered, device)
    if not isinstance(outcome, Binding):
        store.release(owner)
        return _persist(store, port, outcome, owner=None)
    try:
        return _persist(store, port, outcome, owner=owner)
    except Exception:
        store.release(owner)
        raise


def bind_claimed(
    store: Store, port_id: str, host: str, address: PciAddress, owner: str
) -> PortRecord:
    """Bind the port on ``host`` to the device at ``address`` that ``owner`` already holds.

    The claim stays the caller's: a port that cannot bind is persisted as
    ``binding_failed`` and the caller releases ``owner``.

    Raises:
        NotFound: the port, its network, the host or the device does not exist.
    """
    record = store.get_port(port_id)
    port, network = record.to_port(), store.get_network(record.network_id).to_network()
    offered = host_networking(store, host)
    outcome = bind_port(port, network, offered, claimed_device(store, host, address))
    return _persist(store, port, outcome, owner=owner if isinstance(outcome, Binding) else None)


def unbind(store: Store, port_id: str, *, release: bool = True) -> PortRecord:
    """Forget the port's binding, then free its device (idempotent: unbound stays unbound).

    ``release=False``: the device belongs to a claim the caller frees (an instance's).
    """
    record = store.clear_port_binding(port_id)
    # Cleared first: a failed release leaves a claim the next unbind frees, never a
    # port pointing at a device someone else holds.
    if release:
        store.release(claim_owner(port_id))
        log.info("unbind: port %s released its device", port_id)
    return record


def _stand_in(port: Port, network: Network) -> ClaimedDevice | None:
    """Before claiming, a device that passes the device check, so only the port, segment
    and host can refuse: nothing is claimed for a port that could never bind there."""
    if port.vnic_type not in SRIOV_KINDS:
        return None
    return ClaimedDevice("", "", network.segment.physical_network)


def _claim(store: Store, port: Port, network: Network, host: str, owner: str) -> ClaimedDevice:
    trusted = port.profile.get("trusted")
    request = request_for_port(
        port.id,
        port.vnic_type.value,
        network.segment.physical_network,
        trusted=trusted if isinstance(trusted, bool) else None,
        vf_needs=vf_needs(
            _policy(store, port, network),
            propagate_uplink_status=port.propagate_uplink_status,
            mirror_to=port.mirror_to,
        ),
    )
    assert request is not None  # SR-IOV kinds always ask for a device
    claim = store.claim_with_retry(host, owner, [request])
    try:
        (address,) = claim.addresses
        return claimed_device(store, host, address)
    except Exception:
        store.release(owner)
        raise


def _policy(store: Store, port: Port, network: Network) -> QosPolicy | None:
    policy_id = port.qos_policy_id or network.qos_policy_id
    return store.get_qos_policy(policy_id).to_policy() if policy_id else None


def claimed_device(store: Store, host: str, address: PciAddress) -> ClaimedDevice:
    """What binding needs of a claimed device: its slot, vendor info, physnet and MAC."""
    device = store.get_device(host, address).reported
    return ClaimedDevice(
        pci_slot=str(device.address),
        pci_vendor_info=f"{device.vendor_id}:{device.product_id}",
        physical_network=device.physnet,
        mac=device.mac,
    )


def _persist(
    store: Store, port: Port, outcome: Binding | BindingFailed, *, owner: str | None
) -> PortRecord:
    if isinstance(outcome, BindingFailed):
        log.info("bind: port %s failed on %s: %s", port.id, outcome.host, outcome.reason)
        return store.set_port_binding(
            port.id,
            host=outcome.host,
            vif_type=outcome.vif_type,
            vif_details={},
            profile=unbound_profile(port.profile),
            status=PortStatus.DOWN.value,
            failure_reason=outcome.reason,
            claim_owner=None,
        )
    log.info("bind: port %s bound on %s as %s", port.id, outcome.host, outcome.vif_type)
    return store.set_port_binding(
        port.id,
        host=outcome.host,
        vif_type=outcome.vif_type,
        vif_details=dict(outcome.vif_details),
        profile=dict(outcome.profile),
        status=outcome.status.value,
        failure_reason=None,
        claim_owner=owner,
        mac_address=outcome.mac_address if outcome.mac_address != port.mac_address else None,
    )

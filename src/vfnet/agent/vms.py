"""The host's VMs in libvirt, built from the desired state: define, start, plug, suspend, remove.

For each instance of kind ``vm`` the domain is named after the instance and marked as
vfnet's in its ``<metadata>``; the agent never touches a domain without that mark. The
devices it should hold: each claimed VF attached to it (by ``vnic_type``, as
``domain_xml.port_device`` makes them), each flavor alias's PCI device, and a tap on
the physnet's bridge for each normal port. One pass per VM:

1. missing: define it with every device, and start it when it should run;
2. present: compare its device keys (MAC or PCI address, as libvirt matches them) in
   its configuration with the wanted ones; unplug what is not wanted, plug what is
   missing. An attach that reaches only the configuration (a driver without hot-plug)
   counts as plugged: the guest sees it at its next start;
3. lifecycle. SUSPENDED: its SR-IOV devices (VF interfaces and PCI hostdevs) are
   unplugged first, since QEMU cannot save a guest holding a VFIO device, then it is
   saved (managed save). RUNNING from saved: resumed, then plugged. MIGRATING: its
   SR-IOV devices unplugged, left running, as a live migration with hot-unplug needs;
   one that is not here yet is the migration's to bring;
4. vfnet domains of instances no longer wanted are destroyed and undefined.

An idle pass reads each domain's state and configuration once and writes nothing.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from vfnet.agent.attach.domain_xml import (
    BridgeInterface,
    Device,
    Domain,
    NumaCell,
    PciHostdev,
    PortPlug,
    device_xml,
    domain_xml,
    port_device,
)
from vfnet.agent.attach.domain_xml_edit import device_key, plugged_devices, vfnet_instance
from vfnet.agent.attach.hypervisor import DomainState, Hypervisor
from vfnet.agent.bridges import tap_name
from vfnet.agent.desired import AttachKind, ClaimedVf, DesiredState, InstanceSpec, InstanceState
from vfnet.errors import Conflict, ValidationError, VfnetError
from vfnet.network.vnic_types import VnicType
from vfnet.pci.devices import HostDevices

if TYPE_CHECKING:
    from vfnet.agent.loop import Discovery

log = logging.getLogger("vfnet.agent")

# Instance ids that are not UUIDs get a domain UUID derived from them, stable across passes.
_UUIDS = uuid.UUID("5e0c6f0a-7d52-4c1e-9a0b-2f3e8d1c4b7a")

__all__ = ["VmPlugger", "numa_layout"]


@dataclass(frozen=True, slots=True)
class _Wanted:
    # None: the port's device cannot be made now (its VF's netdev is missing from the
    # last discovery...): one plugged before stays, nothing new is plugged.
    device: Device | None
    port_id: str | None  # None: a flavor alias's PCI device
    sriov: bool  # unplugged while the VM is suspended or migrating


@dataclass
class _Problems:
    """port id (or ``instance:<id>`` for what has no port) -> ``vm <id>: <reason>``."""

    found: dict[str, str] = field(default_factory=dict)

    def add(self, vm: str, port_id: str | None, reason: str) -> None:
        log.warning("vm %s%s: %s", vm, f" port {port_id}" if port_id else "", reason)
        key = port_id or f"instance:{vm}"
        text = f"vm {vm}: {reason}"
        self.found[key] = f"{self.found[key]}; {reason}" if key in self.found else text

    def whole(self, vm: str, wanted: Mapping[str, _Wanted], reason: str) -> None:
        self.add(vm, None, reason)
        for want in wanted.values():
            if want.port_id is not None:
                self.add(vm, want.port_id, reason)


class VmPlugger:
    """Builds the host's VMs on one hypervisor; one ``sync`` a turn."""

    def __init__(self, hypervisor: Hypervisor, *, domain_type: str = "kvm") -> None:
        self.hypervisor = hypervisor
        self.domain_type = domain_type  # "qemu" where there is no KVM (a nested host)
        self._foreign: set[str] = set()  # domains seen without vfnet's mark: not read again

    def sync(self, desired: DesiredState, discovery: Discovery) -> Mapping[str, str]:
        """Returns port id -> reason for each port it could not plug, and
        ``instance:<id>`` -> reason for a VM's other failures."""
        problems = _Problems()
        vms = {id_: spec for id_, spec in sorted(desired.instances.items()) if spec.kind == "vm"}
        wanted = _wanted(desired, discovery.host, vms, problems)
        defined = set(self.hypervisor.names())
        for vm in vms.values():
            try:
                self._sync_vm(vm, wanted[vm.id], defined, problems)
            except VfnetError as error:
                problems.whole(vm.id, wanted[vm.id], str(error))
        self._remove(defined - set(vms))
        return problems.found

    def _sync_vm(
        self, vm: InstanceSpec, wanted: dict[str, _Wanted], defined: set[str], problems: _Problems
    ) -> None:
        running = vm.state is InstanceState.RUNNING
        keep = {key: want for key, want in wanted.items() if running or not want.sriov}
        if vm.id not in defined:
            if vm.state is not InstanceState.MIGRATING:
                self._define(vm, [w.device for w in keep.values() if w.device is not None])
            return
        self._foreign.discard(vm.id)
        state = self.hypervisor.state(vm.id)
        config = self.hypervisor.xml(vm.id, inactive=True)
        if vfnet_instance(config) is None:
            raise Conflict(f"domain {vm.id!r} exists but vfnet did not define it: undefine it")
        if vm.state is InstanceState.SUSPENDED and state is DomainState.SAVED:
            return  # a saved image is not edited: plugging waits for the resume
        if running and state is DomainState.SAVED:
            self.hypervisor.resume(vm.id)
            log.info("vm %s: resumed", vm.id)
        self._plug(vm.id, keep, plugged_devices(config), problems)
        if running and state is DomainState.SHUT_OFF:
            self.hypervisor.start(vm.id)
            log.info("vm %s: started", vm.id)
        elif vm.state is InstanceState.SUSPENDED and state in _ACTIVE:
            self.hypervisor.suspend(vm.id)
            log.info("vm %s: suspended (saved)", vm.id)

    def _define(self, vm: InstanceSpec, devices: list[Device]) -> None:
        vcpus = _required(vm.vcpus, "vcpus")
        memory = _required(vm.memory_mib, "memory_mib")
        domain = Domain(
            vm.id,
            _domain_uuid(vm.id),
            memory,
            vcpus,
            numa_layout(vcpus, memory, vm.numa_cells),
            tuple(devices),
            type=self.domain_type,
            vfnet_instance=vm.id,
        )
        self.hypervisor.define(domain_xml(domain))
        log.info("vm %s: defined with %d devices", vm.id, len(devices))
        if vm.state is InstanceState.RUNNING:
            self.hypervisor.start(vm.id)
            log.info("vm %s: started", vm.id)

    def _plug(
        self, name: str, keep: Mapping[str, _Wanted], have: Mapping[str, str], problems: _Problems
    ) -> None:
        for key, xml in have.items():
            if key not in keep:
                try:
                    self.hypervisor.detach(name, xml)
                    log.info("vm %s: unplugged %s", name, key)
                except VfnetError as error:
                    problems.add(name, None, f"cannot unplug {key}: {error}")
        for key, want in keep.items():
            if key not in have and want.device is not None:
                try:
                    how = self.hypervisor.attach(name, device_xml(want.device))
                    log.info("vm %s: plugged %s (%s)", name, key, how.value)
                except VfnetError as error:
                    problems.add(name, want.port_id, f"cannot plug {key}: {error}")

    def _remove(self, names: set[str]) -> None:
        """Destroys and undefines vfnet's domains among ``names`` (no instance wants them)."""
        self._foreign &= names
        for name in sorted(names - self._foreign):
            try:
                if vfnet_instance(self.hypervisor.xml(name, inactive=True)) is None:
                    self._foreign.add(name)
                    continue
                self.hypervisor.destroy(name)
                self.hypervisor.undefine(name)
                log.info("vm %s: removed (no instance wants it)", name)
            except VfnetError as error:
                log.warning("vm %s: cannot remove it: %s", name, error)


_ACTIVE = (DomainState.RUNNING, DomainState.PAUSED)


def _wanted(
    desired: DesiredState,
    host: HostDevices,
    vms: Mapping[str, InstanceSpec],
    problems: _Problems,
) -> dict[str, dict[str, _Wanted]]:
    """Per VM, its devices by key; a device that cannot be made is that port's problem."""
    wanted: dict[str, dict[str, _Wanted]] = {vm: {} for vm in vms}

    def add(
        vm: str,
        port_id: str | None,
        sriov: bool,
        make: Callable[..., Device],
        *args: object,
        held: str | None = None,  # the key a plugged device of the port has, if made before
    ) -> None:
        device: Device | None
        try:
            made = make(*args)
            device, key = made, device_key(made.element())
        except VfnetError as error:
            problems.add(vm, port_id, str(error))
            if held is None:
                return
            device, key = None, held
        if key in wanted[vm]:
            other = wanted[vm][key].port_id or "a flavor's PCI device"
            problems.add(vm, port_id, f"its device has the {key} of port {other} too")
            return
        wanted[vm][key] = _Wanted(device, port_id, sriov)

    for vf in sorted(desired.claimed.values(), key=lambda vf: vf.address):
        if vf.attach.kind is AttachKind.LIBVIRT:
            vm = vf.attach.instance or vf.attach.name or ""
            if vm in vms:
                add(vm, vf.port_id, True, _vf_device, vf, host, held=_vf_key(vf))
            else:
                problems.add(vm, vf.port_id, "no VM of that id is wanted on this host")
    for vm, spec in vms.items():
        for address in spec.hostdevs:
            add(vm, None, True, PciHostdev, address)
        for port in spec.bridge_ports:
            tap = tap_name(port.port_id)
            add(vm, port.port_id, False, BridgeInterface, port.bridge, tap, port.mac, port.mtu)
    return wanted


def _vf_key(vf: ClaimedVf) -> str:
    """The key of the device a VF's port is plugged as (what ``device_key`` gives)."""
    if vf.attach.vnic_type == VnicType.DIRECT_PHYSICAL:
        return f"pci {vf.address}"
    return f"mac {vf.settings.mac}"


def _vf_device(vf: ClaimedVf, host: HostDevices) -> Device:
    """The device for a claimed VF (or PF) by its vnic type; none given is ``direct``."""
    try:
        vnic_type = VnicType(vf.attach.vnic_type or VnicType.DIRECT)
    except ValueError:
        raise ValidationError("vnic_type", f"{vf.attach.vnic_type!r} is unknown") from None
    found = host.get(vf.address)
    netdev = found.ifname if found else None
    vdpa = found.vdpa.chardev if found and found.vdpa else None
    if vnic_type is VnicType.MACVTAP and netdev is None:
        raise ValidationError("netdev", f"VF {vf.address} has no netdev on this host for macvtap")
    if vnic_type is VnicType.VDPA and vdpa is None:
        raise ValidationError(
            "vdpa_device", f"VF {vf.address} has no vDPA device bound to vhost_vdpa on this host"
        )
    plug = PortPlug(
        vnic_type,
        vf.settings.mac,
        vf.settings.vlan,
        pci_slot=vf.address,
        netdev=netdev,
        vdpa_device=vdpa,
        mtu=vf.mtu,
    )
    return port_device(plug)


def numa_layout(vcpus: int, memory_mib: int, cells: int) -> tuple[NumaCell, ...]:
    """``cells`` guest NUMA nodes holding consecutive vCPUs and equal memory, the first
    ones one more of each when they do not divide evenly (as Nova's ``hw:numa_nodes``).

    Raises:
        ValidationError: fewer vCPUs or MiB than cells.
    """
    if cells <= 0:
        return ()
    if vcpus < cells or memory_mib < cells:
        raise ValidationError(
            "numa_cells",
            f"{cells} guest NUMA nodes need at least {cells} vCPUs and MiB; "
            f"the VM has {vcpus} vCPUs and {memory_mib} MiB",
        )
    layout, first_cpu = [], 0
    for index in range(cells):
        count = vcpus // cells + (index < vcpus % cells)
        memory = memory_mib // cells + (index < memory_mib % cells)
        layout.append(NumaCell(tuple(range(first_cpu, first_cpu + count)), memory))
        first_cpu += count
    return tuple(layout)


def _required(value: int | None, name: str) -> int:
    if value is None:
        raise ValidationError(name, "is required to define a VM")
    return value


def _domain_uuid(instance_id: str) -> uuid.UUID:
    """The instance's id when it is a UUID (as Nova names domains), else one derived from it."""
    try:
        return uuid.UUID(instance_id)
    except ValueError:
        return uuid.uuid5(_UUIDS, instance_id)

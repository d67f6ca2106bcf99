"""VmPlugger driving libvirt's test:///default through a VM's life, every XML it writes
judged by libvirt's RelaxNG schema (and, on define, by libvirt's own parser).

The test driver cannot hot-plug, so every plug and unplug here takes the define-based
fallback and counts as plugged in the configuration.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from vfnet.agent.attach.domain_xml_edit import plugged, vfnet_instance
from vfnet.agent.attach.hypervisor import DomainState, Hypervisor, Plugged
from vfnet.agent.desired import (
    AttachKind,
    Attachment,
    BridgePort,
    ClaimedVf,
    DesiredState,
    InstanceSpec,
    InstanceState,
)
from vfnet.agent.inventory import Selection
from vfnet.agent.loop import Discovery
from vfnet.agent.vms import VmPlugger
from vfnet.config import HostConfig
from vfnet.errors import NotFound
from vfnet.network.vf_settings import VfSettings
from vfnet.pci.address import PciAddress
from vfnet.pci.devices import DeviceType, HostDevices, Netdev, PciDevice, VdpaDevice

SCHEMA = Path("/usr/share/libvirt/schemas/domain.rng")
PF = PciAddress.parse("0000:3b:00.0")
PF2 = PciAddress.parse("0000:3c:00.0")
VFS = {
    "direct": PciAddress.parse("0000:3b:02.1"),
    "macvtap": PciAddress.parse("0000:3b:02.2"),
    "vdpa": PciAddress.parse("0000:3b:02.3"),
    "direct-physical": PF2,
}
GPU = PciAddress.parse("0000:af:00.0")
SHELL = "<domain type='kvm'><name>x</name><memory>1</memory><os><type>hvm</type></os>"


class Validating:
    """A Hypervisor that judges every domain and device it is given by the RelaxNG schema
    before the real one sees it, and keeps what it judged."""

    def __init__(self, inner: Hypervisor, schema: etree.RelaxNG) -> None:
        self.inner, self.schema = inner, schema
        self.judged: list[str] = []

    def _judge(self, document: str) -> None:
        if not self.schema.validate(etree.fromstring(document)):
            raise AssertionError(f"{self.schema.error_log}\n{document}")
        self.judged.append(document)

    def define(self, xml: str) -> str:
        self._judge(xml)
        return self.inner.define(xml)

    def attach(self, name: str, device_xml: str) -> Plugged:
        self._judge(f"{SHELL}<devices>{device_xml}</devices></domain>")
        return self.inner.attach(name, device_xml)

    def detach(self, name: str, device_xml: str) -> Plugged:
        return self.inner.detach(name, device_xml)

    def undefine(self, name: str) -> None:
        self.inner.undefine(name)

    def names(self) -> list[str]:
        return self.inner.names()

    def state(self, name: str) -> DomainState:
        return self.inner.state(name)

    def xml(self, name: str, *, inactive: bool = False) -> str:
        return self.inner.xml(name, inactive=inactive)

    def start(self, name: str) -> None:
        self.inner.start(name)

    def destroy(self, name: str) -> None:
        self.inner.destroy(name)

    def suspend(self, name: str) -> None:
        self.inner.suspend(name)

    def resume(self, name: str) -> None:
        self.inner.resume(name)

    def pause(self, name: str) -> None:
        self.inner.pause(name)

    def unpause(self, name: str) -> None:
        self.inner.unpause(name)


@pytest.fixture(scope="module")
def schema() -> etree.RelaxNG:
    assert SCHEMA.exists(), f"{SCHEMA} is missing: scripts/bootstrap installs it (libvirt0)"
    return etree.RelaxNG(etree.parse(str(SCHEMA)))


@pytest.fixture
def vm_id(libvirt_test_driver: Hypervisor) -> Iterator[str]:
    """A fresh instance id; its domain is gone after the test, whatever the test did."""
    made = str(uuid.uuid4())
    yield made
    try:
        libvirt_test_driver.destroy(made)
        libvirt_test_driver.undefine(made)
    except NotFound:
        pass


@pytest.fixture
def validating(libvirt_test_driver: Hypervisor, schema: etree.RelaxNG) -> Validating:
    return Validating(libvirt_test_driver, schema)


def claims(vm: str, *vnic_types: str) -> dict[PciAddress, ClaimedVf]:
    made = {}
    for index, vnic_type in enumerate(vnic_types):
        address = VFS[vnic_type]
        settings = VfSettings(mac=f"fa:16:3e:00:00:{index + 1:02x}", vlan=100 * (index == 0))
        attach = Attachment(AttachKind.LIBVIRT, vm, vnic_type=vnic_type, instance=vm)
        made[address] = ClaimedVf(
            address, f"instance:{vm}", 1, f"port-{index}", settings, 1500, attach
        )
    return made


def desired(
    vm: str, state: InstanceState, vnic_types: tuple[str, ...], *, hostdevs: bool = True
) -> DesiredState:
    bridge_port = BridgePort(
        "b1e5a210-7c44-4a3e-8f0d-5d1e2c3b4a59", "fa:16:3e:00:00:0b", "br-ext", "eth9", 1450
    )
    spec = InstanceSpec(
        vm, "vm", state, vcpus=4, memory_mib=1024, numa_cells=2,
        hostdevs=(GPU,) if hostdevs else (), bridge_ports=(bridge_port,),
    )  # fmt: skip
    return DesiredState("compute-1", 1, claims(vm, *vnic_types), instances={vm: spec})


DISCOVERY = Discovery(
    HostDevices.of(
        [
            PciDevice(PF, DeviceType.PF, "15b3", "101d", netdevs=(Netdev("ens1f0"),)),
            PciDevice(VFS["direct"], DeviceType.VF, "15b3", "101e", parent_addr=PF, vf_index=1),
            PciDevice(
                VFS["macvtap"],
                DeviceType.VF,
                "15b3",
                "101e",
                netdevs=(Netdev("ens1f0v2"),),
                parent_addr=PF,
                vf_index=2,
            ),
            PciDevice(
                VFS["vdpa"],
                DeviceType.VDPA,
                "15b3",
                "101e",
                parent_addr=PF,
                vf_index=3,
                vdpa=VdpaDevice("vdpa0", VFS["vdpa"], "vhost_vdpa", "/dev/vhost-vdpa-0"),
            ),
            PciDevice(PF2, DeviceType.PF, "15b3", "101d"),
        ]
    ),
    Selection([]),
    HostConfig("/etc/vfnet/host.toml", "compute-1"),
    1,
)
EVERY = ("direct", "macvtap", "vdpa", "direct-physical")
SRIOV_KEYS = {
    "mac fa:16:3e:00:00:01",
    "mac fa:16:3e:00:00:02",
    "mac fa:16:3e:00:00:03",
    f"pci {PF2}",
    f"pci {GPU}",
}
BRIDGE_KEY = "mac fa:16:3e:00:00:0b"


def config_keys(hypervisor: Hypervisor, vm: str) -> set[str]:
    return set(plugged(hypervisor.xml(vm, inactive=True)))


def test_a_vm_lives_its_whole_life_in_libvirt_from_the_desired_state(
    validating: Validating, vm_id: str, schema: etree.RelaxNG
) -> None:
    plugger = VmPlugger(validating)

    assert plugger.sync(desired(vm_id, InstanceState.RUNNING, EVERY), DISCOVERY) == {}
    assert validating.state(vm_id) is DomainState.RUNNING
    assert set(plugged(validating.xml(vm_id))) == SRIOV_KEYS | {BRIDGE_KEY}
    assert vfnet_instance(validating.xml(vm_id, inactive=True)) == vm_id
    cells = ET.fromstring(validating.xml(vm_id)).iterfind("cpu/numa/cell")
    assert [cell.get("cpus") for cell in cells] == ["0-1", "2-3"]

    judged = len(validating.judged)
    assert plugger.sync(desired(vm_id, InstanceState.RUNNING, EVERY), DISCOVERY) == {}
    assert len(validating.judged) == judged  # nothing written on an idle pass

    fewer = desired(vm_id, InstanceState.RUNNING, ("direct", "macvtap"), hostdevs=False)
    assert plugger.sync(fewer, DISCOVERY) == {}
    assert config_keys(validating, vm_id) == {
        "mac fa:16:3e:00:00:01", "mac fa:16:3e:00:00:02", BRIDGE_KEY,
    }  # fmt: skip

    assert plugger.sync(desired(vm_id, InstanceState.SUSPENDED, EVERY), DISCOVERY) == {}
    assert validating.state(vm_id) is DomainState.SAVED
    assert config_keys(validating, vm_id) == {BRIDGE_KEY}

    assert plugger.sync(desired(vm_id, InstanceState.RUNNING, EVERY), DISCOVERY) == {}
    assert validating.state(vm_id) is DomainState.RUNNING
    assert config_keys(validating, vm_id) == SRIOV_KEYS | {BRIDGE_KEY}

    assert plugger.sync(desired(vm_id, InstanceState.MIGRATING, EVERY), DISCOVERY) == {}
    assert validating.state(vm_id) is DomainState.RUNNING
    assert config_keys(validating, vm_id) == {BRIDGE_KEY}

    empty = DesiredState("compute-1", 2)
    assert plugger.sync(empty, DISCOVERY) == {}
    assert vm_id not in validating.names()
    assert validating.state("test") is DomainState.RUNNING  # the driver's own: not vfnet's

    for document in validating.judged:  # what libvirt kept of each is valid too
        assert schema.validate(etree.fromstring(document)), schema.error_log


def test_what_libvirt_holds_for_a_vfnet_vm_stays_schema_valid(
    validating: Validating, vm_id: str, schema: etree.RelaxNG
) -> None:
    plugger = VmPlugger(validating)
    plugger.sync(desired(vm_id, InstanceState.SUSPENDED, EVERY), DISCOVERY)
    plugger.sync(desired(vm_id, InstanceState.RUNNING, EVERY), DISCOVERY)

    for inactive in (True, False):
        kept = validating.xml(vm_id, inactive=inactive)
        assert schema.validate(etree.fromstring(kept)), schema.error_log
        assert vfnet_instance(kept) == vm_id

"""VmPlugger on the in-memory hypervisor: every transition of a VM, and what it reports."""

from __future__ import annotations

import dataclasses
import uuid
import xml.etree.ElementTree as ET

import pytest

from vfnet.agent.attach.domain_xml import Domain, NumaCell, domain_xml
from vfnet.agent.attach.domain_xml_edit import plugged, vfnet_instance
from vfnet.agent.attach.hypervisor import DomainState, Plugged
from vfnet.agent.attach.memory_hypervisor import MemoryHypervisor
from vfnet.agent.bridges import tap_name
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
from vfnet.agent.vms import VmPlugger, numa_layout
from vfnet.config import HostConfig
from vfnet.errors import DriverError, ValidationError
from vfnet.network.vf_settings import VfSettings
from vfnet.pci.address import PciAddress
from vfnet.pci.devices import DeviceType, HostDevices, Netdev, PciDevice, VdpaDevice

VM = "6f1c2a6e-1d7e-4b8f-9a55-3c2b1d0e9f10"
PF = PciAddress.parse("0000:3b:00.0")
PF2 = PciAddress.parse("0000:3c:00.0")
VF_DIRECT = PciAddress.parse("0000:3b:02.1")
VF_MACVTAP = PciAddress.parse("0000:3b:02.2")
VF_VDPA = PciAddress.parse("0000:3b:02.3")
GPU = PciAddress.parse("0000:af:00.0")

MAC_DIRECT = "fa:16:3e:00:00:01"
MAC_MACVTAP = "fa:16:3e:00:00:02"
MAC_VDPA = "fa:16:3e:00:00:03"
MAC_BRIDGE = "fa:16:3e:00:00:04"
BRIDGE_PORT = BridgePort("b1e5a210-7c44-4a3e-8f0d-5d1e2c3b4a59", MAC_BRIDGE, "br-ext", "eth3", 1450)

SRIOV_KEYS = [f"mac {MAC_DIRECT}", f"mac {MAC_MACVTAP}", f"mac {MAC_VDPA}", f"pci {PF2}"]
ALL_KEYS = [*SRIOV_KEYS, f"pci {GPU}", f"mac {MAC_BRIDGE}"]


def vf(address: PciAddress, mac: str, vnic_type: str, *, vm: str = VM, vlan: int = 0) -> ClaimedVf:
    port = f"port-{vnic_type}-{address.function}"
    attach = Attachment(AttachKind.LIBVIRT, vm, vnic_type=vnic_type, instance=vm)
    return ClaimedVf(
        address, f"instance:{vm}", 1, port, VfSettings(mac=mac, vlan=vlan), attach=attach
    )


CLAIMS = {
    VF_DIRECT: vf(VF_DIRECT, MAC_DIRECT, "direct", vlan=100),
    VF_MACVTAP: vf(VF_MACVTAP, MAC_MACVTAP, "macvtap"),
    VF_VDPA: vf(VF_VDPA, MAC_VDPA, "vdpa"),
    PF2: vf(PF2, "fa:16:3e:00:00:05", "direct-physical"),
}


def spec(state: InstanceState = InstanceState.RUNNING, **changes: object) -> InstanceSpec:
    base = InstanceSpec(
        VM, "vm", state, vcpus=4, memory_mib=2048, numa_cells=2, hostdevs=(GPU,),
        bridge_ports=(BRIDGE_PORT,),
    )  # fmt: skip
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def desired(
    *instances: InstanceSpec, claims: dict[PciAddress, ClaimedVf] | None = None
) -> DesiredState:
    return DesiredState(
        "compute-1",
        1,
        claimed=CLAIMS if claims is None else claims,
        instances={instance.id: instance for instance in instances},
    )


def host_devices(*, macvtap_netdev: bool = True, vdpa: bool = True) -> HostDevices:
    def a_vf(
        address: PciAddress,
        index: int,
        netdevs: tuple[Netdev, ...] = (),
        vdpa: VdpaDevice | None = None,
    ) -> PciDevice:
        kind = DeviceType.VDPA if vdpa else DeviceType.VF
        return PciDevice(
            address,
            kind,
            "15b3",
            "101e",
            netdevs=netdevs,
            parent_addr=PF,
            vf_index=index,
            vdpa=vdpa,
        )

    netdevs = (Netdev("ens1f0v2"),) if macvtap_netdev else ()
    vdpa_device = VdpaDevice("vdpa0", VF_VDPA, "vhost_vdpa", "/dev/vhost-vdpa-0") if vdpa else None
    return HostDevices.of(
        [
            PciDevice(PF, DeviceType.PF, "15b3", "101d", netdevs=(Netdev("ens1f0"),)),
            a_vf(VF_DIRECT, 1, netdevs=(Netdev("ens1f0v1"),)),
            a_vf(VF_MACVTAP, 2, netdevs=netdevs),
            a_vf(VF_VDPA, 3, vdpa=vdpa_device),
            PciDevice(PF2, DeviceType.PF, "15b3", "101d"),
            PciDevice(GPU, DeviceType.PCI, "10de", "20b5", class_code="030200"),
        ]
    )


def discovery(host: HostDevices | None = None) -> Discovery:
    config = HostConfig("/etc/vfnet/host.toml", "compute-1")
    return Discovery(host or host_devices(), Selection([]), config, 1)


class Recorder(MemoryHypervisor):
    """The memory hypervisor, noting each call that changes something and each XML read."""

    def __init__(self, *, hot_plug: bool = True, refuse: str | None = None) -> None:
        super().__init__(hot_plug=hot_plug)
        self.changes: list[str] = []
        self.reads: list[str] = []
        self.refuse = refuse  # attaching a device whose XML holds this fails, as QEMU might
        self.plugger = VmPlugger(self)  # one for the test's life, as the agent keeps one

    def define(self, xml: str) -> str:
        self.changes.append("define")
        return super().define(xml)

    def undefine(self, name: str) -> None:
        self.changes.append(f"undefine {name}")
        super().undefine(name)

    def start(self, name: str) -> None:
        self.changes.append("start")
        super().start(name)

    def destroy(self, name: str) -> None:
        self.changes.append(f"destroy {name}")
        super().destroy(name)

    def resume(self, name: str) -> None:
        super().resume(name)
        self.changes[-1] = "resume"  # the memory hypervisor resumes by starting

    def suspend(self, name: str) -> None:
        self.changes.append("suspend")
        super().suspend(name)

    def attach(self, name: str, device_xml: str) -> Plugged:
        self.changes.append("attach")
        if self.refuse is not None and self.refuse in device_xml:
            raise DriverError(f"{name}: vfio 0000:af:00.0: group is busy")
        return super().attach(name, device_xml)

    def detach(self, name: str, device_xml: str) -> Plugged:
        self.changes.append("detach")
        return super().detach(name, device_xml)

    def xml(self, name: str, *, inactive: bool = False) -> str:
        self.reads.append(name)
        return super().xml(name, inactive=inactive)


@pytest.fixture
def hypervisor() -> Recorder:
    return Recorder()


def sync(
    hypervisor: Recorder, state: DesiredState, host: HostDevices | None = None
) -> dict[str, str]:
    hypervisor.changes.clear()
    hypervisor.reads.clear()
    return dict(hypervisor.plugger.sync(state, discovery(host)))


def devices(hypervisor: MemoryHypervisor, *, live: bool = False) -> list[str]:
    return sorted(plugged(hypervisor.xml(VM, inactive=not live)))


def test_a_new_vm_is_defined_marked_as_vfnets_with_every_device_and_started(
    hypervisor: Recorder,
) -> None:
    assert sync(hypervisor, desired(spec())) == {}

    assert hypervisor.changes == ["define", "start"]
    assert hypervisor.state(VM) is DomainState.RUNNING
    assert devices(hypervisor, live=True) == sorted(ALL_KEYS)
    root = ET.fromstring(hypervisor.xml(VM, inactive=True))
    assert vfnet_instance(hypervisor.xml(VM)) == VM
    assert root.findtext("uuid") == VM
    cells = [(cell.get("cpus"), cell.get("memory")) for cell in root.iterfind("cpu/numa/cell")]
    assert cells == [("0,1", "1024"), ("2,3", "1024")]


def attributes(element: ET.Element, path: str) -> dict[str, str]:
    found = element.find(path)
    assert found is not None, f"no {path} in {ET.tostring(element, encoding='unicode')}"
    return dict(found.attrib)


def test_each_vnic_type_becomes_the_device_libvirt_plugs_it_as(hypervisor: Recorder) -> None:
    sync(hypervisor, desired(spec()))
    root = ET.fromstring(hypervisor.xml(VM, inactive=True))
    by_mac = {attributes(i, "mac")["address"]: i for i in root.iterfind("devices/interface")}

    assert by_mac[MAC_DIRECT].get("type") == "hostdev"
    assert attributes(by_mac[MAC_DIRECT], "vlan/tag") == {"id": "100"}
    assert attributes(by_mac[MAC_MACVTAP], "source") == {"dev": "ens1f0v2", "mode": "passthrough"}
    assert attributes(by_mac[MAC_VDPA], "source") == {"dev": "/dev/vhost-vdpa-0"}
    bridge = by_mac[MAC_BRIDGE]
    assert attributes(bridge, "source") == {"bridge": "br-ext"}
    assert attributes(bridge, "target") == {"dev": "tapb1e5a2107c44"}
    assert tap_name(BRIDGE_PORT.port_id) == "tapb1e5a2107c44"
    assert attributes(bridge, "mtu") == {"size": "1450"}
    hostdevs = [attributes(h, "source/address") for h in root.iterfind("devices/hostdev")]
    assert [(a["bus"], a["slot"]) for a in hostdevs] == [("0x3c", "0x00"), ("0xaf", "0x00")]


def test_a_second_sync_changes_nothing_and_reads_the_domain_once(hypervisor: Recorder) -> None:
    state = desired(spec())
    sync(hypervisor, state)

    assert sync(hypervisor, state) == {}
    assert hypervisor.changes == []
    assert hypervisor.reads == [VM]


def test_a_port_added_to_a_running_vm_is_hot_plugged(hypervisor: Recorder) -> None:
    claims = dict(CLAIMS)
    del claims[VF_VDPA]
    sync(hypervisor, desired(spec(), claims=claims))

    assert sync(hypervisor, desired(spec())) == {}
    assert hypervisor.changes == ["attach"]
    assert f"mac {MAC_VDPA}" in devices(hypervisor, live=True)


def test_a_port_no_longer_wanted_is_unplugged_and_nothing_else(hypervisor: Recorder) -> None:
    sync(hypervisor, desired(spec()))
    claims = dict(CLAIMS)
    del claims[VF_MACVTAP]

    assert sync(hypervisor, desired(spec(hostdevs=()), claims=claims)) == {}
    assert hypervisor.changes == ["detach", "detach"]
    assert devices(hypervisor, live=True) == sorted(
        k for k in ALL_KEYS if k not in (f"mac {MAC_MACVTAP}", f"pci {GPU}")
    )


def test_without_hot_plug_the_configuration_counts_as_plugged() -> None:
    config_only = Recorder(hot_plug=False)
    claims = dict(CLAIMS)
    del claims[VF_VDPA]
    sync(config_only, desired(spec(), claims=claims))

    assert sync(config_only, desired(spec())) == {}
    assert config_only.changes == ["attach"]
    assert f"mac {MAC_VDPA}" in devices(config_only)
    assert f"mac {MAC_VDPA}" not in devices(config_only, live=True)  # seen at its next boot
    assert sync(config_only, desired(spec())) == {}
    assert config_only.changes == []


def test_suspending_unplugs_the_sriov_devices_then_saves_the_vm(hypervisor: Recorder) -> None:
    sync(hypervisor, desired(spec()))

    assert sync(hypervisor, desired(spec(InstanceState.SUSPENDED))) == {}
    assert hypervisor.changes == ["detach"] * 5 + ["suspend"]
    assert hypervisor.state(VM) is DomainState.SAVED
    assert devices(hypervisor) == [f"mac {MAC_BRIDGE}"]
    assert sync(hypervisor, desired(spec(InstanceState.SUSPENDED))) == {}
    assert hypervisor.changes == []


def test_running_again_resumes_the_saved_vm_then_plugs_its_sriov_devices_live(
    hypervisor: Recorder,
) -> None:
    sync(hypervisor, desired(spec()))
    sync(hypervisor, desired(spec(InstanceState.SUSPENDED)))

    assert sync(hypervisor, desired(spec())) == {}
    assert hypervisor.changes == ["resume"] + ["attach"] * 5
    assert hypervisor.state(VM) is DomainState.RUNNING
    assert devices(hypervisor, live=True) == sorted(ALL_KEYS)


def test_a_migrating_vm_loses_its_sriov_devices_and_keeps_running(hypervisor: Recorder) -> None:
    sync(hypervisor, desired(spec()))

    assert sync(hypervisor, desired(spec(InstanceState.MIGRATING))) == {}
    assert hypervisor.changes == ["detach"] * 5
    assert hypervisor.state(VM) is DomainState.RUNNING
    assert devices(hypervisor, live=True) == [f"mac {MAC_BRIDGE}"]


def test_a_migrating_vm_not_here_yet_is_left_to_the_migration(hypervisor: Recorder) -> None:
    assert sync(hypervisor, desired(spec(InstanceState.MIGRATING))) == {}
    assert hypervisor.changes == []
    assert hypervisor.names() == []


def test_a_vm_wanted_suspended_from_the_start_is_defined_without_sriov_and_not_started(
    hypervisor: Recorder,
) -> None:
    assert sync(hypervisor, desired(spec(InstanceState.SUSPENDED))) == {}
    assert hypervisor.changes == ["define"]
    assert hypervisor.state(VM) is DomainState.SHUT_OFF
    assert devices(hypervisor) == [f"mac {MAC_BRIDGE}"]


def test_a_stopped_vm_gets_its_devices_then_boots(hypervisor: Recorder) -> None:
    sync(hypervisor, desired(spec(InstanceState.SUSPENDED)))

    assert sync(hypervisor, desired(spec())) == {}
    assert hypervisor.changes == ["attach"] * 5 + ["start"]
    assert devices(hypervisor, live=True) == sorted(ALL_KEYS)


def test_a_vfnet_vm_no_instance_wants_is_destroyed_and_undefined(hypervisor: Recorder) -> None:
    sync(hypervisor, desired(spec()))

    assert sync(hypervisor, desired(claims={})) == {}
    assert hypervisor.changes == [f"destroy {VM}", f"undefine {VM}"]
    assert hypervisor.names() == []


def test_a_domain_vfnet_did_not_define_is_never_touched(hypervisor: Recorder) -> None:
    theirs = Domain("operators-vm", uuid.uuid4(), 512, 1)
    hypervisor.define(domain_xml(theirs))
    hypervisor.start("operators-vm")

    assert sync(hypervisor, desired(claims={})) == {}
    assert sync(hypervisor, desired(claims={})) == {}
    assert hypervisor.changes == []
    assert hypervisor.reads == []  # known not to be vfnet's: not read again
    assert hypervisor.state("operators-vm") is DomainState.RUNNING


def test_a_domain_of_the_vms_name_not_made_by_vfnet_is_every_ports_error(
    hypervisor: Recorder,
) -> None:
    hypervisor.define(domain_xml(Domain(VM, uuid.UUID(VM), 512, 1)))

    problems = sync(hypervisor, desired(spec()))
    assert set(problems) == {f"instance:{VM}", BRIDGE_PORT.port_id} | {
        claim.port_id for claim in CLAIMS.values()
    }
    assert problems[BRIDGE_PORT.port_id] == (
        f"vm {VM}: domain {VM!r} exists but vfnet did not define it: undefine it"
    )
    assert hypervisor.changes == []


def test_a_port_whose_device_cannot_be_made_is_its_own_error_and_the_rest_is_plugged(
    hypervisor: Recorder,
) -> None:
    problems = sync(hypervisor, desired(spec()), host_devices(macvtap_netdev=False, vdpa=False))

    assert problems == {
        CLAIMS[VF_MACVTAP].port_id: (
            f"vm {VM}: netdev: VF {VF_MACVTAP} has no netdev on this host for macvtap"
        ),
        CLAIMS[VF_VDPA].port_id: (
            f"vm {VM}: vdpa_device: VF {VF_VDPA} has no vDPA device bound to vhost_vdpa "
            "on this host"
        ),
    }
    assert f"mac {MAC_DIRECT}" in devices(hypervisor, live=True)
    assert f"mac {MAC_MACVTAP}" not in devices(hypervisor, live=True)


def test_a_plugged_port_stays_while_its_vf_netdev_is_missing_from_discovery(
    hypervisor: Recorder,
) -> None:
    sync(hypervisor, desired(spec()))

    problems = sync(hypervisor, desired(spec()), host_devices(macvtap_netdev=False))
    assert list(problems) == [CLAIMS[VF_MACVTAP].port_id]
    assert hypervisor.changes == []


def test_a_refused_flavor_device_is_reported_under_the_instance(hypervisor: Recorder) -> None:
    refusing = Recorder(refuse='bus="0xaf"')
    sync(refusing, desired(spec(hostdevs=())))

    problems = sync(refusing, desired(spec()))
    assert problems == {
        f"instance:{VM}": (
            f"vm {VM}: cannot plug pci {GPU}: {VM}: vfio 0000:af:00.0: group is busy"
        )
    }
    assert sync(refusing, desired(spec())) == problems  # tried again each turn


def test_a_vf_for_a_vm_not_wanted_here_is_that_ports_error(hypervisor: Recorder) -> None:
    stray = vf(VF_DIRECT, MAC_DIRECT, "direct", vm="gone-vm")

    problems = sync(hypervisor, desired(claims={VF_DIRECT: stray}))
    assert problems == {stray.port_id: "vm gone-vm: no VM of that id is wanted on this host"}


def test_a_vm_without_a_size_is_an_error_of_the_instance_and_each_port(
    hypervisor: Recorder,
) -> None:
    problems = sync(hypervisor, desired(spec(vcpus=None)))

    assert problems[f"instance:{VM}"] == f"vm {VM}: vcpus: is required to define a VM"
    assert problems[BRIDGE_PORT.port_id] == problems[f"instance:{VM}"]
    assert hypervisor.names() == []


def test_two_ports_with_one_mac_are_refused_for_the_second(hypervisor: Recorder) -> None:
    twin = dataclasses.replace(CLAIMS[VF_VDPA], settings=VfSettings(mac=MAC_DIRECT))

    problems = sync(hypervisor, desired(spec(), claims={**CLAIMS, VF_VDPA: twin}))
    assert problems == {
        twin.port_id: (
            f"vm {VM}: its device has the mac {MAC_DIRECT} of port {CLAIMS[VF_DIRECT].port_id} too"
        )
    }


@pytest.mark.parametrize(
    ("vcpus", "memory", "cells", "layout"),
    [
        (4, 2048, 0, ()),
        (4, 2048, 2, (NumaCell((0, 1), 1024), NumaCell((2, 3), 1024))),
        (5, 1001, 2, (NumaCell((0, 1, 2), 501), NumaCell((3, 4), 500))),
        (3, 768, 3, (NumaCell((0,), 256), NumaCell((1,), 256), NumaCell((2,), 256))),
    ],
)
def test_guest_numa_nodes_share_vcpus_and_memory_evenly(
    vcpus: int, memory: int, cells: int, layout: tuple[NumaCell, ...]
) -> None:
    assert numa_layout(vcpus, memory, cells) == layout


def test_more_numa_nodes_than_vcpus_is_refused() -> None:
    with pytest.raises(ValidationError, match="3 guest NUMA nodes need at least 3 vCPUs"):
        numa_layout(2, 1024, 3)


def test_the_metadata_mark_is_read_back_as_the_instance() -> None:
    marked = domain_xml(Domain("vm-a", uuid.uuid4(), 256, 1, vfnet_instance="vm-a"))
    assert vfnet_instance(marked) == "vm-a"
    assert vfnet_instance(domain_xml(Domain("vm-b", uuid.uuid4(), 256, 1))) is None

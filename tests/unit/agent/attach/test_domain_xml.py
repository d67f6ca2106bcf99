"""Device and domain XML per vnic_type, each judged by libvirt's own RelaxNG schema."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from vfnet.agent.attach.domain_xml import (
    BridgeInterface,
    Device,
    Domain,
    HostdevInterface,
    MacvtapInterface,
    NumaCell,
    PciHostdev,
    PortPlug,
    VdpaInterface,
    device_xml,
    domain_xml,
    port_device,
)
from vfnet.errors import ValidationError
from vfnet.network.vnic_types import VnicType
from vfnet.pci.address import PciAddress

SCHEMA = Path("/usr/share/libvirt/schemas/domain.rng")
VF = PciAddress.parse("0000:3b:02.3")
PF = PciAddress.parse("0000:3b:00.0")
GPU = PciAddress.parse("0000:af:00.0")
UUID = uuid.UUID("6f1c2a6e-1d7e-4b8f-9a55-3c2b1d0e9f10")

DEVICES: dict[str, Device] = {
    "direct on a flat network": HostdevInterface(VF, "52:54:00:6d:90:02"),
    "direct on vlan 100": HostdevInterface(VF, "52:54:00:6d:90:02", vlan=100),
    "direct on vlan 4094": HostdevInterface(VF, "52:54:00:6d:90:02", vlan=4094),
    "macvtap": MacvtapInterface("ens1f0v3", "52:54:00:6d:90:03"),
    "macvtap with an mtu": MacvtapInterface("ens1f0v3", "52:54:00:6d:90:03", mtu=9000),
    "direct-physical": PciHostdev(PF),
    "vdpa": VdpaInterface("/dev/vhost-vdpa-0", "52:54:00:6d:90:04"),
    "a flavor alias's GPU": PciHostdev(GPU),
    "normal on a bridge": BridgeInterface("br-physnet1", "tap0b7e5a21-c4", "52:54:00:6d:90:05"),
    "normal with an mtu": BridgeInterface("br-physnet1", "tap0b7e", "52:54:00:6d:90:05", 1450),
}


@pytest.fixture(scope="module")
def schema() -> etree.RelaxNG:
    assert SCHEMA.exists(), f"{SCHEMA} is missing: scripts/bootstrap installs it (libvirt0)"
    return etree.RelaxNG(etree.parse(str(SCHEMA)))


def _errors(schema: etree.RelaxNG, xml: str) -> list[str]:
    valid = schema.validate(etree.fromstring(xml))
    return [] if valid else [str(error) for error in schema.error_log]


def _domain(
    *devices: Device,
    name: str = "vm-1",
    memory_mib: int = 512,
    vcpus: int = 1,
    numa_cells: tuple[NumaCell, ...] = (),
) -> Domain:
    return Domain(name, UUID, memory_mib, vcpus, numa_cells, devices)


@pytest.mark.parametrize("device", DEVICES.values(), ids=DEVICES.keys())
def test_a_domain_with_each_device_is_valid_for_libvirt(
    schema: etree.RelaxNG, device: Device
) -> None:
    assert _errors(schema, domain_xml(_domain(device))) == []


def test_a_domain_with_every_device_and_two_numa_cells_is_valid_for_libvirt(
    schema: etree.RelaxNG,
) -> None:
    cells = (NumaCell((0, 1), 1024), NumaCell((2, 3), 1024))
    xml = domain_xml(_domain(*DEVICES.values(), memory_mib=2048, vcpus=4, numa_cells=cells))

    assert _errors(schema, xml) == []
    root = ET.fromstring(xml)
    assert [cell.attrib for cell in root.iterfind("cpu/numa/cell")] == [
        {"id": "0", "cpus": "0,1", "memory": "1024", "unit": "MiB"},
        {"id": "1", "cpus": "2,3", "memory": "1024", "unit": "MiB"},
    ]
    assert len(root.findall("devices/*")) == len(DEVICES)


@pytest.mark.parametrize(
    ("defect", "before", "after"),
    [
        ("a vlan tag above 4095", '<tag id="100" />', '<tag id="5000" />'),
        ("an unknown macvtap mode", 'mode="passthrough"', 'mode="switchdev"'),
        ("a malformed MAC", "52:54:00:6d:90:02", "52:54:00:zz:90:02"),
        ("a PCI function above 7", 'function="0x3"', 'function="0x8"'),
        ("a vdpa interface without its source", '<source dev="/dev/vhost-vdpa-0" />', ""),
    ],
)
def test_the_schema_rejects_a_domain_with(
    schema: etree.RelaxNG, defect: str, before: str, after: str
) -> None:
    devices = (DEVICES["direct on vlan 100"], DEVICES["macvtap"], DEVICES["vdpa"])
    xml = domain_xml(_domain(*devices))
    assert before in xml, defect

    assert _errors(schema, xml.replace(before, after)) != []


def test_a_vlan_tag_is_written_for_direct_ports_only_when_the_network_has_one() -> None:
    tagged = ET.fromstring(device_xml(DEVICES["direct on vlan 100"]))
    flat = ET.fromstring(device_xml(DEVICES["direct on a flat network"]))

    assert tagged.find("vlan/tag").attrib == {"id": "100"}  # type: ignore[union-attr]
    assert flat.find("vlan") is None


def test_a_macvtap_port_carries_no_vlan_because_the_vf_driver_sets_it() -> None:
    port = PortPlug(VnicType.MACVTAP, "52:54:00:6d:90:03", vlan=100, netdev="ens1f0v3")

    interface = ET.fromstring(device_xml(port_device(port)))

    assert interface.find("vlan") is None
    assert interface.find("source").attrib == {"dev": "ens1f0v3", "mode": "passthrough"}  # type: ignore[union-attr]


def test_a_direct_port_names_its_vf_by_pci_address_in_libvirt_hex_form() -> None:
    interface = ET.fromstring(device_xml(DEVICES["direct on vlan 100"]))

    assert interface.attrib == {"type": "hostdev", "managed": "yes"}
    assert interface.find("source/address").attrib == {  # type: ignore[union-attr]
        "type": "pci",
        "domain": "0x0000",
        "bus": "0x3b",
        "slot": "0x02",
        "function": "0x3",
    }


PLUGS = [
    (PortPlug(VnicType.DIRECT, "52:54:00:00:00:01", 7, pci_slot=VF), "interface", "hostdev"),
    (PortPlug(VnicType.MACVTAP, "52:54:00:00:00:01", netdev="ens1f0v3"), "interface", "direct"),
    (PortPlug(VnicType.DIRECT_PHYSICAL, "52:54:00:00:00:01", pci_slot=PF), "hostdev", "pci"),
    (
        PortPlug(VnicType.VDPA, "52:54:00:00:00:01", vdpa_device="/dev/vhost-vdpa-2"),
        "interface",
        "vdpa",
    ),
    (
        PortPlug(VnicType.NORMAL, "52:54:00:00:00:01", bridge="br-ex", tap="tap1234"),
        "interface",
        "bridge",
    ),
]


@pytest.mark.parametrize(("port", "tag", "kind"), PLUGS, ids=[p.vnic_type for p, _, _ in PLUGS])
def test_each_vnic_type_becomes_its_libvirt_device(port: PortPlug, tag: str, kind: str) -> None:
    element = ET.fromstring(device_xml(port_device(port)))

    assert (element.tag, element.get("type")) == (tag, kind)


@pytest.mark.parametrize(
    ("port", "field"),
    [
        (PortPlug(VnicType.DIRECT, "52:54:00:00:00:01"), "pci_slot"),
        (PortPlug(VnicType.MACVTAP, "52:54:00:00:00:01"), "netdev"),
        (PortPlug(VnicType.VDPA, "52:54:00:00:00:01"), "vdpa_device"),
        (PortPlug(VnicType.NORMAL, "52:54:00:00:00:01", bridge="br-ex"), "tap"),
        (PortPlug(VnicType.VIRTIO_FORWARDER, "52:54:00:00:00:01"), "vnic_type"),
    ],
)
def test_a_port_missing_what_its_vnic_type_needs_is_refused_naming_it(
    port: PortPlug, field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        port_device(port)

    assert refused.value.field == field


@pytest.mark.parametrize(
    ("make", "field", "words"),
    [
        (lambda: HostdevInterface(VF, "52:54:00:00:00:01", vlan=4095), "vlan", "0-4094"),
        (lambda: HostdevInterface(VF, "52:54:00:00:00:0A"), "mac", "lower-case"),
        (lambda: HostdevInterface(VF, "01:00:5e:00:00:01"), "mac", "multicast"),
        (lambda: VdpaInterface("/dev/vdpa0", "52:54:00:00:00:01"), "vdpa_device", "vhost-vdpa"),
        (lambda: MacvtapInterface("a-name-over-15-chars", "52:54:00:00:00:01"), "netdev", "1-15"),
        (lambda: BridgeInterface("br-ex", "vnet3", "52:54:00:00:00:01"), "tap", "reserves"),
        (lambda: _domain(name="a/b"), "name", "'/'"),
        (lambda: _domain(vcpus=0), "vcpus", "positive"),
        (
            lambda: _domain(vcpus=2, numa_cells=(NumaCell((0,), 512),)),
            "numa_cells",
            "vCPUs 0-1",
        ),
        (
            lambda: _domain(vcpus=2, numa_cells=(NumaCell((0,), 256), NumaCell((1,), 128))),
            "numa_cells",
            "384 MiB, not 512 MiB",
        ),
    ],
)
def test_a_value_libvirt_would_refuse_is_refused_first(
    make: Callable[[], object], field: str, words: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        make()

    assert refused.value.field == field
    assert words in refused.value.reason

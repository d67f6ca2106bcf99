"""Adding and removing a device in a domain's XML, matched by MAC or PCI address as libvirt does."""

from __future__ import annotations

import uuid

import pytest

from vfnet.agent.attach.domain_xml import (
    Domain,
    HostdevInterface,
    MacvtapInterface,
    PciHostdev,
    VdpaInterface,
    device_xml,
    domain_xml,
)
from vfnet.agent.attach.domain_xml_edit import plugged, with_device, without_device
from vfnet.errors import Conflict, NotFound, ValidationError
from vfnet.pci.address import PciAddress

VF = HostdevInterface(PciAddress.parse("0000:3b:02.3"), "52:54:00:6d:90:02", vlan=100)
PF = PciHostdev(PciAddress.parse("0000:3b:00.0"))
VDPA = VdpaInterface("/dev/vhost-vdpa-0", "52:54:00:6d:90:04")

# What libvirt hands back for a running domain: its own additions, and things vfnet
# never plugs (a disk, a USB hostdev) that must be left alone.
LIBVIRT_XML = """<domain type='kvm' id='3'>
  <name>vm-1</name>
  <uuid>6f1c2a6e-1d7e-4b8f-9a55-3c2b1d0e9f10</uuid>
  <devices>
    <disk type='file' device='disk'><source file='/var/lib/vm-1.qcow2'/><target dev='vda'/></disk>
    <hostdev mode='subsystem' type='usb'>
      <source><vendor id='0x1234'/><product id='0x5678'/></source>
    </hostdev>
    <interface type='direct'>
      <mac address='52:54:00:6D:90:03'/>
      <source dev='ens1f0v3' mode='passthrough'/>
      <target dev='macvtap0'/>
      <model type='virtio'/>
      <alias name='net0'/>
    </interface>
    <hostdev mode='subsystem' type='pci' managed='yes'>
      <source><address domain='0' bus='59' slot='0' function='0'/></source>
      <alias name='hostdev0'/>
    </hostdev>
  </devices>
</domain>"""


def _empty() -> str:
    return domain_xml(Domain("vm-1", uuid.uuid4(), 512, 1))


def test_an_added_device_is_plugged_after_those_already_there() -> None:
    xml = with_device(with_device(_empty(), device_xml(VF)), device_xml(PF))

    assert plugged(xml) == ["mac 52:54:00:6d:90:02", "pci 0000:3b:00.0"]


def test_adding_a_device_the_domain_already_has_is_a_conflict() -> None:
    xml = with_device(_empty(), device_xml(VF))
    same_mac_other_vf = HostdevInterface(PciAddress.parse("0000:3b:02.4"), VF.mac)

    with pytest.raises(Conflict, match="already has the device with mac 52:54:00:6d:90:02"):
        with_device(xml, device_xml(same_mac_other_vf))


def test_an_interface_is_removed_by_its_mac_whatever_libvirt_added_to_it() -> None:
    ours = MacvtapInterface("ens1f0v3", "52:54:00:6d:90:03")

    xml = without_device(LIBVIRT_XML, device_xml(ours))

    assert plugged(xml) == ["pci 0000:3b:00.0"]
    assert "vda" in xml and "usb" in xml


def test_a_hostdev_is_removed_by_its_pci_address_however_libvirt_spells_the_numbers() -> None:
    xml = without_device(LIBVIRT_XML, device_xml(PF))

    assert plugged(xml) == ["mac 52:54:00:6d:90:03"]


def test_removing_a_device_the_domain_lacks_names_it_and_the_domain() -> None:
    with pytest.raises(NotFound) as missing:
        without_device(LIBVIRT_XML, device_xml(VDPA))

    assert (missing.value.kind, missing.value.ident) == (
        "device",
        "mac 52:54:00:6d:90:04 in domain 'vm-1'",
    )


def test_devices_vfnet_never_plugs_are_not_listed() -> None:
    assert plugged(LIBVIRT_XML) == ["mac 52:54:00:6d:90:03", "pci 0000:3b:00.0"]


@pytest.mark.parametrize(
    ("device", "reason"),
    [
        ("<interface type='direct'>", "not well-formed"),
        ("<interface type='direct'><source dev='x'/></interface>", "needs a <mac"),
        ("<hostdev mode='subsystem' type='pci'/>", "needs a <source><address"),
        ("<disk type='file'/>", "<disk> is not an interface or a PCI hostdev"),
        (
            "<hostdev mode='subsystem' type='pci'><source><address bus='0x3b' slot='0x20'/>"
            "</source></hostdev>",
            "bad PCI source address",
        ),
    ],
)
def test_device_xml_that_cannot_be_matched_is_refused_with_the_reason(
    device: str, reason: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        with_device(_empty(), device)

    assert refused.value.field == "device_xml"
    assert reason in refused.value.reason

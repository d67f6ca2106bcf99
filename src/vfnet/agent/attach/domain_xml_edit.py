"""Adding and removing one device in a domain's XML, matched the way libvirt matches them.

libvirt finds the device to detach by its MAC for an ``<interface>`` and by its source
PCI address for a ``<hostdev>``; :func:`device_key` names devices the same way, so the
define-based fallback (for drivers without hot-plug) and the memory hypervisor agree with
a real libvirt on what "the same device" is.

Public API: device_key, plugged, plugged_devices, vfnet_instance, with_device, without_device.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from vfnet.agent.attach.domain_xml import VFNET_XMLNS
from vfnet.errors import Conflict, NotFound, ValidationError
from vfnet.pci.address import PciAddress

FIELD = "device_xml"


def device_key(device: ET.Element) -> str:
    """``mac 52:54:00:..`` for an interface, ``pci 0000:3b:00.0`` for a PCI hostdev."""
    if device.tag == "interface":
        mac = device.find("mac")
        if mac is None or not mac.get("address"):
            raise ValidationError(FIELD, "an <interface> needs a <mac address=...> to be found")
        return f"mac {mac.get('address', '').lower()}"
    if device.tag == "hostdev" and device.get("type") == "pci":
        address = device.find("source/address")
        if address is None:
            raise ValidationError(FIELD, "a PCI <hostdev> needs a <source><address .../>")
        return f"pci {_pci_address(address)}"
    raise ValidationError(FIELD, f"<{device.tag}> is not an interface or a PCI hostdev")


def plugged(domain_xml: str) -> list[str]:
    """The keys of the domain's interfaces and PCI hostdevs, in document order."""
    return _keys(_devices(_parse(domain_xml, "domain_xml")))


def plugged_devices(domain_xml: str) -> dict[str, str]:
    """The domain's interfaces and PCI hostdevs by key, each as the XML that detaches it."""
    found = {}
    for device in _devices(_parse(domain_xml, "domain_xml")):
        key = _key_or_none(device)
        if key is not None:
            device.tail = None  # the whitespace after it in the document is not its own
            found[key] = ET.tostring(device, encoding="unicode")
    return found


def vfnet_instance(domain_xml: str) -> str | None:
    """The vfnet instance the domain's ``<metadata>`` names; None for a domain vfnet did
    not define."""
    root = _parse(domain_xml, "domain_xml")
    mark = root.find(f"metadata/{{{VFNET_XMLNS}}}instance")
    return None if mark is None else mark.get("id")


def with_device(domain_xml: str, device_xml: str) -> str:
    """``domain_xml`` with the device appended to ``<devices>``.

    Raises:
        Conflict: the domain already has a device with the same MAC or PCI address.
    """
    root = _parse(domain_xml, "domain_xml")
    device = _parse(device_xml, FIELD)
    key = device_key(device)
    if key in _keys(_devices(root)):
        raise Conflict(f"domain {_name(root)} already has the device with {key}")
    _devices(root).append(device)
    return ET.tostring(root, encoding="unicode")


def without_device(domain_xml: str, device_xml: str) -> str:
    """``domain_xml`` without the device that has the same key as ``device_xml``.

    Raises:
        NotFound: the domain has no such device.
    """
    root = _parse(domain_xml, "domain_xml")
    key = device_key(_parse(device_xml, FIELD))
    devices = _devices(root)
    for device in devices:
        if _key_or_none(device) == key:
            devices.remove(device)
            return ET.tostring(root, encoding="unicode")
    raise NotFound("device", f"{key} in domain {_name(root)}")


def _keys(devices: ET.Element) -> list[str]:
    return [key for device in devices if (key := _key_or_none(device)) is not None]


def _key_or_none(device: ET.Element) -> str | None:
    # A domain may hold devices vfnet did not make (a USB hostdev); they match nothing.
    try:
        return device_key(device)
    except ValidationError:
        return None


def _pci_address(address: ET.Element) -> PciAddress:
    try:
        return PciAddress(*(int(address.get(part, "0"), 0) for part in _PCI_PARTS))
    except ValueError as error:
        raise ValidationError(FIELD, f"bad PCI source address: {error}") from None


_PCI_PARTS = ("domain", "bus", "slot", "function")


def _parse(text: str, field: str) -> ET.Element:
    try:
        return ET.fromstring(text)
    except ET.ParseError as error:
        raise ValidationError(field, f"is not well-formed XML: {error}") from None


def _devices(root: ET.Element) -> ET.Element:
    devices = root.find("devices")
    if devices is None:
        devices = ET.SubElement(root, "devices")
    return devices


def _name(root: ET.Element) -> str:
    return repr(root.findtext("name", default="?"))

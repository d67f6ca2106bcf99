"""One PCI function's directory read into plain facts, before PF/VF links are resolved."""

from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from vfnet.discovery.attrs import AttrDir, describe
from vfnet.discovery.formats import (
    Modalias,
    hex_value,
    parse_modalias,
    parse_numa_node,
    virtfn_index,
)
from vfnet.discovery.netdevs import read_netdevs
from vfnet.pci.address import PciAddress
from vfnet.pci.devices import Netdev, SriovCapability

T = TypeVar("T")

# What a function reports when an id can be read neither from its file nor from modalias:
# all ones, as config space reads for a function that does not answer.
UNKNOWN_ID = "ffff"
UNKNOWN_CLASS = "ffffff"
# (attribute file, field, hex digits); the modalias carries the same value under `field`.
_ID_FILES = (
    ("vendor", "vendor_id", 4),
    ("device", "product_id", 4),
    ("subsystem_vendor", "subsystem_vendor_id", 4),
    ("subsystem_device", "subsystem_device_id", 4),
    ("class", "class_code", 6),
)


@dataclass(slots=True)
class FunctionFacts:
    """What one ``bus/pci/devices/<bdf>`` directory says about itself."""

    address: PciAddress
    name: str  # as bus/pci/devices lists it, which is how virtfn and physfn links name it
    ids: dict[str, str] = field(default_factory=dict)
    revision: str = "00"
    driver: str | None = None
    numa_node: int | None = None
    iommu_group: int | None = None
    netdevs: list[Netdev] = field(default_factory=list)
    physfn: str | None = None  # the PF's name, from the physfn link
    sriov: SriovCapability | None = None
    virtfns: list[tuple[int, str]] = field(default_factory=list)  # (N, target bdf), by N
    warnings: list[str] = field(default_factory=list)


def read_function(address: PciAddress, name: str, device: AttrDir) -> FunctionFacts:
    """Read the attributes the model needs and nothing else; never raises OSError."""
    facts = FunctionFacts(address, name)
    facts.ids = _read_ids(device, facts.warnings)
    revision = _text(device, "revision", facts.warnings)
    if revision is not None:
        facts.revision = _hex(revision, 2, "revision", facts.warnings) or facts.revision
    facts.driver = _link_name(device, "driver", facts.warnings)
    numa_node = _text(device, "numa_node", facts.warnings)
    if numa_node is not None:
        facts.numa_node = _number(numa_node, parse_numa_node, "numa_node", facts.warnings)
    group = _link_name(device, "iommu_group", facts.warnings)
    if group is not None:
        facts.iommu_group = _number(group, int, "iommu_group", facts.warnings)
    facts.netdevs = read_netdevs(device, facts.warnings)
    facts.physfn = _read_physfn(device, facts.warnings)
    if facts.physfn is None:  # a VF never has the PF-only files: spare the failed open
        _read_sriov(device, facts)
    return facts


def _read_ids(device: AttrDir, warnings: list[str]) -> dict[str, str]:
    """Ids from their own files; from ``modalias`` for those missing or garbled."""
    ids: dict[str, str] = {}
    missing: list[tuple[str, str, str]] = []  # (file, field, why)
    for attr, name, digits in _ID_FILES:
        try:
            value = hex_value(device.text(attr), digits)
        except OSError as error:
            missing.append((attr, name, describe(error)))
            continue
        if value is None:
            missing.append((attr, name, "unparsable"))
        else:
            ids[name] = value
    if missing:
        modalias = _read_modalias(device, warnings)
        for attr, name, why in missing:
            if modalias is not None:
                ids[name] = getattr(modalias, name)
            else:
                warnings.append(f"{attr}: {why}")
    return ids


def _read_modalias(device: AttrDir, warnings: list[str]) -> Modalias | None:
    try:
        modalias = parse_modalias(device.text("modalias"))
    except OSError as error:
        warnings.append(f"modalias: {describe(error)}")
        return None
    if modalias is None:
        warnings.append("modalias: unparsable")
    return modalias


def _read_physfn(device: AttrDir, warnings: list[str]) -> str | None:
    try:
        return device.link("physfn").rsplit("/", 1)[-1]
    except FileNotFoundError:
        return None
    except OSError as error:
        reason = "not a symlink" if error.errno == errno.EINVAL else describe(error)
        warnings.append(f"physfn: {reason} (ignored)")
        return None


def _read_sriov(device: AttrDir, facts: FunctionFacts) -> None:
    """PF files; the presence of ``sriov_totalvfs`` is what makes a PF, even with 0 VFs."""
    try:
        total = device.text("sriov_totalvfs")
    except FileNotFoundError:
        return
    except OSError as error:  # present, so a PF, but its limit is unknown
        facts.warnings.append(f"sriov_totalvfs: {describe(error)}")
        total = ""
    values = {"sriov_totalvfs": total}
    for attr in ("sriov_numvfs", "sriov_offset", "sriov_stride"):
        values[attr] = _text(device, attr, facts.warnings) or ""
    numbers = {k: int(v) if v.isdigit() else 0 for k, v in values.items()}
    for attr, text in values.items():
        if text and not text.isdigit():
            facts.warnings.append(f"{attr}: unparsable {text!r}")
    vf_device_text = _text(device, "sriov_vf_device", facts.warnings)
    vf_device = None
    if vf_device_text is not None:
        vf_device = _hex(vf_device_text, 4, "sriov_vf_device", facts.warnings)
    facts.sriov = SriovCapability(
        total_vfs=numbers["sriov_totalvfs"],
        num_vfs=numbers["sriov_numvfs"],
        offset=numbers["sriov_offset"],
        stride=numbers["sriov_stride"],
        vf_device=vf_device or UNKNOWN_ID,
    )
    facts.virtfns = _read_virtfns(device, facts.warnings)


def _read_virtfns(device: AttrDir, warnings: list[str]) -> list[tuple[int, str]]:
    links = []
    for name in device.names():
        index = virtfn_index(name)
        if index is None:
            continue
        try:
            links.append((index, device.link(name).rsplit("/", 1)[-1]))
        except OSError as error:
            warnings.append(f"{name}: {describe(error)}")
    links.sort()  # numerically: virtfn10 comes after virtfn2
    return links


def _text(device: AttrDir, attr: str, warnings: list[str]) -> str | None:
    try:
        return device.text(attr)
    except OSError as error:
        warnings.append(f"{attr}: {describe(error)}")
        return None


def _link_name(device: AttrDir, attr: str, warnings: list[str]) -> str | None:
    try:
        return device.link_name(attr)
    except OSError as error:
        warnings.append(f"{attr}: {describe(error)}")
        return None


def _hex(text: str, digits: int, attr: str, warnings: list[str]) -> str | None:
    value = hex_value(text, digits)
    if value is None:
        warnings.append(f"{attr}: unparsable {text!r}")
    return value


def _number(text: str, parse: Callable[[str], T], attr: str, warnings: list[str]) -> T | None:
    try:
        return parse(text)
    except ValueError:
        warnings.append(f"{attr}: unparsable {text!r}")
        return None

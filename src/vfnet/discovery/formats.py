"""The kernel's text formats for PCI attributes, parsed into the model's spellings."""

from __future__ import annotations

import re
from dataclasses import dataclass

# pci-sysfs.c: "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X"
_MODALIAS = re.compile(
    r"^pci:v(?P<vendor>[0-9A-Fa-f]{8})d(?P<device>[0-9A-Fa-f]{8})"
    r"sv(?P<sub_vendor>[0-9A-Fa-f]{8})sd(?P<sub_device>[0-9A-Fa-f]{8})"
    r"bc(?P<base>[0-9A-Fa-f]{2})sc(?P<sub>[0-9A-Fa-f]{2})i(?P<prog_if>[0-9A-Fa-f]{2})$"
)
_REPRESENTOR = re.compile(r"^(?:c\d+)?pf(?P<pf>\d+)vf(?P<vf>\d+)$")
_HEX = re.compile(r"\s*(?:0[xX])?([0-9a-fA-F]+)\s*")


@dataclass(frozen=True, slots=True)
class Modalias:
    """The ids a ``modalias`` string carries (no revision: the kernel leaves it out)."""

    vendor_id: str
    product_id: str
    subsystem_vendor_id: str
    subsystem_device_id: str
    class_code: str


def hex_value(text: str, digits: int) -> str | None:
    """``0x8086``, ``8086`` or ``0x10C9`` as lower-case hex of ``digits`` digits; None if not."""
    match = _HEX.fullmatch(text)
    if match is None or len(match[1]) > digits:
        return None
    return match[1].lower().zfill(digits)


def parse_modalias(text: str) -> Modalias | None:
    """Read a PCI modalias; ids lower-cased and cut to 16 bits, as ghw reads them."""
    match = _MODALIAS.match(text.strip())
    if match is None:
        return None
    return Modalias(
        vendor_id=match["vendor"][-4:].lower(),
        product_id=match["device"][-4:].lower(),
        subsystem_vendor_id=match["sub_vendor"][-4:].lower(),
        subsystem_device_id=match["sub_device"][-4:].lower(),
        class_code=(match["base"] + match["sub"] + match["prog_if"]).lower(),
    )


def parse_numa_node(text: str) -> int | None:
    """``numa_node``: a node number, or None for the kernel's ``-1`` (no topology)."""
    node = int(text)
    return None if node < 0 else node


def parse_carrier(text: str) -> bool | None:
    return {"1": True, "0": False}.get(text)


def representor_vf(phys_port_name: str | None) -> int | None:
    """The VF index a switchdev representor stands for (``pf0vf3`` -> 3, ``c1pf0vf3`` -> 3)."""
    if not phys_port_name:
        return None
    match = _REPRESENTOR.match(phys_port_name)
    return None if match is None else int(match["vf"])


def virtfn_index(name: str) -> int | None:
    """``virtfn12`` -> 12; None for any other entry of a PF directory."""
    if not name.startswith("virtfn"):
        return None
    digits = name[6:]
    return int(digits) if digits.isdigit() else None

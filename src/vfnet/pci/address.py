"""The PCI address value type, in the kernel's ``dddd:bb:ss.f`` form."""

from __future__ import annotations

import re
from dataclasses import dataclass

from vfnet.errors import InvalidPciAddress

DOMAIN_MAX = 0xFFFF
BUS_MAX = 0xFF
SLOT_MAX = 0x1F
FUNCTION_MAX = 0x7

_KERNEL_FORM = re.compile(
    r"^(?P<domain>[0-9a-fA-F]{1,8}):(?P<bus>[0-9a-fA-F]{1,2}):"
    r"(?P<slot>[0-9a-fA-F]{1,2})\.(?P<function>[0-9a-fA-F])$"
)


@dataclass(frozen=True, order=True, slots=True)
class PciAddress:
    """One PCI function: domain, bus, slot (device) and function numbers."""

    domain: int
    bus: int
    slot: int
    function: int

    def __post_init__(self) -> None:
        for name, value, limit in (
            ("domain", self.domain, DOMAIN_MAX),
            ("bus", self.bus, BUS_MAX),
            ("slot", self.slot, SLOT_MAX),
            ("function", self.function, FUNCTION_MAX),
        ):
            if not 0 <= value <= limit:
                raise InvalidPciAddress(
                    f"{self.domain:x}:{self.bus:x}:{self.slot:x}.{self.function:x}",
                    f"{name} {value:#x} is outside 0..{limit:#x}",
                )

    @classmethod
    def parse(cls, text: str) -> PciAddress:
        """Parse the kernel form; refuse 32-bit domains, slots over 1f, functions over 7."""
        match = _KERNEL_FORM.match(text.strip()) if isinstance(text, str) else None
        if match is None:
            raise InvalidPciAddress(str(text), "expected domain:bus:slot.function in hex")
        domain = int(match["domain"], 16)
        if domain > DOMAIN_MAX:
            raise InvalidPciAddress(text, "32-bit PCI domains are not supported (domain > ffff)")
        function = int(match["function"], 16)
        if function > FUNCTION_MAX:
            raise InvalidPciAddress(text, f"function {function:#x} is greater than 7")
        slot = int(match["slot"], 16)
        if slot > SLOT_MAX:
            raise InvalidPciAddress(text, f"slot {slot:#x} is greater than 0x1f")
        return cls(domain, int(match["bus"], 16), slot, function)

    @property
    def rid(self) -> int:
        """Routing id within the domain: bus << 8 | slot << 3 | function."""
        return self.bus << 8 | self.slot << 3 | self.function

    @classmethod
    def from_rid(cls, domain: int, rid: int) -> PciAddress:
        if not 0 <= rid <= 0xFFFF:
            raise InvalidPciAddress(f"{domain:04x}:rid {rid:#x}", "routing id outside 16 bits")
        return cls(domain, rid >> 8, (rid >> 3) & 0x1F, rid & 0x7)

    def __str__(self) -> str:
        return f"{self.domain:04x}:{self.bus:02x}:{self.slot:02x}.{self.function:x}"

    def __repr__(self) -> str:
        return f"PciAddress('{self}')"

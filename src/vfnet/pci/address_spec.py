"""The address part of a ``[pci] device_spec`` entry: Nova's glob and regex forms, compiled,
and how they resolve on a host (the PF rule, ``devname``)."""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass

from vfnet.errors import InvalidDeviceSpec, InvalidPciAddress
from vfnet.pci.address import BUS_MAX, DOMAIN_MAX, FUNCTION_MAX, SLOT_MAX, PciAddress
from vfnet.pci.devices import DeviceType, HostDevices, PciDevice

# Nova validates the function before the others: it decides which message an operator sees.
_GLOB_FIELDS = (
    ("func", FUNCTION_MAX),
    ("domain", DOMAIN_MAX),
    ("bus", BUS_MAX),
    ("slot", SLOT_MAX),
)
_REGEX_KEYS = ("domain", "bus", "slot", "function")
_REGEX_ANY = ".*"
_WIDTHS = {"domain": 4, "bus": 2, "slot": 2, "function": 1}
_MAXIMA = {"domain": DOMAIN_MAX, "bus": BUS_MAX, "slot": SLOT_MAX, "function": FUNCTION_MAX}

FieldMatch = Container[int]
NameLookup = Callable[[str], "PciDevice | None"]


def parse_hex_property(entry: str, field: str, prop: str, raw: str, maximum: int) -> int:
    """``int(raw, 16)`` with Nova's two messages; ``0x`` is accepted, negatives are not."""
    try:
        value = int(raw, 16)
    except ValueError:
        value = -1
    if value < 0:
        reason = f"property {prop} ('{raw}') does not parse as a hex number"
        raise InvalidDeviceSpec(entry, field, reason)
    if value > maximum:
        reason = (
            f"property {prop} ({raw}) is greater than the maximum allowable value ({maximum:X})"
        )
        raise InvalidDeviceSpec(entry, field, reason)
    return value


@dataclass(frozen=True, slots=True)
class AddressPattern:
    """The addresses a spec selects, field by field (``None`` is any value).

    ``single`` is set when every field names one value: only then may the PF rule apply
    (a PF address also selects the PF's VFs).
    """

    domain: FieldMatch | None = None
    bus: FieldMatch | None = None
    slot: FieldMatch | None = None
    function: FieldMatch | None = None
    single: PciAddress | None = None

    @property
    def is_any(self) -> bool:
        return self.domain is self.bus is self.slot is self.function is None

    def matches(self, address: PciAddress) -> bool:
        return (
            (self.function is None or address.function in self.function)
            and (self.slot is None or address.slot in self.slot)
            and (self.bus is None or address.bus in self.bus)
            and (self.domain is None or address.domain in self.domain)
        )


ANY_ADDRESS = AddressPattern()


def exactly(address: PciAddress) -> AddressPattern:
    """The pattern selecting ``address`` alone."""
    return _pattern_of(address.domain, address.bus, address.slot, address.function)


def parse_address_spec(entry: str, value: object) -> AddressPattern:
    """A device_spec ``address``: null (everything), a glob string or a regex object."""
    if value is None:
        return ANY_ADDRESS
    if isinstance(value, str):
        return parse_glob(entry, value)
    if isinstance(value, Mapping):
        return parse_regex(entry, value)
    raise InvalidDeviceSpec(
        entry,
        "address",
        f"the PCI address {value!r} has an incorrect format: expected a string or an object",
    )


def parse_glob(entry: str, text: str) -> AddressPattern:
    """``[[[[<domain>]:]<bus>]:][<slot>][.[<function>]]``: fields right-aligned, ``*`` any."""
    dbs, _, func = text.partition(".")
    fields = dbs.split(":") if dbs else []
    if len(fields) > 3:
        raise InvalidDeviceSpec(
            entry,
            "address",
            f"the PCI address {text!r} has an incorrect format: "
            "more than 3 ':'-separated fields before the '.'",
        )
    raw = dict(zip(("domain", "bus", "slot"), ["*"] * (3 - len(fields)) + fields, strict=True))
    raw["func"] = func
    values: dict[str, int | None] = {}
    for prop, maximum in _GLOB_FIELDS:
        field = raw[prop].strip()
        # A function given as only blanks is not empty in Nova: it fails to parse.
        empty_is_any = prop != "func" or not raw[prop]
        if field == "*" or (field == "" and empty_is_any):
            values[prop] = None
        else:
            values[prop] = parse_hex_property(entry, "address", prop, field, maximum)
    return _pattern_of(values["domain"], values["bus"], values["slot"], values["func"])


def _pattern_of(
    domain: int | None, bus: int | None, slot: int | None, func: int | None
) -> AddressPattern:
    def one(value: int | None) -> FieldMatch | None:
        return None if value is None else frozenset((value,))

    single = None
    if domain is not None and bus is not None and slot is not None and func is not None:
        single = PciAddress(domain, bus, slot, func)
    return AddressPattern(one(domain), one(bus), one(slot), one(func), single)


def parse_regex(entry: str, spec: Mapping[object, object]) -> AddressPattern:
    """``{"domain": re, "bus": re, "slot": re, "function": re}``; a missing key is ``.*``.

    Each pattern is matched with ``re.match`` (anchored at the start only) against the
    field written as the kernel writes it: lower-case hex, zero-padded 4/2/2/1.
    """
    unknown = sorted(str(key) for key in spec if key not in _REGEX_KEYS)
    if unknown:
        raise InvalidDeviceSpec(
            entry,
            "address",
            f"unknown key(s) {', '.join(unknown)} in the regex address; "
            f"use {', '.join(_REGEX_KEYS)}",
        )
    fields: dict[str, FieldMatch | None] = {}
    for key in _REGEX_KEYS:
        pattern = spec.get(key, _REGEX_ANY)
        if not isinstance(pattern, str):
            raise InvalidDeviceSpec(
                entry,
                "address",
                f"property {key} ({pattern!r}) must be a regular expression string",
            )
        fields[key] = _compile_field(entry, key, pattern)
    return AddressPattern(
        fields["domain"], fields["bus"], fields["slot"], fields["function"], _single(spec)
    )


def _compile_field(entry: str, key: str, pattern: str) -> FieldMatch | None:
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise InvalidDeviceSpec(
            entry,
            "address",
            f"property {key} ({pattern!r}) is not a valid regular expression: {exc}",
        ) from None
    if pattern in ("", _REGEX_ANY):
        return None
    if key == "domain":
        return _DomainRegex(regex)
    # Every possible value is tried once here so that matching is a set lookup.
    width = _WIDTHS[key]
    return frozenset(
        value for value in range(_MAXIMA[key] + 1) if regex.match(f"{value:0{width}x}")
    )


def _single(spec: Mapping[object, object]) -> PciAddress | None:
    """The address a regex names outright: four plain hex fields in the kernel's own form."""
    values = [spec.get(key) for key in _REGEX_KEYS]
    if not all(isinstance(v, str) and v and set(v) <= set(string.hexdigits) for v in values):
        return None
    text = f"{values[0]}:{values[1]}:{values[2]}.{values[3]}"
    try:
        address = PciAddress.parse(text)
    except InvalidPciAddress:
        return None
    # Nova looks the address up in sysfs verbatim: "3B" or "0" never name a device there.
    return address if str(address) == text else None


@dataclass(frozen=True, slots=True)
class _DomainRegex:
    """A domain pattern: 65536 values are too many to try ahead, so it is matched as asked."""

    regex: re.Pattern[str]

    def __contains__(self, domain: object) -> bool:
        return isinstance(domain, int) and self.regex.match(f"{domain:04x}") is not None


# --- on a host ------------------------------------------------------------------------------


def resolve_pf_rule(pattern: AddressPattern, host: HostDevices) -> tuple[AddressPattern, bool]:
    """The pattern, and whether to test devices by their PF's address (the PF rule)."""
    return pattern, pattern.single is not None and is_pf(host.get(pattern.single))


def resolve_devname(devname: str, names: NameLookup) -> tuple[AddressPattern, bool] | None:
    """A PF's netdev selects the PF and its VFs, a VF's that VF; a missing one nothing."""
    found = names(devname)
    if found is None:
        return None
    return exactly(found.address), is_pf(found)


def is_pf(device: PciDevice | None) -> bool:
    """Nova's test: the device is a PF that can have VFs (``sriov_totalvfs`` > 0)."""
    return (
        device is not None
        and device.dev_type is DeviceType.PF
        and device.sriov is not None
        and device.sriov.total_vfs > 0
    )


def name_index(host: HostDevices) -> NameLookup:
    """Netdev name -> device, built once per host (a representor name leads to its PF).

    Built backwards so that, as with ``HostDevices.by_ifname``, the first holder wins.
    """
    devices = list(host.devices.values())
    devices.reverse()
    index = {netdev.name: device for device in devices for netdev in device.netdevs}
    return index.get


def near_names(device: PciDevice, host: HostDevices) -> NameLookup:
    """Names as seen from one device: a devname can select it only if the name is its own
    or its PF's, so looking at those two is enough and scans nothing."""
    parent = host.get(device.parent_addr) if device.parent_addr is not None else None
    nearby = [d for d in (device, parent) if d is not None]

    def lookup(name: str) -> PciDevice | None:
        for candidate in nearby:
            if any(netdev.name == name for netdev in candidate.netdevs):
                return candidate
        return None

    return lookup


def no_names(name: str) -> PciDevice | None:
    return None

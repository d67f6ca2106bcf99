"""Nova's ``[pci] device_spec``: which PCI devices of a host vfnet may hand out, and their tags.

Entries are parsed once, all or nothing, into specs with precompiled address patterns.
A host then binds them (is this address a PF here? which device is ``devname``?), and
each device takes the tags of the first spec that matches it.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from vfnet.errors import InvalidDeviceSpec
from vfnet.pci.address_spec import (
    AddressPattern,
    FieldMatch,
    NameLookup,
    is_pf,
    name_index,
    near_names,
    no_names,
    parse_address_spec,
    parse_hex_property,
    resolve_devname,
    resolve_pf_rule,
)
from vfnet.pci.devices import DeviceType, HostDevices, PciDevice
from vfnet.pci.selection import SelectedDevice, TagValue

RESERVED_KEYS = frozenset({"vendor_id", "product_id", "address", "devname"})
STRICT_BOOL_TAGS = frozenset({"managed", "live_migratable", "one_time_use"})
_TRUE = frozenset({"1", "t", "true", "on", "y", "yes"})
_FALSE = frozenset({"0", "f", "false", "off", "n", "no"})
_ACCEPTABLE = ", ".join(f"'{word}'" for word in sorted(_TRUE | _FALSE))
_VF_TYPES = frozenset({DeviceType.VF, DeviceType.VDPA})
_ID_MAX = 0xFFFF

# A spec resolved on one host, flat so that the per-device loop reads it cheaply (a plain
# tuple unpacks fastest): vendor_id, product_id, vfs_only, via_parent, then the domain, bus,
# slot and function matches, then the tags. ``via_parent`` is the PF rule: the pattern is
# tested against a device's PF address when it has one, so a PF's address selects the PF
# and its VFs.
BoundSpec = tuple[
    str | None,
    str | None,
    bool,
    bool,
    FieldMatch | None,
    FieldMatch | None,
    FieldMatch | None,
    FieldMatch | None,
    Mapping[str, TagValue],
]


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    """One parsed entry. Ids are 4 lower-case hex digits or ``None`` (any).

    ``address`` is ignored when ``devname`` is set (the two are exclusive).
    ``remote_managed`` is the tag read as Nova reads it (lenient bool); the tag itself
    keeps the operator's spelling. Remote-managed specs select VFs only.
    """

    entry: str
    vendor_id: str | None
    product_id: str | None
    address: AddressPattern
    devname: str | None
    tags: Mapping[str, TagValue]
    remote_managed: bool = False

    def bind(self, host: HostDevices, names: NameLookup) -> BoundSpec | None:
        """This spec resolved on ``host``; ``None`` when it can match nothing there."""
        if self.devname is not None:
            rule = resolve_devname(self.devname, names)
        else:
            rule = resolve_pf_rule(self.address, host)
        if rule is None:
            return None
        pattern, via_parent = rule
        return (
            self.vendor_id,
            self.product_id,
            self.remote_managed,
            via_parent,
            pattern.domain,
            pattern.bus,
            pattern.slot,
            pattern.function,
            self.tags,
        )


@dataclass(frozen=True, slots=True)
class DeviceSpecList:
    """Specs in configuration order: the first one matching a device gives its tags."""

    specs: tuple[DeviceSpec, ...] = ()

    def __len__(self) -> int:
        return len(self.specs)

    def __iter__(self) -> Iterator[DeviceSpec]:
        return iter(self.specs)

    def match(self, device: PciDevice, host: HostDevices) -> Mapping[str, TagValue] | None:
        """The tags of the first spec selecting ``device`` on ``host``, or ``None``.

        Costs no scan of the host. Specs wrong for this host are refused by ``select``
        and ``check``, not here.
        """
        tagged = _tag_all((device,), self._bind(host, near_names(device, host)))
        return tagged[0].tags if tagged else None

    def select(self, host: HostDevices) -> list[SelectedDevice]:
        """Every device of ``host`` some spec selects, with its tags, in address order.

        Raises InvalidDeviceSpec when a spec is wrong for this host (see ``check``).
        """
        self.check(host)
        names = name_index(host) if any(s.devname for s in self.specs) else no_names
        return _in_address_order(_tag_all(host.devices.values(), self._bind(host, names)))

    def check(self, host: HostDevices) -> None:
        """Refuse what only the host can show wrong: a remote_managed spec naming a
        missing netdev, or one that would select a PF."""
        remote_managed = [spec for spec in self.specs if spec.remote_managed]
        if remote_managed:
            names = name_index(host)
            for spec in remote_managed:
                _check_remote_managed(spec, host, names)

    def _bind(self, host: HostDevices, names: NameLookup) -> list[BoundSpec]:
        return [bound for spec in self.specs if (bound := spec.bind(host, names)) is not None]


def parse_device_specs(
    entries: Sequence[str | Mapping[str, object]], *, report_in_placement: bool = False
) -> DeviceSpecList:
    """Parse ``[pci] device_spec`` entries (JSON strings or parsed objects), all or nothing.

    Entry ``i`` is named ``device_spec[i]`` in errors, element ``j`` of a JSON array
    ``device_spec[i][j]``.
    """
    if isinstance(entries, str | Mapping):  # one entry given bare
        entries = [entries]
    specs = [
        _parse_spec(label, raw, report_in_placement)
        for index, entry in enumerate(entries)
        for label, raw in _objects_of(f"device_spec[{index}]", entry)
    ]
    return DeviceSpecList(tuple(specs))


def _objects_of(label: str, entry: object) -> list[tuple[str, Mapping[object, object]]]:
    value = entry
    if isinstance(entry, str):
        try:
            value = json.loads(entry)
        except json.JSONDecodeError as exc:
            raise InvalidDeviceSpec(label, None, f"Invalid entry: {entry!r}: {exc}") from None
    if isinstance(value, Mapping):
        return [(label, value)]
    if isinstance(value, list):
        for index, item in enumerate(value):
            if not isinstance(item, Mapping):
                reason = f"Invalid entry: {item!r}; Expecting dict"
                raise InvalidDeviceSpec(f"{label}[{index}]", None, reason)
        return [(f"{label}[{index}]", item) for index, item in enumerate(value)]
    raise InvalidDeviceSpec(label, None, f"Invalid entry: {entry!r}; Expecting list or dict")


def _parse_spec(label: str, raw: Mapping[object, object], report_in_placement: bool) -> DeviceSpec:
    for key in raw:
        if not isinstance(key, str):
            raise InvalidDeviceSpec(label, None, f"keys must be strings, not {key!r}")
    vendor_id = _parse_id(label, "vendor_id", raw.get("vendor_id"))
    product_id = _parse_id(label, "product_id", raw.get("product_id"))
    devname, address = raw.get("devname"), raw.get("address")
    if devname is not None and not isinstance(devname, str):
        raise InvalidDeviceSpec(label, "devname", f"must be an interface name, not {devname!r}")
    if devname and address:
        reason = "a device spec can name a devname or an address, but not both"
        raise InvalidDeviceSpec(label, "devname", reason)
    pattern = parse_address_spec(label, None if devname else address)
    tags = _parse_tags(label, {str(k): v for k, v in raw.items() if k not in RESERVED_KEYS})
    if tags.get("one_time_use") == "true" and not report_in_placement:
        reason = "one_time_use=true requires pci.report_in_placement to be enabled"
        raise InvalidDeviceSpec(label, "one_time_use", reason)
    remote_managed = _lenient_bool(tags.get("remote_managed"))
    return DeviceSpec(
        label,
        vendor_id,
        product_id,
        pattern,
        devname or None,
        MappingProxyType(tags),
        remote_managed,
    )


def _parse_id(label: str, field: str, value: object) -> str | None:
    """``*``, null or missing is any id; hex (``0x`` allowed) becomes 4 lower-case digits."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidDeviceSpec(label, field, f"must be a string of hex digits, not {value!r}")
    text = value.strip()
    if text == "*":
        return None
    return f"{parse_hex_property(label, field, field, text, _ID_MAX):04x}"


def _parse_tags(label: str, raw: Mapping[str, object]) -> dict[str, TagValue]:
    tags: dict[str, TagValue] = {}
    for name, value in raw.items():
        if value is not None and not isinstance(value, str | bool | int | float):
            reason = f"tag values must be a string, number, boolean or null, not {value!r}"
            raise InvalidDeviceSpec(label, name, reason)
        if name in STRICT_BOOL_TAGS and value is not None:
            try:
                value = "true" if strict_bool(value) else "false"
            except ValueError as exc:
                raise InvalidDeviceSpec(label, name, f"Cannot parse tag '{name}': {exc}") from None
        tags[name] = value
    return tags


def strict_bool(value: object) -> bool:
    """Nova's (oslo's) strict bool: yes/no, on/off, 1/0, t/f... in any case, or a JSON bool."""
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise ValueError(f"Unrecognized value '{value}', acceptable values are: {_ACCEPTABLE}")


def _lenient_bool(value: TagValue) -> bool:
    if isinstance(value, bool):
        return value
    return value is not None and str(value).strip().lower() in _TRUE


def _check_remote_managed(spec: DeviceSpec, host: HostDevices, names: NameLookup) -> None:
    """Nova's rule, on the normalised address: a remote-managed PF spec names the VF ids."""
    if spec.devname is not None:
        pf = names(spec.devname)
        if pf is None:
            reason = f"no network interface {spec.devname!r} on this host (remote_managed=true)"
            raise InvalidDeviceSpec(spec.entry, "devname", reason)
    else:
        single = spec.address.single
        pf = host.get(single) if single is not None else None
    if pf is None or pf.sriov is None or not is_pf(pf):
        return
    vf_product = pf.sriov.vf_device
    vendor_ok = spec.vendor_id in (None, pf.vendor_id)
    if vendor_ok and spec.product_id == vf_product:
        return
    if vendor_ok and spec.product_id in (None, pf.product_id):
        reason = (
            f"{pf.address} is a PF and a remote_managed=true spec must not select it: "
            f"set product_id to its VFs' id {vf_product}"
        )
        raise InvalidDeviceSpec(spec.entry, "remote_managed", reason)
    reason = (
        f"the specified VF vendor ID {spec.vendor_id or '*'} and product ID "
        f"{spec.product_id or '*'} do not match the expected VF IDs "
        f"{pf.vendor_id}:{vf_product} of PF {pf.address}"
    )
    raise InvalidDeviceSpec(spec.entry, "product_id", reason)


def _tag_all(devices: Iterable[PciDevice], bound: Sequence[BoundSpec]) -> list[SelectedDevice]:
    """Each device with the tags of the first bound spec that matches it.

    This is the hot loop (specs x devices): one flat pass, no call per spec.
    """
    selected = []
    for device in devices:
        vendor_id, product_id, own = device.vendor_id, device.product_id, device.address
        for spec_vendor, spec_product, vfs_only, via_parent, dom, bus, slot, func, tags in bound:
            if (spec_vendor is not None and spec_vendor != vendor_id) or (
                spec_product is not None and spec_product != product_id
            ):
                continue
            if vfs_only and device.dev_type not in _VF_TYPES:
                continue
            address = (device.parent_addr or own) if via_parent else own
            if (
                (func is None or address.function in func)
                and (slot is None or address.slot in slot)
                and (bus is None or address.bus in bus)
                and (dom is None or address.domain in dom)
            ):
                selected.append(SelectedDevice(device, tags))
                break
    return selected


def _in_address_order(selected: list[SelectedDevice]) -> list[SelectedDevice]:
    """Hosts are usually built in address order already: then checking is all it costs."""
    addresses = [item.device.address for item in selected]
    keys = [a.domain << 16 | a.bus << 8 | a.slot << 3 | a.function for a in addresses]
    if all(map(operator.lt, keys, keys[1:])):
        return selected
    return [selected[i] for i in sorted(range(len(keys)), key=keys.__getitem__)]

"""The host config file: one TOML file per host saying which devices vfnet manages, and how."""

from __future__ import annotations

import socket
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vfnet.errors import ConfigError, InvalidHostConfig, InvalidPciAddress
from vfnet.pci.address import PciAddress
from vfnet.pci.devices import HostDevices, PciDevice
from vfnet.pci.selection import SelectedDevice
from vfnet.pci.selectors import ResourceList, parse_resource_list
from vfnet.pci.sriov_nic import SriovNicConfig, parse_sriov_nic

if TYPE_CHECKING:
    from vfnet.pci.alias import Alias
    from vfnet.pci.device_spec import DeviceSpecList

_SECTIONS = ("host", "pci", "sriov_nic", "num_vfs", "device_plugin", "bridges")
IFNAMSIZ = 15  # the kernel's limit on a link name, less its terminating NUL
_HOST_KEYS = ("name", "sysfs_root")
_PCI_KEYS = ("device_spec", "alias", "report_in_placement")


@dataclass(frozen=True, slots=True)
class HostConfig:
    """Everything one host's config file says, parsed and checked; nothing else is read later.

    ``num_vfs`` maps a PF (netdev name, or PCI address in kernel form) to the VF count
    to create. ``device_specs`` tag devices as Nova does, ``sriov_nic`` adds Neutron's
    physnet mappings, ``resource_list`` puts devices in device-plugin pools. ``bridges``
    maps a physical network to the Linux bridge that serves its normal ports (Neutron's
    ``bridge_mappings``): a veth for a container, a tap for a VM.
    """

    source: str
    name: str
    sysfs_root: Path = Path("/sys")
    device_specs: DeviceSpecList | None = None
    aliases: Mapping[str, Alias] = field(default_factory=dict)
    sriov_nic: SriovNicConfig = field(default_factory=SriovNicConfig)
    num_vfs: Mapping[str, int] = field(default_factory=dict)
    resource_list: ResourceList | None = None
    bridges: Mapping[str, str] = field(default_factory=dict)

    def validate(self, host: HostDevices) -> None:
        """Refuse what only the host can show wrong: missing PFs, VF counts or ranges too big."""
        if self.resource_list is not None:
            self.resource_list.validate(host)
        with _located(self.source):
            self.sriov_nic.validate(host)
        if self.device_specs is not None:
            with _located(f"{self.source} [pci]"):
                self.device_specs.check(host)
        _check_num_vfs(self.num_vfs, host, f"{self.source} [num_vfs]")

    def select(self, host: HostDevices) -> list[SelectedDevice]:
        """The devices this host offers, tagged, in address order.

        device_spec entries tag first (first match wins), physnet mappings tag the VFs of
        mapped PFs left untagged, resourceList pools add a resource name; a device chosen
        by any of them is offered; excluded VFs never are.
        """
        self.validate(host)
        chosen: dict[PciAddress, SelectedDevice] = {}
        if self.device_specs is not None:
            with _located(f"{self.source} [pci]"):
                chosen.update((s.device.address, s) for s in self.device_specs.select(host))
        for device in host:
            tags = None if device.address in chosen else self.sriov_nic.tags_for(device, host)
            if tags is not None:
                chosen[device.address] = SelectedDevice(device, tags)
        if self.resource_list is not None:
            for item in self.resource_list.select(host):
                tagged = chosen.get(item.device.address)
                tags = {**(tagged.tags if tagged else {}), **item.tags}
                chosen[item.device.address] = SelectedDevice(item.device, tags, item.resource_name)
        excluded = self.sriov_nic.excluded
        return [chosen[a] for a in sorted(chosen) if a not in excluded]


def load_host_config(path: str | Path, *, hostname: str | None = None) -> HostConfig:
    """Read and parse one host config file; a bad file raises and nothing is half loaded."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise InvalidHostConfig(source, None, f"cannot read: {err.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise InvalidHostConfig(source, None, f"not valid TOML: {err}") from None
    return parse_host_config(data, source, hostname=hostname)


def parse_host_config(
    data: Mapping[str, Any], source: str, *, hostname: str | None = None
) -> HostConfig:
    """Parse the file's tables; ``source`` names it in errors and anchors relative paths."""
    unknown = sorted(set(data) - set(_SECTIONS))
    if unknown:
        raise InvalidHostConfig(source, unknown[0], f"unknown section; expected {_SECTIONS}")
    host = _table(data, "host", source, _HOST_KEYS)
    pci = _table(data, "pci", source, _PCI_KEYS)
    base = Path(source).parent
    device_specs, aliases = _parse_pci(pci, source)
    with _located(source):
        sriov_nic = parse_sriov_nic(_table(data, "sriov_nic", source), entry="[sriov_nic]")
    return HostConfig(
        source=source,
        name=_text(host, "name", f"{source} [host]", hostname or socket.gethostname()),
        sysfs_root=base / _text(host, "sysfs_root", f"{source} [host]", "/sys"),
        device_specs=device_specs,
        aliases=aliases,
        sriov_nic=sriov_nic,
        num_vfs=_parse_num_vfs(_table(data, "num_vfs", source), f"{source} [num_vfs]"),
        resource_list=_parse_device_plugin(data.get("device_plugin"), source, base),
        bridges=_parse_bridges(_table(data, "bridges", source), f"{source} [bridges]"),
    )


@contextmanager
def _located(source: str) -> Iterator[None]:
    """Re-raise a config error from a nested parser with the file named in its entry."""
    try:
        yield
    except ConfigError as err:
        if err.entry.startswith(source):
            raise
        raise type(err)(f"{source} {err.entry}", err.field, err.reason) from None


def _table(
    data: Mapping[str, Any], name: str, source: str, keys: tuple[str, ...] | None = None
) -> Mapping[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, Mapping):
        raise InvalidHostConfig(source, name, f"expected a [{name}] table")
    unknown = sorted(set(value) - set(keys)) if keys is not None else []
    if unknown:
        raise InvalidHostConfig(f"{source} [{name}]", unknown[0], f"unknown key; expected {keys}")
    return value


def _text(table: Mapping[str, Any], key: str, entry: str, default: str) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise InvalidHostConfig(entry, key, f"expected a non-empty string, not {value!r}")
    return value


def _parse_pci(
    pci: Mapping[str, Any], source: str
) -> tuple[DeviceSpecList | None, Mapping[str, Alias]]:
    entry = f"{source} [pci]"
    in_placement = pci.get("report_in_placement", False)
    if not isinstance(in_placement, bool):
        raise InvalidHostConfig(entry, "report_in_placement", "expected true or false")
    specs, aliases = pci.get("device_spec"), pci.get("alias", [])
    # Nova's options are multi-valued strings: one entry may stand alone.
    specs = [specs] if isinstance(specs, str) else specs
    aliases = [aliases] if isinstance(aliases, str) else aliases
    for key, value in (("device_spec", specs or []), ("alias", aliases)):
        if not isinstance(value, list):
            raise InvalidHostConfig(entry, key, "expected a list of JSON strings or tables")
    with _located(entry):
        return _device_specs(specs, in_placement), _aliases(aliases)


# Imported where used, so that a host without [pci] entries loads without those parsers.
def _device_specs(specs: list[Any] | None, in_placement: bool) -> DeviceSpecList | None:
    if specs is None:
        return None
    from vfnet.pci.device_spec import parse_device_specs

    return parse_device_specs(specs, report_in_placement=in_placement)


def _aliases(aliases: list[Any]) -> Mapping[str, Alias]:
    if not aliases:
        return {}
    from vfnet.pci.alias import parse_aliases

    parsed: Mapping[str, Alias] = parse_aliases(aliases)
    return parsed


def _parse_num_vfs(table: Mapping[str, Any], entry: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for key, count in table.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise InvalidHostConfig(entry, key, f"expected a whole number >= 0, not {count!r}")
        pf = key
        if ":" in key:
            pf = _kernel_form(key, entry)
        if pf in counts:
            raise InvalidHostConfig(entry, key, f"PF {pf} is given twice")
        counts[pf] = count
    return counts


def _parse_bridges(table: Mapping[str, Any], entry: str) -> dict[str, str]:
    """``physnet = "bridge"``: the bridge must be a link name the kernel accepts."""
    bridges: dict[str, str] = {}
    for physnet, bridge in table.items():
        if not isinstance(bridge, str) or not 0 < len(bridge) <= IFNAMSIZ:
            reason = f"expected a bridge name of 1-{IFNAMSIZ} characters, not {bridge!r}"
            raise InvalidHostConfig(entry, physnet, reason)
        if "/" in bridge or bridge.strip() != bridge or " " in bridge:
            raise InvalidHostConfig(entry, physnet, f"{bridge!r} is not a valid link name")
        bridges[physnet] = bridge
    return bridges


def _kernel_form(key: str, entry: str) -> str:
    try:
        return str(PciAddress.parse(key))
    except InvalidPciAddress as err:
        raise InvalidHostConfig(entry, key, f"not a PCI address: {err.reason}") from None


def _check_num_vfs(num_vfs: Mapping[str, int], host: HostDevices, entry: str) -> None:
    seen: dict[PciAddress, str] = {}
    for key, count in num_vfs.items():
        pf = _find_pf(key, host)
        if pf is None:
            raise InvalidHostConfig(entry, key, f"PF {key!r} does not exist on this host")
        if pf.address in seen:
            raise InvalidHostConfig(entry, key, f"same PF as {seen[pf.address]!r}")
        seen[pf.address] = key
        total = pf.sriov.total_vfs if pf.sriov else 0
        if count > total:
            raise InvalidHostConfig(
                entry, key, f"{count} VFs is more than the PF supports (sriov_totalvfs {total})"
            )


def _find_pf(key: str, host: HostDevices) -> PciDevice | None:
    if ":" in key:
        return host.get(PciAddress.parse(key))
    named = (device for device in host if device.parent_addr is None and device.ifname == key)
    return next(named, None)


def _parse_device_plugin(value: object, source: str, base: Path) -> ResourceList | None:
    if value is None:
        return None
    if isinstance(value, str):
        path = base / value
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as err:
            reason = f"cannot read {str(path)!r}: {err.strerror}"
            raise InvalidHostConfig(source, "device_plugin", reason) from None
        return parse_resource_list(text, source=f"{source} device_plugin={value!r}")
    if not isinstance(value, Mapping):
        raise InvalidHostConfig(source, "device_plugin", "expected a config.json path or a table")
    return parse_resource_list(value, source=f"{source} [device_plugin]")

"""Nova's ``[pci] alias``: named PCI device requests a flavor can ask for (``name:count``)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from vfnet.errors import InvalidAlias
from vfnet.pci.device_spec import strict_bool
from vfnet.pci.devices import DeviceType

NUMA_POLICIES = ("required", "legacy", "preferred", "socket")
DEVICE_TYPES = (DeviceType.PCI.value, DeviceType.PF.value, DeviceType.VF.value)
_STRING_KEYS = ("resource_class", "traits")
_KEYS = frozenset(
    {"name", "vendor_id", "product_id", "device_type", "numa_policy", "capability_type"}
    | {"live_migratable", *_STRING_KEYS}
)
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")
_NAME_MAX = 256


@dataclass(frozen=True, slots=True)
class Alias:
    """One alias name and its request specs (OR-ed), in Nova's request-spec keys.

    Spec keys: ``vendor_id``, ``product_id`` (4 lower-case hex digits), ``dev_type``,
    ``live_migratable`` (``"true"``/``"false"``), ``resource_class``, ``traits``,
    ``capability_type``. ``device_type`` is the alias's ``dev_type`` (shared by its specs).
    """

    name: str
    specs: tuple[Mapping[str, str], ...]
    numa_policy: str = "legacy"
    device_type: str | None = None


def parse_aliases(
    entries: Sequence[str | Mapping[str, object]], *, pci_in_placement: bool = False
) -> dict[str, Alias]:
    """Parse ``[pci] alias`` entries (JSON objects or parsed dicts), all or nothing.

    Entry ``i`` is named ``alias[i]`` in errors. Entries sharing a name are OR-ed and must
    agree on ``numa_policy`` and ``device_type``.
    """
    if isinstance(entries, str | Mapping):  # one entry given bare
        entries = [entries]
    aliases: dict[str, Alias] = {}
    first_entry: dict[str, str] = {}
    for index, entry in enumerate(entries):
        label = f"alias[{index}]"
        alias = _parse_entry(label, _object_of(label, entry))
        known = aliases.get(alias.name)
        if known is None:
            aliases[alias.name], first_entry[alias.name] = alias, label
            continue
        _check_agrees(label, first_entry[alias.name], known, alias)
        aliases[alias.name] = Alias(
            alias.name, known.specs + alias.specs, known.numa_policy, known.device_type
        )
    _check_requests(aliases, pci_in_placement)
    return aliases


def _object_of(label: str, entry: object) -> Mapping[str, object]:
    value = entry
    if isinstance(entry, str):
        try:
            value = json.loads(entry)
        except json.JSONDecodeError as exc:
            raise InvalidAlias(label, None, f"not JSON: {exc}") from None
    if not isinstance(value, Mapping):
        raise InvalidAlias(label, None, f"expected a JSON object, not {value!r}")
    unknown = sorted(str(key) for key in value if key not in _KEYS)
    if unknown:
        allowed = ", ".join(sorted(_KEYS))
        reason = f"unknown key(s) {', '.join(unknown)}; allowed keys are {allowed}"
        raise InvalidAlias(label, unknown[0], reason)
    return value


def _parse_entry(label: str, raw: Mapping[str, object]) -> Alias:
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > _NAME_MAX:
        reason = f"is required: a string of 1 to {_NAME_MAX} characters, not {name!r}"
        raise InvalidAlias(label, "name", reason)
    spec: dict[str, str] = {}
    for field in ("vendor_id", "product_id"):
        if field in raw:
            spec[field] = _hex4(label, field, raw[field])
    device_type = _one_of(label, "device_type", raw.get("device_type"), DEVICE_TYPES)
    if device_type is not None:
        spec["dev_type"] = device_type
    numa_policy = _one_of(label, "numa_policy", raw.get("numa_policy"), NUMA_POLICIES)
    capability = _one_of(label, "capability_type", raw.get("capability_type"), ("pci",))
    if capability is not None:
        spec["capability_type"] = capability
    for field in _STRING_KEYS:
        if field in raw:
            spec[field] = _string(label, field, raw[field])
    if raw.get("live_migratable") is not None:
        spec["live_migratable"] = _true_or_false(label, raw["live_migratable"])
    return Alias(name.strip(), (MappingProxyType(spec),), numa_policy or "legacy", device_type)


def _hex4(label: str, field: str, value: object) -> str:
    if not isinstance(value, str) or not _HEX4.fullmatch(value):
        reason = f"{value!r} is not exactly 4 hex digits (no wildcard in an alias)"
        raise InvalidAlias(label, field, reason)
    return value.lower()


def _one_of(label: str, field: str, value: object, allowed: Sequence[str]) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and value in allowed:
        return value
    choices = ", ".join(f"'{choice}'" for choice in allowed)
    raise InvalidAlias(label, field, f"{value!r} is not one of {choices}")


def _string(label: str, field: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidAlias(label, field, f"must be a string, not {value!r}")
    return value


def _true_or_false(label: str, value: object) -> str:
    if not isinstance(value, str | bool):
        raise InvalidAlias(label, "live_migratable", f"must be a boolean, not {value!r}")
    try:
        return "true" if strict_bool(value) else "false"
    except ValueError as exc:
        raise InvalidAlias(label, "live_migratable", str(exc)) from None


def _check_agrees(label: str, first: str, known: Alias, alias: Alias) -> None:
    """A repeated name adds specs; it cannot change how the alias is scheduled."""
    if alias.numa_policy != known.numa_policy:
        reason = (
            f"NUMA policy mismatch for alias '{alias.name}': '{alias.numa_policy}' here, "
            f"'{known.numa_policy}' in {first}"
        )
        raise InvalidAlias(label, "numa_policy", reason)
    if alias.device_type != known.device_type:
        reason = (
            f"Device type mismatch for alias '{alias.name}': {alias.device_type!r} here, "
            f"{known.device_type!r} in {first}"
        )
        raise InvalidAlias(label, "device_type", reason)


def _check_requests(aliases: Mapping[str, Alias], pci_in_placement: bool) -> None:
    """What a request needs to find devices: ids, or (in placement) ids or a resource class."""
    if not pci_in_placement:
        missing = sorted(
            name
            for name, alias in aliases.items()
            if any("vendor_id" not in s or "product_id" not in s for s in alias.specs)
        )
        if missing:
            names = ",".join(missing)
            reason = f"The PCI alias(es) {names} does not have vendor_id and product_id fields set"
            raise InvalidAlias(f"alias '{names}'", None, reason)
        return
    for name, alias in aliases.items():
        if len(alias.specs) > 1:
            reason = "with PCI in placement an alias name may be defined only once"
            raise InvalidAlias(f"alias '{name}'", None, reason)
        spec = alias.specs[0]
        if not ("vendor_id" in spec and "product_id" in spec) and "resource_class" not in spec:
            reason = "needs vendor_id and product_id, or resource_class"
            raise InvalidAlias(f"alias '{name}'", None, reason)

"""PCI requests built from what users give: ports (vnic_type) and flavors (aliases, NUMA policy)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from enum import Enum
from typing import Protocol

from vfnet.errors import ValidationError
from vfnet.inventory.requests import NumaPolicy, PciRequest
from vfnet.network.vnic_types import VnicType, parse_vnic_type
from vfnet.pci.devices import DeviceType

ALIAS_SPEC = "pci_passthrough:alias"
FLAVOR_NUMA_SPEC = "hw:pci_numa_affinity_policy"
IMAGE_NUMA_PROPERTY = "hw_pci_numa_affinity_policy"
PORT_NUMA_FIELD = "numa_affinity_policy"

# vnic_type -> what the one-device spec adds to the physnet (None: not an SR-IOV port).
# VF kinds carry no dev_type: matching drops PF and vDPA pools unless they are asked for.
# Exactly the vnic types ports accept (``vfnet.network.vnic_types``): the others are
# refused with the same reason a port gets.
_VNIC_SPECS: Mapping[VnicType, Mapping[str, str] | None] = {
    VnicType.NORMAL: None,
    VnicType.DIRECT: {"remote_managed": "False"},
    VnicType.MACVTAP: {"remote_managed": "False"},
    VnicType.DIRECT_PHYSICAL: {"remote_managed": "False", "dev_type": DeviceType.PF.value},
    VnicType.VDPA: {"remote_managed": "False", "dev_type": DeviceType.VDPA.value},
}

_TRUE_WORDS = frozenset({"true", "yes", "on", "1", "y", "t"})
_FALSE_WORDS = frozenset({"false", "no", "off", "0", "n", "f"})


class AliasLike(Protocol):
    """What a flavor request needs of a ``[pci] alias`` (several same-name entries, OR-ed)."""

    @property
    def name(self) -> str: ...
    @property
    def specs(self) -> Sequence[Mapping[str, object]]: ...
    @property
    def numa_policy(self) -> object: ...
    @property
    def device_type(self) -> object: ...


def request_for_port(
    port_id: str,
    vnic_type: str,
    physical_network: str | None,
    *,
    trusted: bool | str | None = None,
    numa_policy: NumaPolicy | str | None = None,
    pf_group: str | None = None,
    default_numa_policy: NumaPolicy | None = None,
    vf_needs: Collection[str] = (),
) -> PciRequest | None:
    """The one-device request a port needs, or ``None`` for a ``normal`` (non SR-IOV) port.

    A vnic type ports refuse (``remote-managed``, ``virtio-forwarder``, ...) is refused
    here too, with the same reason. ``vf_needs``: the VF attributes the port needs its
    NIC to set (``refusals.vf_needs``), so PFs that refused one are not chosen for it.

    ``numa_policy`` is the port's own policy; when unset, ``default_numa_policy`` (the
    flavor/image policy, see :func:`instance_numa_policy`) applies: port > flavor/image.
    """
    extra = _VNIC_SPECS[parse_vnic_type(vnic_type)]
    if extra is None:
        return None
    spec: dict[str, str | None] = {"physical_network": physical_network, **extra}
    if trusted is not None:
        spec["trusted"] = "True" if _parse_bool("binding:profile.trusted", trusted) else "False"
    policy = _parse_policy(numa_policy, PORT_NUMA_FIELD)
    return PciRequest(
        count=1,
        specs=(spec,),
        numa_policy=policy or default_numa_policy or NumaPolicy.LEGACY,
        request_id=port_id,
        requester_id=port_id,
        pf_group=pf_group,
        vf_needs=frozenset(vf_needs),
    )


def instance_numa_policy(
    extra_specs: Mapping[str, str], image_numa_policy: str | None = None
) -> NumaPolicy | None:
    """The flavor/image PCI NUMA policy, or ``None`` when neither sets one.

    Both set and different is refused, as is any value that is not a policy name.
    """
    flavor = _parse_policy(extra_specs.get(FLAVOR_NUMA_SPEC), FLAVOR_NUMA_SPEC)
    image = _parse_policy(image_numa_policy, IMAGE_NUMA_PROPERTY)
    if flavor is not None and image is not None and flavor is not image:
        raise ValidationError(
            IMAGE_NUMA_PROPERTY,
            f"image policy {image.value!r} conflicts with flavor policy {flavor.value!r}",
        )
    return flavor or image


def requests_for_flavor(
    extra_specs: Mapping[str, str],
    aliases: Mapping[str, AliasLike],
    *,
    image_numa_policy: str | None = None,
) -> list[PciRequest]:
    """One request per ``name:count`` of ``pci_passthrough:alias``, in the order written.

    An alias name that is not configured is a bad value in the flavor, so it is a
    ``ValidationError`` naming ``pci_passthrough:alias`` like every other mistake there.
    Policy precedence: flavor/image policy over the alias's own.
    """
    override = instance_numa_policy(extra_specs, image_numa_policy)
    requests = []
    for position, (name, count) in enumerate(parse_alias_counts(extra_specs.get(ALIAS_SPEC))):
        alias = aliases.get(name)
        if alias is None:
            raise ValidationError(ALIAS_SPEC, f"alias {name!r} is not defined")
        requests.append(
            PciRequest(
                count=count,
                specs=_alias_specs(alias),
                numa_policy=override or _alias_policy(alias),
                request_id=f"{name}-{position}",
                alias_name=name,
            )
        )
    return requests


def parse_alias_counts(text: str | None) -> list[tuple[str, int]]:
    """``"a:2, b:1"`` -> ``[("a", 2), ("b", 1)]``; counts are whole numbers >= 1."""
    if text is None or not text.strip():
        return []
    pairs = []
    for item in text.split(","):
        name, sep, count_text = item.partition(":")
        name = name.strip()
        if not sep or not name or ":" in count_text:
            raise ValidationError(ALIAS_SPEC, f"{item.strip()!r} is not 'name:count'")
        try:
            count = int(count_text)
        except ValueError:
            raise ValidationError(
                ALIAS_SPEC, f"count {count_text.strip()!r} of alias {name!r} is not a number"
            ) from None
        if count < 1:
            raise ValidationError(ALIAS_SPEC, f"count {count} of alias {name!r} must be >= 1")
        pairs.append((name, count))
    return pairs


def _alias_specs(alias: AliasLike) -> tuple[dict[str, str | None], ...]:
    device_type = _text(alias.device_type)
    specs = []
    for entry in alias.specs:
        spec = {key: _text(value) for key, value in entry.items()}
        # The alias's device_type is matched under Nova's pool key name.
        spec.pop("device_type", None)
        if device_type is not None:
            spec.setdefault("dev_type", device_type)
        specs.append(spec)
    return tuple(specs)


def _alias_policy(alias: AliasLike) -> NumaPolicy:
    policy = alias.numa_policy
    if isinstance(policy, NumaPolicy):
        return policy
    return NumaPolicy.parse(_text(policy), f"alias {alias.name!r}: numa_policy")


def _parse_policy(value: NumaPolicy | str | None, field: str) -> NumaPolicy | None:
    if value is None or value == "":
        return None
    return NumaPolicy.parse(value, field)


def _parse_bool(field: str, value: bool | str) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in _TRUE_WORDS or word in _FALSE_WORDS:
        return word in _TRUE_WORDS
    raise ValidationError(field, f"{value!r} is not a boolean")


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)

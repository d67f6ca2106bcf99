"""PCI requests: how many devices of which kind an instance needs, and under which NUMA policy.

Public API: NumaPolicy (with ``parse``), PciRequest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from vfnet.errors import ValidationError


class NumaPolicy(StrEnum):
    REQUIRED = "required"
    LEGACY = "legacy"
    PREFERRED = "preferred"
    SOCKET = "socket"

    @classmethod
    def parse(cls, value: str | None, field: str = "numa_policy") -> NumaPolicy:
        if value is None or value == "":
            return cls.LEGACY
        try:
            return cls(value)
        except ValueError:
            allowed = ", ".join(p.value for p in cls)
            raise ValidationError(
                field, f"unknown NUMA policy {value!r}; use one of {allowed}"
            ) from None


@dataclass(frozen=True, slots=True)
class PciRequest:
    """``count`` devices matching any one of ``specs`` (Nova request spec dicts, OR-ed).

    Spec values are strings or ``None`` (``None`` matches only pools without that key).
    ``requester_id`` is the port id for port requests; ``alias_name`` is set for flavor
    requests. ``pf_group`` names a PF anti-affinity group: requests sharing it must be
    served by VFs of different PFs.
    """

    count: int
    specs: tuple[Mapping[str, str | None], ...]
    numa_policy: NumaPolicy = NumaPolicy.LEGACY
    request_id: str = ""
    alias_name: str | None = None
    requester_id: str | None = None
    pf_group: str | None = None
    vf_needs: frozenset[str] = frozenset()
    # The specs as one hashable value, so pool matching can be remembered per request shape.
    spec_key: tuple[tuple[tuple[str, object], ...], ...] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 1:
            raise ValidationError("count", f"must be a whole number >= 1, not {self.count!r}")
        if isinstance(self.specs, Mapping) or not isinstance(self.specs, tuple | list):
            raise ValidationError("specs", "must be a list of spec dicts")
        object.__setattr__(self, "specs", tuple(self.specs))
        object.__setattr__(self, "vf_needs", frozenset(self.vf_needs))
        object.__setattr__(self, "spec_key", tuple(_spec_key(spec) for spec in self.specs))


def _spec_key(spec: Mapping[str, object]) -> tuple[tuple[str, object], ...]:
    def frozen(value: object) -> object:
        if isinstance(value, list | tuple | set | frozenset):
            return ("__list__", frozenset(value))
        return (type(value).__name__, value)

    return tuple(sorted((str(name), frozen(value)) for name, value in spec.items()))

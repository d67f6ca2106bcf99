"""The one seam between the agent and a NIC: read a PF's VF table, set a VF's attributes.

Every driver reads the VF table in one pass per PF and sets attributes one VF at a
time; what each does underneath (netlink on a real PF, a software switch, a
dictionary) is its own business.

A kernel handles the attributes of one request in a fixed order and keeps those it
applied before a refusal (``IFLA_VF_*`` in ``do_setvfinfo``), so a driver sets them one
by one in :data:`APPLY_ORDER` and reports each refusal instead of raising on the first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from vfnet.network.vf_settings import APPLY_ORDER, VfAttr, VfSettings

__all__ = ["APPLY_ORDER", "Refusal", "VfAttr", "VfDriver", "VfSettings"]


@dataclass(frozen=True, slots=True)
class Refusal:
    """An attribute the NIC would not take, with the kernel's (or driver's) reason."""

    attr: VfAttr
    reason: str  # e.g. "EOPNOTSUPP: Operation not supported"


class VfDriver(Protocol):
    """Reads and sets VF attributes on a host's PFs (named by their netdev)."""

    name: str

    def read(self, pf: str) -> Mapping[int, VfSettings]:
        """The PF's VF table in one pass: VF index -> settings.

        Raises:
            DriverError: the PF is not there, or its table cannot be read.
        """
        ...

    def apply(
        self, pf: str, vf: int, wanted: VfSettings, attrs: tuple[VfAttr, ...]
    ) -> tuple[Refusal, ...]:
        """Set ``attrs`` of VF ``vf`` to their values in ``wanted``, one attribute at a time
        in :data:`APPLY_ORDER`; the refused ones come back, the others stay applied.

        Raises:
            DriverError: the PF or the VF is not there (nothing on it can be set).
        """
        ...

"""VF range references such as ``ens1f0#0-3``: a PF, optionally narrowed to some of its VFs."""

from __future__ import annotations

import re
from dataclasses import dataclass

from vfnet.errors import InvalidSelector

_ITEM = re.compile(r"^(?P<first>\d+)(?:-(?P<last>\d+))?$")


@dataclass(frozen=True, slots=True)
class VfRangeRef:
    """A PF (by netdev name or PCI address text) and, unless ``spans`` is None, VF indexes.

    ``spans`` are inclusive ``(first, last)`` pairs of ``virtfnN`` positions, in the
    order written. ``text`` keeps the value as the operator wrote it, for messages.
    """

    pf: str
    spans: tuple[tuple[int, int], ...] | None
    text: str

    def covers(self, vf_index: int | None) -> bool:
        """Whether the VF at ``vf_index`` is one this reference names."""
        if self.spans is None:
            return True
        if vf_index is None:
            return False
        return any(first <= vf_index <= last for first, last in self.spans)

    @property
    def highest_index(self) -> int | None:
        return None if self.spans is None else max(last for _, last in self.spans)


def parse_vf_range_ref(text: str, *, entry: str, field: str) -> VfRangeRef:
    """Parse ``<pf>[#<item>[,<item>...]]`` where an item is ``N`` or ``A-B``.

    The device plugin turns a malformed range into a selector matching nothing; a
    silently empty pool is the worst outcome for an operator, so we refuse it here.
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidSelector(entry, field, f"expected a non-empty string, not {text!r}")
    pf, sep, items = text.strip().partition("#")
    if not pf:
        raise InvalidSelector(entry, field, f"{text!r} names no PF before '#'")
    if not sep:
        return VfRangeRef(pf, None, text)
    spans = tuple(_parse_item(item, text, entry=entry, field=field) for item in items.split(","))
    return VfRangeRef(pf, spans, text)


def _parse_item(item: str, text: str, *, entry: str, field: str) -> tuple[int, int]:
    match = _ITEM.match(item.strip())
    if match is None:
        raise InvalidSelector(
            entry, field, f"VF range {item!r} in {text!r} is not an index N or a range A-B"
        )
    first = int(match["first"])
    last = int(match["last"]) if match["last"] is not None else first
    if first > last:
        raise InvalidSelector(
            entry, field, f"VF range {item!r} in {text!r} is reversed ({first} > {last})"
        )
    return first, last


def check_vf_range_bounds(ref: VfRangeRef, total_vfs: int, *, entry: str, field: str) -> None:
    """Refuse a reference to VF indexes the PF can never have (``sriov_totalvfs``)."""
    highest = ref.highest_index
    if highest is None or highest < total_vfs:
        return
    supported = f"VFs 0-{total_vfs - 1}" if total_vfs else "no VFs"
    raise InvalidSelector(
        entry,
        field,
        f"VF index {highest} in {ref.text!r} is out of bounds: PF {ref.pf!r} "
        f"supports {supported} (sriov_totalvfs {total_vfs})",
    )

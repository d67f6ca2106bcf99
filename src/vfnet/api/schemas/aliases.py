"""Bodies of /v1/aliases: the server's ``[pci] alias`` entries, read-only."""

from __future__ import annotations

from typing import Any

from vfnet.api.schemas.base import ResponseBody


class AliasOut(ResponseBody):
    name: str
    device_type: str | None
    numa_policy: str
    #: The OR-ed specs of every same-named entry (vendor_id, product_id, ...).
    specs: list[dict[str, Any]]


class AliasList(ResponseBody):
    aliases: list[AliasOut]

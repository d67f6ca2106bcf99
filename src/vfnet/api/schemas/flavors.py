"""Bodies of /v1/flavors: sizes plus extra specs (``pci_passthrough:alias`` and NUMA policy)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from vfnet.api.schemas.base import Name, RequestBody, ResponseBody


class FlavorIn(RequestBody):
    name: Name
    vcpus: Annotated[int, Field(ge=1)] = 1
    ram_mb: Annotated[int, Field(ge=1)] = 512
    numa_cells: Annotated[int, Field(ge=1, le=64)] = 1
    extra_specs: dict[Annotated[str, Field(min_length=1, max_length=255)], str] = Field(
        default_factory=dict
    )


class FlavorOut(ResponseBody):
    name: str
    vcpus: int
    ram_mb: int
    numa_cells: int
    extra_specs: dict[str, str]
    created_at: datetime


class FlavorList(ResponseBody):
    flavors: list[FlavorOut]

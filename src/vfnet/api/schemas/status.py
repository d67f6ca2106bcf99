"""Bodies of /v1/hosts/{name}/status: what the agent found after reconciling a desired state."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from vfnet.api.schemas.base import Ident, RequestBody, ResponseBody
from vfnet.pci.address import PciAddress

Reason = Annotated[str, Field(max_length=4096)]


class PortReportIn(RequestBody):
    port_id: Ident
    status: Literal["ACTIVE", "ERROR"]
    reason: Reason | None = None
    #: Attributes the NIC refused (``mac``, ``vlan``, ``rate``, ``mirror``...).
    refused: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=16
    )


class ReleaseReportIn(RequestBody):
    address: str
    #: The claim generation the desired state listed the release with.
    claim_generation: Annotated[int, Field(ge=0)]
    verified: bool
    reason: Reason | None = None

    @field_validator("address")
    @classmethod
    def _kernel_pci_address(cls, value: str) -> str:
        return str(PciAddress.parse(value))


class StatusIn(RequestBody):
    #: The desired state's generation the agent reconciled.
    generation: Annotated[int, Field(ge=0)]
    ports: list[PortReportIn] = Field(default_factory=list)
    releases: list[ReleaseReportIn] = Field(default_factory=list)


class StatusOut(ResponseBody):
    host: str
    #: The host's desired state generation now: newer than the report's when it moved on.
    generation: int
    #: Port id -> the status now shown, for the ports the report changed.
    ports: dict[str, str]
    #: Ports not bound on the host (any more), or reported for an older generation.
    ignored: list[str]
    #: Releasing VFs this report freed.
    freed: list[str]

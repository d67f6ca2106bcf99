"""Bodies of /v1/qos-policies: egress bandwidth limit and minimum rules a VF enforces."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from vfnet.api.schemas.base import Ident, Label, RequestBody, ResponseBody


class RuleIn(RequestBody):
    """One rule; which rate field it needs, and whether a VF can enforce it at all, is
    decided by ``vfnet.network.qos.parse_rule`` so the refusal says why."""

    type: str
    max_kbps: int | None = None
    min_kbps: int | None = None
    max_burst_kbps: int | None = None
    direction: str = "egress"

    def fields(self) -> dict[str, object]:
        return self.model_dump(exclude={"type"}, exclude_unset=True)


class QosPolicyIn(RequestBody):
    name: Label
    #: Admins may create a policy for any project; by default it is the caller's.
    project_id: Ident | None = None
    shared: bool = False
    rules: list[RuleIn] = Field(default_factory=list)


class QosPolicyUpdate(RequestBody):
    """A partial update; ``rules`` replaces every rule (defaults are never applied)."""

    name: Label = ""
    shared: bool = False
    rules: list[RuleIn] = Field(default_factory=list)


class QosPolicyOut(ResponseBody):
    id: str
    name: str
    project_id: str
    shared: bool
    #: ``{"type": "bandwidth_limit", "max_kbps", "direction"}`` or
    #: ``{"type": "minimum_bandwidth", "min_kbps", "direction"}``.
    rules: list[dict[str, str | int]]
    created_at: datetime


class QosPolicyList(ResponseBody):
    qos_policies: list[QosPolicyOut]

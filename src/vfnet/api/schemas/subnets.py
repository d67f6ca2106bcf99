"""Bodies of /v1/subnets: a CIDR on a network, its gateway and allocation pools."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from vfnet.api.schemas.base import Ident, Label, RequestBody, ResponseBody


class PoolIn(RequestBody):
    start: str
    end: str


class SubnetIn(RequestBody):
    """A new subnet. Left out, ``gateway_ip`` is the first host address; ``null`` means no
    gateway. Left out, ``allocation_pools`` is every usable address but the gateway."""

    network_id: Ident
    name: Label = ""
    cidr: str
    ip_version: Literal[4, 6] | None = None
    gateway_ip: str | None = None
    allocation_pools: list[PoolIn] | None = None


class SubnetUpdate(RequestBody):
    """A partial update: only the fields given change (defaults are never applied)."""

    name: Label = ""
    #: ``null`` removes the gateway.
    gateway_ip: str | None = None


class PoolOut(ResponseBody):
    start: str
    end: str


class SubnetOut(ResponseBody):
    id: str
    name: str
    network_id: str
    project_id: str
    cidr: str
    ip_version: int
    gateway_ip: str | None
    allocation_pools: list[PoolOut]
    created_at: datetime


class SubnetList(ResponseBody):
    subnets: list[SubnetOut]

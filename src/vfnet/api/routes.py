"""The whole HTTP API on one screen: method, path, handler, who may call it, status."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vfnet.api.auth import ADMIN, AGENT, EVERYONE, OWN_HOST, PROJECT, Access
from vfnet.api.handlers import aliases, devices, flavors, hosts, placements, pools, tokens


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    handler: Callable[..., Any]
    access: Access
    status: int = 200


# Access: ADMIN admin only; AGENT admin or an agent (its own host, checked against the
# body); OWN_HOST admin or the agent of {name}; PROJECT admin or a member (its own
# project's placements only); EVERYONE any valid token.


# fmt: off
ROUTES: tuple[Route, ...] = (
    Route("GET",    "/v1/hosts",                    hosts.list_hosts,              ADMIN),
    Route("POST",   "/v1/hosts",                    hosts.register_host,           AGENT, 201),
    Route("GET",    "/v1/hosts/{name}",             hosts.get_host,                OWN_HOST),
    Route("PUT",    "/v1/hosts/{name}/inventory",   hosts.report_inventory,        OWN_HOST),
    Route("GET",    "/v1/devices",                  devices.list_devices,          ADMIN),
    Route("GET",    "/v1/pools",                    pools.list_pools,              ADMIN),
    Route("GET",    "/v1/aliases",                  aliases.list_aliases,          EVERYONE),
    Route("GET",    "/v1/flavors",                  flavors.list_flavors,          EVERYONE),
    Route("POST",   "/v1/flavors",                  flavors.create_flavor,         ADMIN, 201),
    Route("GET",    "/v1/flavors/{name}",           flavors.get_flavor,            EVERYONE),
    Route("DELETE", "/v1/flavors/{name}",           flavors.delete_flavor,         ADMIN, 204),
    Route("GET",    "/v1/placements",               placements.list_placements,    PROJECT),
    Route("POST",   "/v1/placements",               placements.create_placement,   PROJECT, 201),
    Route("GET",    "/v1/placements/{instance_id}", placements.get_placement,      PROJECT),
    Route("DELETE", "/v1/placements/{instance_id}", placements.delete_placement,   PROJECT, 204),
    Route("POST",   "/v1/tokens",                   tokens.create_token,           ADMIN, 201),
    Route("GET",    "/v1/tokens/self",              tokens.who_am_i,               EVERYONE),
)
# fmt: on

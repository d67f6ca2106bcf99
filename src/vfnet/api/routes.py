"""The whole HTTP API on one screen: method, path, handler, who may call it, status."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vfnet.api.auth import ADMIN, AGENT, EVERYONE, OWN_HOST, PROJECT, Access
from vfnet.api.handlers import (
    aliases,
    desired,
    devices,
    flavors,
    hosts,
    instances,
    networks,
    placements,
    pools,
    ports,
    qos,
    status,
    subnets,
    tokens,
)


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    handler: Callable[..., Any]
    access: Access
    status: int = 200


# Access: ADMIN admin only; AGENT admin or an agent (its own host, checked against the
# body); OWN_HOST admin or the agent of {name}; PROJECT admin or a member (its own
# project's placements, instances and ports only); EVERYONE any valid token (a member
# reads its own project's and shared networks, subnets and policies, and its own ports;
# an agent the ports bound on its host).


# fmt: off
ROUTES: tuple[Route, ...] = (
    Route("GET",    "/v1/hosts",                    hosts.list_hosts,              ADMIN),
    Route("POST",   "/v1/hosts",                    hosts.register_host,           AGENT, 201),
    Route("GET",    "/v1/hosts/{name}",             hosts.get_host,                OWN_HOST),
    Route("PUT",    "/v1/hosts/{name}/inventory",   hosts.report_inventory,        OWN_HOST),
    Route("GET",    "/v1/hosts/{name}/devices",     hosts.list_host_devices,       OWN_HOST),
    Route("GET",    "/v1/hosts/{name}/desired",     desired.get_desired,           OWN_HOST),
    Route("POST",   "/v1/hosts/{name}/status",      status.report_status,          OWN_HOST),
    Route("DELETE", "/v1/hosts/{name}/refused",     hosts.forget_refused,          ADMIN),
    Route("POST",   "/v1/hosts/{name}/devices/{address}/release",
          devices.release_device, ADMIN),
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
    Route("GET",    "/v1/instances",                instances.list_instances,      PROJECT),
    Route("POST",   "/v1/instances",                instances.create_instance,     PROJECT, 201),
    Route("GET",    "/v1/instances/{instance_id}",  instances.get_instance,        PROJECT),
    Route("DELETE", "/v1/instances/{instance_id}",  instances.delete_instance,     PROJECT, 204),
    Route("POST",   "/v1/instances/{instance_id}/ports", instances.attach_port,   PROJECT),
    Route("DELETE", "/v1/instances/{instance_id}/ports/{port_id}",
          instances.detach_port, PROJECT, 204),
    Route("POST",   "/v1/instances/{instance_id}/suspend", instances.suspend_instance, PROJECT),
    Route("POST",   "/v1/instances/{instance_id}/resume", instances.resume_instance, PROJECT),
    Route("POST",   "/v1/instances/{instance_id}/migrate", instances.migrate_instance, ADMIN),
    Route("GET",    "/v1/networks",                 networks.list_networks,        EVERYONE),
    Route("POST",   "/v1/networks",                 networks.create_network,       ADMIN, 201),
    Route("GET",    "/v1/networks/{network_id}",    networks.get_network,          EVERYONE),
    Route("PUT",    "/v1/networks/{network_id}",    networks.update_network,       ADMIN),
    Route("DELETE", "/v1/networks/{network_id}",    networks.delete_network,       ADMIN, 204),
    Route("GET",    "/v1/subnets",                  subnets.list_subnets,          EVERYONE),
    Route("POST",   "/v1/subnets",                  subnets.create_subnet,         ADMIN, 201),
    Route("GET",    "/v1/subnets/{subnet_id}",      subnets.get_subnet,            EVERYONE),
    Route("PUT",    "/v1/subnets/{subnet_id}",      subnets.update_subnet,         ADMIN),
    Route("DELETE", "/v1/subnets/{subnet_id}",      subnets.delete_subnet,         ADMIN, 204),
    Route("GET",    "/v1/ports",                    ports.list_ports,              EVERYONE),
    Route("POST",   "/v1/ports",                    ports.create_port,             PROJECT, 201),
    Route("GET",    "/v1/ports/{port_id}",          ports.get_port,                EVERYONE),
    Route("PUT",    "/v1/ports/{port_id}",          ports.update_port,             PROJECT),
    Route("DELETE", "/v1/ports/{port_id}",          ports.delete_port,             PROJECT, 204),
    Route("GET",    "/v1/qos-policies",             qos.list_qos_policies,         EVERYONE),
    Route("POST",   "/v1/qos-policies",             qos.create_qos_policy,         ADMIN, 201),
    Route("GET",    "/v1/qos-policies/{policy_id}", qos.get_qos_policy,            EVERYONE),
    Route("PUT",    "/v1/qos-policies/{policy_id}", qos.update_qos_policy,         ADMIN),
    Route("DELETE", "/v1/qos-policies/{policy_id}", qos.delete_qos_policy,         ADMIN, 204),
    Route("POST",   "/v1/tokens",                   tokens.create_token,           ADMIN, 201),
    Route("GET",    "/v1/tokens/self",              tokens.who_am_i,               EVERYONE),
)
# fmt: on

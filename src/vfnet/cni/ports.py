"""ADD, DEL and CHECK for a config that names a vfnet port: the server decides the VF,
its settings and the container's addresses; the plugin binds the port here and plugs it.

ADD: the port (by id or name) -> refused unless ``direct``, not bound on another host,
not used by another sandbox -> lock it -> record that this ADD binds it (so a DEL after a
crash knows to unbind) -> bind it on this host, ``device_id`` the container ->
its VF (``binding:profile.pci_slot``; ``deviceID``, when given, must be it) -> its network,
QoS policy and subnets -> the VF's settings as the server's desired state has them ->
the same steps as sriov-cni's path (``plugin.plug``) with the port's MAC, MTU and fixed
IPs, the subnet's gateway as default route unless the sandbox has one already (a Multus
secondary network must not take the pod's) -> the result. A failure undoes it all.

DEL: the VF home and reset (as every vfnet release resets it) -> the unbind this ADD
owes, kept on disk -> every unbind kept, tried: one is made only while the port is still
bound here for that container. A server that does not answer, or a token it refuses,
leaves the unbind kept and DEL succeeds: CNI asks DEL to complete when it can, what the
runtime owns (the VF, the sandbox) is given back, and failing would not bring the
server back (podman does not retry a DEL; kubelet would hold every pod of the node in
Terminating). The next ADD or DEL on the host that reaches the server unbinds it, and the
log says so until then. A VF that cannot be given back still fails DEL (its record kept).

CHECK needs no server: the VF in the sandbox, up, with the port's MAC and addresses.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
from typing import Any

from vfnet.agent.attach.netns import Route
from vfnet.cni.host import VfPlace
from vfnet.cni.plugin import (
    Call,
    check_addresses,
    check_holder,
    plug,
    release_vf,
    sandbox_link,
)
from vfnet.cni.port_config import PortConfig, policy_id_of, port_config
from vfnet.cni.protocol import CniError, Code, Result, RouteEntry
from vfnet.cni.server import Server, connect
from vfnet.errors import VfnetError
from vfnet.network.vf_settings import APPLY_ORDER, RESET

log = logging.getLogger(__name__)

__all__ = ["add", "check", "delete"]

BINDING_FAILED = "binding_failed"
Record = dict[str, Any]


def add(call: Call) -> Result:
    inv, conf = call.invocation, call.conf
    assert conf.port is not None  # main dispatches here only with a port
    if not call.host.ops.exists(inv.netns):
        raise CniError(Code.UNKNOWN_CONTAINER, f"CNI_NETNS: no namespace at {inv.netns}")
    with connect(conf, call.environ, call.connect) as server:
        flush_unbinds(call, server)
        port_id = str(server.find_port(conf.port)["id"])
        try:
            with call.state.port_locked(port_id):
                record = call.state.load(inv.container_id, inv.ifname) or {
                    "netns": inv.netns,
                    "port": {"id": port_id, "host": server.host, "bound": False},
                }
                try:
                    result = _add(call, server, record)
                except (CniError, VfnetError):
                    _undo(call, record)
                    raise
        except (CniError, VfnetError):
            flush_unbinds(call, server)  # the unbind the undo owes, out of the port's lock
            raise
    log.info("ADD %s: port %s on VF %s is %s", inv.container_id, port_id,
             record["place"]["device_id"], inv.ifname)  # fmt: skip
    return result


def _add(call: Call, server: Server, record: Record) -> Result:
    port = _bound_here(call, server, record)
    config = _config(server, port)
    device_id = call.conf.device_id
    if device_id is not None and device_id != config.pci_slot:
        raise CniError(
            Code.INVALID_CONFIG,
            f"deviceID: {device_id} is not VF {config.pci_slot} that port {port['id']} is "
            "bound to; vfnet chooses a port's VF, so leave deviceID out",
        )
    with call.state.locked(config.pci_slot):
        return _plug(call, record, config)


def _bound_here(call: Call, server: Server, record: Record) -> dict[str, Any]:
    """The port, bound on this host: by this ADD (recorded first, for DEL to unbind), by an
    earlier ADD of this sandbox, or by an admin (then left bound at DEL)."""
    inv, state = call.invocation, call.state
    port = server.port(record["port"]["id"])
    _check_usable(port, server.host, inv.container_id)
    if port.get("device_id") == inv.container_id:
        record["port"]["bound"] = True
    if port.get("binding:host_id") == server.host and port["binding:vif_type"] != BINDING_FAILED:
        return port
    record["port"]["bound"] = True
    state.save(inv.container_id, inv.ifname, record)
    port = server.bind(port["id"], inv.container_id)
    if port["binding:vif_type"] == BINDING_FAILED:
        raise CniError(
            Code.BINDING_FAILED,
            f"port: {port['id']} cannot bind on host {server.host}: "
            f"{port.get('binding:failure_reason')}",
        )
    return port


def _plug(call: Call, record: Record, config: PortConfig) -> Result:
    """The port's VF, recorded and marked as this sandbox's, plugged as the port says."""
    inv, state = call.invocation, call.state
    check_holder(call, config.pci_slot)
    place = call.host.place(config.pci_slot)
    record |= {
        "place": dataclasses.asdict(place), "original": dataclasses.asdict(RESET),
        "attrs": [a.value for a in APPLY_ORDER], "ipam": False,
        "mac": config.mac, "addresses": [ip.address for ip in config.ips],
    }  # fmt: skip
    state.save(inv.container_id, inv.ifname, record)
    state.mark(config.pci_slot, inv.netns)
    gateways = _default_gateways(call, config)
    addressed = Result(
        ips=config.ips,
        routes=tuple(RouteEntry(_ANY[":" in gw], gw) for gw in gateways),
        dns=call.conf.dns or {},
    )
    return plug(
        call, place, config.settings, APPLY_ORDER, mac=config.mac, mtu=config.mtu,
        addressed=addressed, routes=[Route("default", gw) for gw in gateways],
    )  # fmt: skip


_ANY = {False: "0.0.0.0/0", True: "::/0"}


def _check_usable(port: dict[str, Any], host: str, container_id: str) -> None:
    """A port the plugin can give this sandbox: a VF's netdev, and nobody else's."""
    if port["binding:vnic_type"] != "direct":
        raise CniError(
            Code.INVALID_CONFIG,
            f"port: {port['id']} is binding:vnic_type {port['binding:vnic_type']}; a container "
            "gets a VF's own netdev, so use a direct port",
        )
    bound_on = port.get("binding:host_id")
    if bound_on not in (None, host) and port["binding:vif_type"] != BINDING_FAILED:
        raise CniError(Code.PORT_IN_USE, f"port: {port['id']} is bound on host {bound_on}; "
                       "unbind it there first")  # fmt: skip
    user = port.get("device_id")
    if user and user != container_id:
        raise CniError(Code.PORT_IN_USE, f"port: {port['id']} is used by {user} (its device_id); "
                       "DEL that sandbox first")  # fmt: skip


def _config(server: Server, port: dict[str, Any]) -> PortConfig:
    network = server.network(port["network_id"])
    policy_id = policy_id_of(port, network)
    policy = server.policy(policy_id) if policy_id else None
    subnet_ids = {fixed["subnet_id"] for fixed in port.get("fixed_ips") or ()}
    subnets = {subnet_id: server.subnet(subnet_id) for subnet_id in sorted(subnet_ids)}
    return port_config(port, network, policy, subnets)


def _default_gateways(call: Call, config: PortConfig) -> list[str]:
    """The first gateway of each IP version, for a default route where the sandbox has
    none yet on another link."""
    inv, ops = call.invocation, call.host.ops
    taken = set()
    for link in ops.links(inv.netns):
        if link.name != inv.ifname:
            routes = ops.routes(inv.netns, link.name)
            taken |= {_is_v6(r.gateway) for r in routes if r.dst == "default" and r.gateway}
    chosen: dict[bool, str] = {}
    for ip in config.ips:
        if ip.gateway is not None and _is_v6(ip.gateway) not in taken:
            chosen.setdefault(_is_v6(ip.gateway), ip.gateway)
    return list(chosen.values())


def _is_v6(address: str) -> bool:
    return ipaddress.ip_address(address).version == 6


def _undo(call: Call, record: Record) -> None:
    """Best effort after a failed ADD: the VF given back, the unbind kept for the caller to
    make; what is left is logged, and DEL can finish it."""
    inv = call.invocation
    try:
        if "place" in record:
            release_vf(call, record)
        if record["port"]["bound"]:
            _defer_unbind(call, record)
        call.state.forget(inv.container_id, inv.ifname)
    except (CniError, VfnetError) as error:
        log.error("ADD %s failed and its undo too: %s", inv.container_id, error)


def delete(call: Call) -> None:
    inv, state = call.invocation, call.state
    record = state.load(inv.container_id, inv.ifname)
    if record is None:
        log.info("DEL %s %s: nothing was added", inv.container_id, inv.ifname)
    else:
        port = record.get("port") or {}
        if "place" in record:
            with state.locked(record["place"]["device_id"]):
                try:
                    release_vf(call, record)
                except VfnetError as error:
                    raise CniError(Code.DETACH_FAILED, str(error)) from None
        if port.get("bound"):
            _defer_unbind(call, record)
        state.forget(inv.container_id, inv.ifname)
        log.info("DEL %s: port %s given back", inv.container_id, port.get("id"))
    try:
        with connect(call.conf, call.environ, call.connect) as server:
            flush_unbinds(call, server)
    except CniError as error:
        kept = ", ".join(state.deferred_unbinds())
        if kept:
            log.warning("unbinding port(s) %s waits for the server: %s", kept, error.msg)


def _defer_unbind(call: Call, record: Record) -> None:
    port = record["port"]
    entry = {"host": port["host"], "container": call.invocation.container_id}
    call.state.defer_unbind(port["id"], entry)


def flush_unbinds(call: Call, server: Server) -> None:
    """Makes the unbinds kept on disk; one the server does not take stays for the next call."""
    state = call.state
    for port_id, entry in state.deferred_unbinds().items():
        host = str(entry.get("host"))
        try:
            with state.port_locked(port_id):
                server.unbind_if_ours(port_id, host, str(entry.get("container")))
                state.drop_unbind(port_id)
        except CniError as error:
            log.warning("unbinding port %s waits for the server: %s", port_id, error.msg)
            if error.code == Code.TRY_AGAIN_LATER:
                return
        else:
            log.info("port %s no longer bound here by %s", port_id, entry.get("container"))


def check(call: Call) -> None:
    inv = call.invocation
    record = call.state.load(inv.container_id, inv.ifname)
    if record is None or "place" not in record or "port" not in record:
        raise CniError(Code.CHECK_FAILED, f"nothing was added for {inv.container_id} {inv.ifname}")
    link = sandbox_link(call, VfPlace(**record["place"]))
    if link.mac != record["mac"]:
        raise CniError(
            Code.CHECK_FAILED,
            f"{inv.ifname}: MAC {link.mac}, not port {record['port']['id']}'s {record['mac']}",
        )
    previous = Result.parse(call.conf.prev_result or {}, "prevResult")
    check_addresses(call, link, [*record["addresses"], *(ip.address for ip in previous.ips)])

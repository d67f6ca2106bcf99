"""The CNI commands over one VF: ADD configures and attaches it, CHECK compares, DEL gives it back.

ADD: lock the VF -> refuse it when a live sandbox holds it -> snapshot its settings
-> record the attachment (from here a DEL, even after a crash, knows what to undo) ->
IPAM -> set the VF's attributes the config names -> move it into the sandbox, renamed,
with MAC, MTU, addresses and routes -> the result. A failure undoes what was done.
DEL: nothing recorded -> success (never added, or deleted already) -> bring the netdev
home (a vanished sandbox included) -> restore the settings ADD changed, and the MAC ->
IPAM DEL -> forget. A failed DEL keeps its record, so the runtime's retry does it again.
A config naming a vfnet port takes the same steps (``plug``, ``release_vf``) from
``cni.ports``, with the port's settings and addresses.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from vfnet.agent.attach.containers import Outcome, attach, detach, find_vf, remember_home
from vfnet.agent.attach.netns import Link, Route
from vfnet.agent.drivers.base import APPLY_ORDER, VfAttr, VfSettings
from vfnet.cni import ipam
from vfnet.cni.config import Invocation, NetConf
from vfnet.cni.host import Host, VfPlace
from vfnet.cni.protocol import CniError, Code, Interface, Result
from vfnet.cni.server import Connector, open_client
from vfnet.cni.state import StateDir
from vfnet.errors import VfnetError
from vfnet.network.vf_settings import LinkState

log = logging.getLogger(__name__)

__all__ = [
    "add", "check", "check_addresses", "check_holder", "delete", "plug", "read_vf", "release_vf",
    "sandbox_link", "undo",
]  # fmt: skip


@dataclasses.dataclass(frozen=True, slots=True)
class Call:
    """One invocation: the environment, the config as given and as parsed, the host."""

    invocation: Invocation
    conf: NetConf
    raw: bytes
    environ: Mapping[str, str]
    host: Host
    connect: Connector = open_client  # how a config naming a port reaches the vfnet server

    @property
    def state(self) -> StateDir:
        return StateDir(self.conf.state_dir)


def requested_mac(call: Call) -> str | None:
    """runtimeConfig.mac, else CNI_ARGS MAC, else the config's mac (sriov-cni's order)."""
    runtime = (call.conf.runtime_config or {}).get("mac")
    chosen = runtime or call.invocation.args.get("MAC") or call.conf.mac
    return str(chosen).lower() if chosen else None


def wanted_settings(
    conf: NetConf, original: VfSettings, mac: str | None
) -> tuple[VfSettings, tuple[VfAttr, ...]]:
    """The VF's settings with what the config asks, and the attributes that asks for."""
    changes: dict[str, Any] = {}
    if mac is not None:
        changes["mac"] = mac
    if conf.vlan is not None:
        changes |= {"vlan": conf.vlan, "qos": conf.vlan_qos or 0}
        changes["vlan_proto"] = conf.vlan_proto or "802.1Q"
    for key in ("min_tx_rate", "max_tx_rate"):
        if getattr(conf, key) is not None:
            changes[key] = getattr(conf, key)
    for key in ("spoofchk", "trust"):
        if getattr(conf, key) is not None:
            changes[key] = getattr(conf, key) == "on"
    if conf.link_state is not None:
        changes["link_state"] = LinkState(conf.link_state)
    wanted = dataclasses.replace(original, **changes)
    asked = {attr for attr in APPLY_ORDER if _FIELDS[attr] & changes.keys()}
    return wanted, tuple(attr for attr in APPLY_ORDER if attr in asked)


_FIELDS: dict[VfAttr, set[str]] = {
    VfAttr.MAC: {"mac"},
    VfAttr.VLAN: {"vlan", "qos", "vlan_proto"},
    VfAttr.RATE: {"min_tx_rate", "max_tx_rate"},
    VfAttr.SPOOFCHK: {"spoofchk"},
    VfAttr.LINK_STATE: {"link_state"},
    VfAttr.TRUST: {"trust"},
}


def settings_of(document: Mapping[str, Any]) -> VfSettings:
    return VfSettings(**{**document, "link_state": LinkState(document["link_state"])})


def add(call: Call) -> Result:
    inv, conf, host = call.invocation, call.conf, call.host
    device_id = conf.device_id
    assert device_id is not None  # the config requires it without a port
    state = call.state
    with state.locked(device_id):
        check_holder(call, device_id)
        record = state.load(inv.container_id, inv.ifname)
        if record is None:
            place = host.place(device_id)
            original = read_vf(host, place)
            record = {"netns": inv.netns, "place": dataclasses.asdict(place)}
            record["original"] = dataclasses.asdict(original)
        place, original = VfPlace(**record["place"]), settings_of(record["original"])
        mac = requested_mac(call)
        wanted, attrs = wanted_settings(conf, original, mac)
        record |= {"attrs": [a.value for a in attrs], "ipam": conf.ipam is not None}
        state.save(inv.container_id, inv.ifname, record)
        state.mark(device_id, inv.netns)
        try:
            addressed = Result()
            if conf.ipam is not None:
                found = ipam.delegate(_ipam_type(conf), "ADD", call.raw, call.environ, inv.path)
                addressed = found or addressed
            result = plug(
                call, place, wanted, attrs,
                mac=mac, mtu=conf.mtu, addressed=addressed, routes=_routes(addressed),
            )  # fmt: skip
        except (CniError, VfnetError):
            undo(call, record)
            raise
    log.info("ADD %s: VF %s (%s) is %s", inv.container_id, device_id, place.netdev, inv.ifname)
    return result


def check_holder(call: Call, device_id: str) -> None:
    """Refuses a VF another live sandbox holds, and a sandbox that does not exist."""
    inv, host = call.invocation, call.host
    holder = call.state.holder(device_id)
    if holder and holder != inv.netns and host.ops.exists(holder):
        raise CniError(Code.VF_ALLOCATED, f"VF {device_id} is held by sandbox {holder}")
    if not host.ops.exists(inv.netns):
        raise CniError(Code.UNKNOWN_CONTAINER, f"CNI_NETNS: no namespace at {inv.netns}")


def read_vf(host: Host, place: VfPlace) -> VfSettings:
    try:
        table = host.driver.read(place.pf)
    except VfnetError as error:
        raise CniError(Code.IO_FAILURE, f"PF {place.pf}: {error}") from None
    if place.vf not in table:
        raise CniError(Code.INVALID_CONFIG, f"deviceID: PF {place.pf} has no VF {place.vf}")
    return table[place.vf]


def plug(
    call: Call,
    place: VfPlace,
    wanted: VfSettings,
    attrs: tuple[VfAttr, ...],
    *,
    mac: str | None,
    mtu: int | None,
    addressed: Result,
    routes: list[Route],
) -> Result:
    """Sets the VF's ``attrs`` to ``wanted`` and moves it into the sandbox with ``mac``,
    ``mtu``, ``addressed``'s addresses and ``routes``; the result names the VF there."""
    inv, conf, host = call.invocation, call.conf, call.host
    if not find_vf(host.ops, inv.netns, place.host_ns, place.netdev):
        try:
            remember_home(host.ops, place.netdev, place.host_ns)
        except VfnetError as error:
            raise CniError(Code.ATTACH_FAILED, f"{place.netdev}: {error}") from None
        finally:
            host.ops.release()
    refusals = host.driver.apply(place.pf, place.vf, wanted, attrs)
    if refusals:
        reasons = "; ".join(f"{r.attr.value}: {r.reason}" for r in refusals)
        raise CniError(Code.VF_REFUSED, f"VF {place.device_id} refused {reasons}")
    try:
        link = attach(
            host.ops, place.netdev, place.host_ns, inv.netns, ifname=inv.ifname, mac=mac,
            mtu=mtu, addresses=[ip.address for ip in addressed.ips], routes=routes,
        )  # fmt: skip
    except VfnetError as error:
        raise CniError(Code.ATTACH_FAILED, f"{place.netdev} into {inv.netns}: {error}") from None
    result = addressed.with_interfaces([Interface(inv.ifname, link.mac, inv.netns)])
    if not result.dns and conf.dns:
        result = dataclasses.replace(result, dns=conf.dns)
    return result


def _ipam_type(conf: NetConf) -> str:
    kind = (conf.ipam or {}).get("type")
    if not isinstance(kind, str):
        raise CniError(Code.INVALID_CONFIG, "ipam.type: required, a plugin name")
    return kind


def _routes(result: Result) -> list[Route]:
    """The result's routes as the kernel takes them: 0.0.0.0/0 is ``default``, and a route
    without a gateway goes through the first gateway of its family."""
    gateways: dict[bool, str] = {}
    for ip in result.ips:
        if ip.gateway is not None:
            gateways.setdefault(":" in ip.gateway, ip.gateway)
    routes = []
    for route in result.routes:
        default = route.dst.endswith("/0")
        gateway = route.gw or gateways.get(":" in route.dst)
        routes.append(Route("default" if default else route.dst, gateway))
    return routes


def undo(call: Call, record: Mapping[str, Any]) -> None:
    """Best effort after a failed ADD: what is left is logged, and DEL can finish it."""
    try:
        release_vf(call, record)
        call.state.forget(call.invocation.container_id, call.invocation.ifname)
    except (CniError, VfnetError) as error:
        log.error("ADD %s failed and its undo too: %s", call.invocation.container_id, error)


def release_vf(call: Call, record: Mapping[str, Any]) -> None:
    """The VF home, the settings of ``record["original"]`` put back, IPAM released, the VF
    unmarked; the record itself stays for the caller to forget."""
    inv, host = call.invocation, call.host
    place, original = VfPlace(**record["place"]), settings_of(record["original"])
    try:
        outcome = detach(host.ops, place.netdev, place.host_ns, record["netns"])
    except VfnetError as error:
        raise CniError(Code.DETACH_FAILED, f"{place.netdev}: {error}") from None
    if outcome is not Outcome.GONE:  # a VF that died with its namespace is remade at reset
        # What ADD asked for, and the MAC always (a trusted tenant may have changed it),
        # where it differs now: an attribute the NIC refused at ADD is not refused again.
        ours = {VfAttr(a) for a in record["attrs"]} | {VfAttr.MAC}
        attrs = tuple(a for a in read_vf(host, place).differs(original) if a in ours)
        refusals = host.driver.apply(place.pf, place.vf, original, attrs) if attrs else ()
        if refusals:
            reasons = "; ".join(f"{r.attr.value}: {r.reason}" for r in refusals)
            raise CniError(Code.DETACH_FAILED, f"VF {place.device_id} kept {reasons}")
    if record.get("ipam"):
        ipam.delegate(_ipam_type(call.conf), "DEL", call.raw, call.environ, inv.path)
    state = call.state
    if state.holder(place.device_id) in (record["netns"], None):
        state.unmark(place.device_id)


def delete(call: Call) -> None:
    inv, state = call.invocation, call.state
    record = state.load(inv.container_id, inv.ifname)
    if record is None:
        log.info("DEL %s %s: nothing was added", inv.container_id, inv.ifname)
        return
    with state.locked(record["place"]["device_id"]):
        try:
            release_vf(call, record)
        except VfnetError as error:
            raise CniError(Code.DETACH_FAILED, str(error)) from None
        state.forget(inv.container_id, inv.ifname)
    log.info("DEL %s: VF %s given back", inv.container_id, record["place"]["device_id"])


def check(call: Call) -> None:
    inv, conf, host = call.invocation, call.conf, call.host
    record = call.state.load(inv.container_id, inv.ifname)
    if record is None:
        raise CniError(Code.CHECK_FAILED, f"nothing was added for {inv.container_id} {inv.ifname}")
    place = VfPlace(**record["place"])
    link = sandbox_link(call, place)
    previous = Result.parse(conf.prev_result or {}, "prevResult")
    check_addresses(call, link, [ip.address for ip in previous.ips])
    wanted, attrs = wanted_settings(conf, settings_of(record["original"]), requested_mac(call))
    differs = [a.value for a in read_vf(host, place).differs(wanted) if a in attrs]
    if differs:
        raise CniError(Code.CHECK_FAILED, f"VF {place.device_id}: {', '.join(differs)} changed")
    if conf.ipam is not None:
        ipam.delegate(_ipam_type(conf), "CHECK", call.raw, call.environ, inv.path)


def sandbox_link(call: Call, place: VfPlace) -> Link:
    """The VF in the sandbox as ADD left it: there, named ``CNI_IFNAME``, up."""
    inv, host = call.invocation, call.host
    if not host.ops.exists(inv.netns):
        raise CniError(Code.UNKNOWN_CONTAINER, f"CNI_NETNS: no namespace at {inv.netns}")
    link = find_vf(host.ops, inv.netns, place.host_ns, place.netdev)
    if link is None or link.name != inv.ifname or not link.up:
        seen = "missing" if link is None else f"{link.name}, {'up' if link.up else 'down'}"
        raise CniError(Code.CHECK_FAILED, f"{inv.ifname}: the VF is not there as added ({seen})")
    return link


def check_addresses(call: Call, link: Link, wanted: Sequence[str]) -> None:
    have = set(call.host.ops.addresses(call.invocation.netns, link.name))
    missing = [address for address in wanted if address not in have]
    if missing:
        raise CniError(Code.CHECK_FAILED, f"{link.name}: addresses missing: {', '.join(missing)}")


def version_document(version: str, supported: tuple[str, ...]) -> str:
    return json.dumps({"cniVersion": version, "supportedVersions": list(supported)})

"""The CNI commands over one VF: ADD configures and attaches it, CHECK compares, DEL gives it back.

ADD: lock the VF -> refuse it when a live sandbox holds it -> snapshot its settings
-> record the attachment (from here a DEL, even after a crash, knows what to undo) ->
set the VF's attributes the config names -> IPAM -> move it into the sandbox, renamed,
with MAC, MTU, addresses and routes -> the result. A failure undoes what was done.
DEL: nothing recorded -> success (never added, or deleted already) -> bring the netdev
home (a vanished sandbox included) -> restore the settings ADD changed, and the MAC ->
IPAM DEL -> forget. A failed DEL keeps its record, so the runtime's retry does it again.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping
from typing import Any

from vfnet.agent.attach.containers import Outcome, attach, detach, find_vf, remember_home
from vfnet.agent.attach.netns import Route
from vfnet.agent.drivers.base import APPLY_ORDER, VfAttr, VfSettings
from vfnet.cni import ipam
from vfnet.cni.config import Invocation, NetConf
from vfnet.cni.host import Host, VfPlace
from vfnet.cni.protocol import CniError, Code, Interface, Result
from vfnet.cni.state import StateDir
from vfnet.errors import VfnetError
from vfnet.network.vf_settings import LinkState

log = logging.getLogger(__name__)

__all__ = ["add", "check", "delete"]


@dataclasses.dataclass(frozen=True, slots=True)
class Call:
    """One invocation: the environment, the config as given and as parsed, the host."""

    invocation: Invocation
    conf: NetConf
    raw: bytes
    environ: Mapping[str, str]
    host: Host

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


def _settings(document: Mapping[str, Any]) -> VfSettings:
    return VfSettings(**{**document, "link_state": LinkState(document["link_state"])})


def add(call: Call) -> Result:
    inv, conf, host = call.invocation, call.conf, call.host
    state = call.state
    with state.locked(conf.device_id):
        holder = state.holder(conf.device_id)
        if holder and holder != inv.netns and host.ops.exists(holder):
            raise CniError(Code.VF_ALLOCATED, f"VF {conf.device_id} is held by sandbox {holder}")
        if not host.ops.exists(inv.netns):
            raise CniError(Code.UNKNOWN_CONTAINER, f"CNI_NETNS: no namespace at {inv.netns}")
        record = state.load(inv.container_id, inv.ifname)
        if record is None:
            place = host.place(conf.device_id)
            original = _read_vf(host, place)
            record = {"netns": inv.netns, "place": dataclasses.asdict(place)}
            record["original"] = dataclasses.asdict(original)
        place, original = VfPlace(**record["place"]), _settings(record["original"])
        mac = requested_mac(call)
        wanted, attrs = wanted_settings(conf, original, mac)
        record |= {"attrs": [a.value for a in attrs], "ipam": conf.ipam is not None}
        state.save(inv.container_id, inv.ifname, record)
        state.mark(conf.device_id, inv.netns)
        try:
            result = _plug(call, place, wanted, attrs, mac)
        except (CniError, VfnetError):
            _undo(call, record)
            raise
    log.info("ADD %s: VF %s (%s) is %s", inv.container_id, conf.device_id, place.netdev, inv.ifname)
    return result


def _read_vf(host: Host, place: VfPlace) -> VfSettings:
    try:
        table = host.driver.read(place.pf)
    except VfnetError as error:
        raise CniError(Code.IO_FAILURE, f"PF {place.pf}: {error}") from None
    if place.vf not in table:
        raise CniError(Code.INVALID_CONFIG, f"deviceID: PF {place.pf} has no VF {place.vf}")
    return table[place.vf]


def _plug(
    call: Call, place: VfPlace, wanted: VfSettings, attrs: tuple[VfAttr, ...], mac: str | None
) -> Result:
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
        raise CniError(Code.VF_REFUSED, f"VF {conf.device_id} refused {reasons}")
    addressed = Result()
    if conf.ipam is not None:
        found = ipam.delegate(_ipam_type(conf), "ADD", call.raw, call.environ, inv.path)
        addressed = found or addressed
    try:
        link = attach(
            host.ops, place.netdev, place.host_ns, inv.netns, ifname=inv.ifname, mac=mac,
            mtu=conf.mtu, addresses=[ip.address for ip in addressed.ips],
            routes=_routes(addressed),
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


def _undo(call: Call, record: Mapping[str, Any]) -> None:
    """Best effort after a failed ADD: what is left is logged, and DEL can finish it."""
    try:
        _give_back(call, record)
    except (CniError, VfnetError) as error:
        log.error("ADD %s failed and its undo too: %s", call.invocation.container_id, error)


def _give_back(call: Call, record: Mapping[str, Any]) -> None:
    inv, host = call.invocation, call.host
    place, original = VfPlace(**record["place"]), _settings(record["original"])
    try:
        outcome = detach(host.ops, place.netdev, place.host_ns, record["netns"])
    except VfnetError as error:
        raise CniError(Code.DETACH_FAILED, f"{place.netdev}: {error}") from None
    if outcome is not Outcome.GONE:  # a VF that died with its namespace is remade at reset
        # What ADD asked for, and the MAC always (a trusted tenant may have changed it),
        # where it differs now: an attribute the NIC refused at ADD is not refused again.
        ours = {VfAttr(a) for a in record["attrs"]} | {VfAttr.MAC}
        attrs = tuple(a for a in _read_vf(host, place).differs(original) if a in ours)
        refusals = host.driver.apply(place.pf, place.vf, original, attrs) if attrs else ()
        if refusals:
            reasons = "; ".join(f"{r.attr.value}: {r.reason}" for r in refusals)
            raise CniError(Code.DETACH_FAILED, f"VF {place.device_id} kept {reasons}")
    if record.get("ipam"):
        ipam.delegate(_ipam_type(call.conf), "DEL", call.raw, call.environ, inv.path)
    state = call.state
    if state.holder(place.device_id) in (record["netns"], None):
        state.unmark(place.device_id)
    state.forget(inv.container_id, inv.ifname)


def delete(call: Call) -> None:
    inv, state = call.invocation, call.state
    record = state.load(inv.container_id, inv.ifname)
    if record is None:
        log.info("DEL %s %s: nothing was added", inv.container_id, inv.ifname)
        return
    with state.locked(record["place"]["device_id"]):
        try:
            _give_back(call, record)
        except VfnetError as error:
            raise CniError(Code.DETACH_FAILED, str(error)) from None
    log.info("DEL %s: VF %s given back", inv.container_id, record["place"]["device_id"])


def check(call: Call) -> None:
    inv, conf, host = call.invocation, call.conf, call.host
    record = call.state.load(inv.container_id, inv.ifname)
    if record is None:
        raise CniError(Code.CHECK_FAILED, f"nothing was added for {inv.container_id} {inv.ifname}")
    if not host.ops.exists(inv.netns):
        raise CniError(Code.UNKNOWN_CONTAINER, f"CNI_NETNS: no namespace at {inv.netns}")
    place = VfPlace(**record["place"])
    link = find_vf(host.ops, inv.netns, place.host_ns, place.netdev)
    if link is None or link.name != inv.ifname or not link.up:
        seen = "missing" if link is None else f"{link.name}, {'up' if link.up else 'down'}"
        raise CniError(Code.CHECK_FAILED, f"{inv.ifname}: the VF is not there as added ({seen})")
    have = set(host.ops.addresses(inv.netns, link.name))
    previous = Result.parse(conf.prev_result or {}, "prevResult")
    missing = [ip.address for ip in previous.ips if ip.address not in have]
    if missing:
        raise CniError(Code.CHECK_FAILED, f"{inv.ifname}: addresses missing: {', '.join(missing)}")
    wanted, attrs = wanted_settings(conf, _settings(record["original"]), requested_mac(call))
    differs = [a.value for a in _read_vf(host, place).differs(wanted) if a in attrs]
    if differs:
        raise CniError(Code.CHECK_FAILED, f"VF {conf.device_id}: {', '.join(differs)} changed")
    if conf.ipam is not None:
        ipam.delegate(_ipam_type(conf), "CHECK", call.raw, call.environ, inv.path)


def version_document(version: str, supported: tuple[str, ...]) -> str:
    return json.dumps({"cniVersion": version, "supportedVersions": list(supported)})

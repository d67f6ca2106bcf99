"""What a runtime hands the plugin: the CNI_* environment and the network config on stdin.

The config takes sriov-cni's keys with their meaning and checks (``vlan`` 0-4094,
``vlanQoS`` and ``vlanProto`` only with ``vlan``, ``spoofchk`` on|off...) and vfnet's
own: ``driver`` (netlink | eswitch | memory), ``sysfsRoot``, ``hostNetns``, ``eswitch``,
``stateDir``, ``mtu``. Values are strictly typed (``"vlan": "100"`` is refused, as Go's
decoder refuses it in sriov-cni). A key nobody declared is refused with code 2 naming
it; every other refusal is code 7 naming the key and the reason.

Instead of a VF's settings, the config may name a vfnet port: ``port`` (its id or name),
``server`` (the vfnet API's URL, else ``VFNET_URL`` in the plugin's environment),
``tokenFile`` (a file whose first line is the API token, else ``VFNET_TOKEN``) and
``hostName`` (the vfnet host this node is registered as: else the eswitch's host, else
the machine's hostname, as the agent's default). The port decides the VF's settings and
the container's addresses, so with ``port`` the keys that would set them (``vlan``,
``vlanQoS``, ``vlanProto``, ``mac``, ``spoofchk``, ``trust``, ``link_state``,
``min_tx_rate``, ``max_tx_rate``, ``ipam``, ``mtu``: its network's) are refused;
``deviceID`` is taken when a device plugin chose the VF, and must then be the VF the port
is bound to. ``port`` may come per pod in ``args.cni.port`` (Multus puts a pod's
``cni-args`` there), one network config serving every pod. Without ``port``,
``deviceID`` is required and ``server``, ``tokenFile``, ``hostName`` mean nothing, so
they are refused.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as SchemaError

from vfnet.cni.protocol import DEFAULT_VERSION, SUPPORTED_VERSIONS, CniError, Code
from vfnet.errors import InvalidPciAddress, ValidationError
from vfnet.network.macs import normalise_mac
from vfnet.pci.address import PciAddress

COMMANDS = ("ADD", "DEL", "CHECK", "VERSION")
DEFAULT_STATE_DIR = "/var/lib/cni/vfnet"

__all__ = ["COMMANDS", "Invocation", "NetConf", "parse_config", "parse_invocation"]


@dataclass(frozen=True, slots=True)
class Invocation:
    """The CNI_* variables of one call."""

    command: str
    container_id: str = ""
    netns: str = ""  # a namespace path (/var/run/netns/x, /proc/PID/ns/net); "" on some DELs
    ifname: str = ""
    args: Mapping[str, str] = field(default_factory=dict)
    path: tuple[str, ...] = ()


def parse_invocation(environ: Mapping[str, str]) -> Invocation:
    command = environ.get("CNI_COMMAND", "")
    if command not in COMMANDS:
        raise CniError(
            Code.INVALID_ENVIRONMENT,
            f"CNI_COMMAND: {command!r} is not one of {', '.join(COMMANDS)}",
        )
    if command == "VERSION":
        return Invocation(command)
    needed = ("CNI_CONTAINERID", "CNI_IFNAME") + (("CNI_NETNS",) if command != "DEL" else ())
    missing = [name for name in needed if not environ.get(name)]
    if missing:
        raise CniError(Code.INVALID_ENVIRONMENT, f"{', '.join(missing)}: required for {command}")
    return Invocation(
        command,
        environ["CNI_CONTAINERID"],
        environ.get("CNI_NETNS", ""),
        environ["CNI_IFNAME"],
        _cni_args(environ.get("CNI_ARGS", "")),
        tuple(p for p in environ.get("CNI_PATH", "").split(":") if p),
    )


def _cni_args(text: str) -> dict[str, str]:
    """``K8S_POD_NAME=x;MAC=...``: the runtime's extra arguments."""
    pairs = {}
    for item in filter(None, text.split(";")):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CniError(Code.INVALID_ENVIRONMENT, f"CNI_ARGS: {item!r} is not KEY=VALUE")
        pairs[key] = value
    return pairs


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


class EswitchConf(_Strict):
    """An emulated host's switch: its name and the physnet of each PF."""

    host: str = Field(min_length=1)
    physnets: dict[str, str]
    fabric: str | None = None  # the namespace its uplinks meet in; the lab's default if None


class NetConf(_Strict):
    """The network config (stdin), sriov-cni's keys and vfnet's."""

    cni_version: str = Field(alias="cniVersion")
    name: str = Field(min_length=1)
    type: str = Field(min_length=1)
    ipam: dict[str, Any] | None = None
    dns: dict[str, Any] | None = None
    args: dict[str, Any] | None = None
    runtime_config: dict[str, Any] | None = Field(None, alias="runtimeConfig")
    capabilities: dict[str, Any] | None = None
    prev_result: dict[str, Any] | None = Field(None, alias="prevResult")
    device_id: str | None = Field(None, alias="deviceID")
    vlan: int | None = Field(None, ge=0, le=4094)
    vlan_qos: int | None = Field(None, alias="vlanQoS", ge=0, le=7)
    vlan_proto: str | None = Field(None, alias="vlanProto")
    mac: str | None = None
    spoofchk: Literal["on", "off"] | None = None
    trust: Literal["on", "off"] | None = None
    link_state: Literal["auto", "enable", "disable"] | None = None
    min_tx_rate: int | None = Field(None, ge=0, le=2**32 - 1)
    max_tx_rate: int | None = Field(None, ge=0, le=2**32 - 1)
    log_level: Literal["panic", "error", "warning", "info", "debug"] | None = Field(
        None, alias="logLevel"
    )
    log_file: str | None = Field(None, alias="logFile")
    driver: Literal["netlink", "eswitch", "memory"] = "netlink"
    sysfs_root: str = Field("/sys", alias="sysfsRoot")
    host_netns: str | None = Field(None, alias="hostNetns")
    eswitch: EswitchConf | None = None
    state_dir: str = Field(DEFAULT_STATE_DIR, alias="stateDir")
    mtu: int | None = Field(None, ge=68, le=65535)
    port: str | None = Field(None, min_length=1)
    server: str | None = None
    token_file: str | None = Field(None, alias="tokenFile", min_length=1)
    host_name: str | None = Field(None, alias="hostName", min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _port_from_args(cls, raw: Any) -> Any:
        """``args.cni.port``, the CNI convention's per-call arguments, when ``port`` is not set."""
        if not isinstance(raw, dict) or raw.get("port") is not None:
            return raw
        args = raw.get("args")
        cni = args.get("cni") if isinstance(args, dict) else None
        if isinstance(cni, dict) and cni.get("port") is not None:
            return {**raw, "port": cni["port"]}
        return raw

    @field_validator("mac")
    @classmethod
    def _mac(cls, mac: str) -> str:
        try:
            return normalise_mac(mac, "mac")
        except ValidationError as error:
            raise ValueError(error.reason) from None

    @field_validator("device_id")
    @classmethod
    def _device_id(cls, device_id: str) -> str:
        try:
            return str(PciAddress.parse(device_id))
        except InvalidPciAddress as error:
            raise ValueError(str(error)) from None

    @field_validator("server")
    @classmethod
    def _server(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{url!r} is not an http(s) URL")
        return url

    @field_validator("vlan_proto")
    @classmethod
    def _vlan_proto(cls, proto: str) -> str:
        known = {"802.1q": "802.1Q", "802.1ad": "802.1ad"}.get(proto.lower())
        if known is None:
            raise ValueError(f"{proto!r} is not 802.1q or 802.1ad")
        return known

    @model_validator(mode="after")
    def _check(self) -> NetConf:
        if self.vlan is None and (self.vlan_qos is not None or self.vlan_proto is not None):
            key = "vlanQoS" if self.vlan_qos is not None else "vlanProto"
            raise ValueError(f"{key}: given without vlan")
        if self.vlan_proto == "802.1ad" and not self.vlan:
            raise ValueError("vlanProto: 802.1ad needs a non-zero vlan")
        if self.vlan_qos and not self.vlan:
            raise ValueError(f"vlanQoS: {self.vlan_qos} needs a non-zero vlan")
        if self.min_tx_rate and self.max_tx_rate and self.min_tx_rate > self.max_tx_rate:
            raise ValueError(
                f"min_tx_rate: {self.min_tx_rate} is above max_tx_rate {self.max_tx_rate}"
            )
        if self.driver == "eswitch" and self.eswitch is None:
            raise ValueError("eswitch: required with driver eswitch")
        return self._check_port()

    def _check_port(self) -> NetConf:
        if self.port is None:
            if self.device_id is None:
                raise ValueError("deviceID: required (or port, a vfnet port)")
            for key in _PORT_ONLY:
                if getattr(self, key) is not None:
                    raise ValueError(f"{_alias(key)}: used only with port")
            return self
        for key in _PORT_DECIDES:
            if getattr(self, key) is not None:
                raise ValueError(f"{_alias(key)}: the port decides it; leave it out with port")
        return self


# Keys that set what a vfnet port decides (its VF's settings, the container's addresses).
_PORT_DECIDES = (
    "vlan", "vlan_qos", "vlan_proto", "mac", "spoofchk", "trust", "link_state",
    "min_tx_rate", "max_tx_rate", "ipam", "mtu",
)  # fmt: skip
_PORT_ONLY = ("server", "token_file", "host_name")


def _alias(key: str) -> str:
    return NetConf.model_fields[key].alias or key


def parse_config(text: str | bytes) -> NetConf:
    """The network config, checked; raises :class:`CniError` naming the key."""
    try:
        raw = json.loads(text or "{}")
    except ValueError as error:
        raise CniError(Code.DECODING_FAILURE, f"network config: not JSON: {error}") from None
    if not isinstance(raw, dict):
        raise CniError(Code.DECODING_FAILURE, "network config: not a JSON object")
    version = raw.get("cniVersion")
    if isinstance(version, str) and version not in SUPPORTED_VERSIONS:
        raise CniError(
            Code.INCOMPATIBLE_VERSION,
            f"cniVersion: {version} is not supported",
            f"supported: {', '.join(SUPPORTED_VERSIONS)}",
        )
    try:
        return NetConf.model_validate(raw)
    except SchemaError as error:
        raise _refusal(error) from None


def _refusal(error: SchemaError) -> CniError:
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "network config"
    if first["type"] == "extra_forbidden":
        return CniError(
            Code.UNSUPPORTED_FIELD, f"{key}: unsupported field (value {first['input']!r})"
        )
    if first["type"] == "missing":
        return CniError(Code.INVALID_CONFIG, f"{key}: required")
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "value_error":
        return CniError(Code.INVALID_CONFIG, f"{key}: {message}" if first["loc"] else message)
    return CniError(Code.INVALID_CONFIG, f"{key}: {message} (got {first['input']!r})")


def conf_version(text: str | bytes) -> str:
    """The config's cniVersion for an error document, whatever else is wrong with it."""
    try:
        version = json.loads(text or "{}").get("cniVersion")
    except (ValueError, AttributeError):
        return DEFAULT_VERSION
    return version if version in SUPPORTED_VERSIONS else DEFAULT_VERSION

"""The CNI protocol's own words: versions, error codes, the error and result documents.

Codes 1-99 are the specification's (CNI 1.0, "Error" section); 100 and above are this
plugin's own, one per kind of failure, so a runtime's log says what went wrong.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

SUPPORTED_VERSIONS = ("0.4.0", "1.0.0")
DEFAULT_VERSION = "1.0.0"

__all__ = [
    "DEFAULT_VERSION",
    "SUPPORTED_VERSIONS",
    "CniError",
    "Code",
    "Interface",
    "IpConfig",
    "Result",
    "RouteEntry",
]


class Code(IntEnum):
    INCOMPATIBLE_VERSION = 1
    UNSUPPORTED_FIELD = 2
    UNKNOWN_CONTAINER = 3
    INVALID_ENVIRONMENT = 4
    IO_FAILURE = 5
    DECODING_FAILURE = 6
    INVALID_CONFIG = 7
    TRY_AGAIN_LATER = 11
    VF_ALLOCATED = 100  # the VF is held by another live sandbox
    VF_REFUSED = 101  # the NIC refused a VF setting
    ATTACH_FAILED = 102  # the VF could not be moved or configured in the sandbox
    IPAM_FAILED = 103  # the IPAM plugin failed
    CHECK_FAILED = 104  # CHECK found the sandbox not as ADD left it
    DETACH_FAILED = 105  # DEL could not give the VF back (state kept, so DEL can be retried)
    PORT_IN_USE = 106  # the vfnet port is bound on another host or used by another sandbox
    BINDING_FAILED = 107  # the server could not bind the vfnet port on this host


class CniError(Exception):
    """A failure as CNI reports it: a code, a one-line message, details for the log."""

    def __init__(self, code: Code | int, msg: str, details: str = "") -> None:
        super().__init__(msg)
        self.code = int(code)
        self.msg = msg
        self.details = details

    def document(self, version: str) -> dict[str, Any]:
        return {"cniVersion": version, "code": self.code, "msg": self.msg, "details": self.details}


@dataclass(frozen=True, slots=True)
class Interface:
    name: str
    mac: str
    sandbox: str | None = None  # the netns path; None for a host-side interface


@dataclass(frozen=True, slots=True)
class IpConfig:
    address: str  # CIDR
    gateway: str | None = None
    interface: int | None = None  # index into the result's interfaces


@dataclass(frozen=True, slots=True)
class RouteEntry:
    dst: str  # CIDR; 0.0.0.0/0 or ::/0 for a default route
    gw: str | None = None


@dataclass(frozen=True, slots=True)
class Result:
    interfaces: tuple[Interface, ...] = ()
    ips: tuple[IpConfig, ...] = ()
    routes: tuple[RouteEntry, ...] = ()
    dns: Mapping[str, Any] = field(default_factory=dict)

    def document(self, version: str) -> dict[str, Any]:
        """The result JSON in ``version``'s format (0.4.0 ips carry their IP version)."""
        ips = []
        for ip in self.ips:
            entry: dict[str, Any] = {"address": ip.address}
            if version == "0.4.0":
                entry["version"] = str(ipaddress.ip_interface(ip.address).version)
            if ip.gateway is not None:
                entry["gateway"] = ip.gateway
            if ip.interface is not None:
                entry["interface"] = ip.interface
            ips.append(entry)
        return {
            "cniVersion": version,
            "interfaces": [_interface(i) for i in self.interfaces],
            "ips": ips,
            "routes": [{"dst": r.dst, **({"gw": r.gw} if r.gw else {})} for r in self.routes],
            "dns": dict(self.dns),
        }

    @classmethod
    def parse(cls, document: Mapping[str, Any], where: str) -> Result:
        """A result another plugin (IPAM, or a prevResult) wrote; ``where`` names it."""
        try:
            return cls(
                tuple(
                    Interface(i["name"], i.get("mac", ""), i.get("sandbox"))
                    for i in document.get("interfaces") or ()
                ),
                tuple(
                    IpConfig(
                        str(ipaddress.ip_interface(i["address"])),
                        i.get("gateway"),
                        i.get("interface"),
                    )
                    for i in document.get("ips") or ()
                ),
                tuple(RouteEntry(r["dst"], r.get("gw")) for r in document.get("routes") or ()),
                dict(document.get("dns") or {}),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise CniError(Code.DECODING_FAILURE, f"{where}: not a CNI result: {error!r}") from None

    def with_interfaces(self, interfaces: Sequence[Interface]) -> Result:
        """This result's addresses, now on ``interfaces`` (the first one, the VF)."""
        ips = tuple(IpConfig(ip.address, ip.gateway, 0) for ip in self.ips)
        return Result(tuple(interfaces), ips, self.routes, self.dns)


def _interface(interface: Interface) -> dict[str, Any]:
    entry = {"name": interface.name, "mac": interface.mac}
    if interface.sandbox is not None:
        entry["sandbox"] = interface.sandbox
    return entry

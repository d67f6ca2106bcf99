"""Netlink messages of the VF table: RTM_SETLINK requests built from VfSettings, and the
``IFLA_VFINFO_LIST`` of an RTM_GETLINK answer read back into VfSettings.

Pure encoding and decoding over pyroute2's message classes, so it is testable without a
kernel. A request carries exactly one ``IFLA_VF_*`` attribute: the kernel handles the
attributes of one request in order and keeps those applied before a refusal, so one
attribute per request is the only way to learn which attribute was refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyroute2.netlink import nla, nlmsg
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

from vfnet.errors import ValidationError
from vfnet.network.vf_settings import LinkState, VfAttr, VfSettings

RTEXT_FILTER_VF = 1  # ask RTM_GETLINK for the VF table (IFLA_EXT_MASK)

# IFLA_VF_VLAN_LIST's protocol, in network order on the wire (struct ifla_vf_vlan_info).
VLAN_PROTOS: Mapping[str, int] = {"802.1Q": 0x8100, "802.1ad": 0x88A8}
_PROTO_NAMES = {number: name for name, number in VLAN_PROTOS.items()}

# IFLA_VF_LINK_STATE values (enum in include/uapi/linux/if_link.h).
_LINK_STATES = {LinkState.AUTO: 0, LinkState.ENABLE: 1, LinkState.DISABLE: 2}
_LINK_STATE_NAMES = {number: state for state, number in _LINK_STATES.items()}

# The kernel fills spoofchk and trust with -1 (as u32) when a driver does not report them.
_NOT_REPORTED = 0xFFFFFFFF

_vfinfo = ifinfmsg.vflist.vfinfo  # pyroute2's decoders of the fixed-size VF structs


class vf_vlan_info(nla):  # type: ignore[misc]  # pyroute2 is untyped
    """``struct ifla_vf_vlan_info`` as the kernel lays it out: 16 bytes.

    pyroute2 0.9.7 packs it as 14 (no tail padding after the be16 protocol); the kernel's
    policy wants ``sizeof`` = 16 and answers EINVAL to every shorter one.
    """

    fields = (("vf", "I"), ("vlan", "I"), ("qos", "I"), ("proto", ">H"), ("__pad", "2x"))


class vf_vlan_list(nla):  # type: ignore[misc]  # pyroute2 is untyped
    nla_map = ((1, "IFLA_VF_VLAN_INFO", "vf_vlan_info"),)
    vf_vlan_info = vf_vlan_info


class vf_info(nla):  # type: ignore[misc]  # pyroute2 is untyped
    """One ``IFLA_VF_INFO``: the VF attributes this module sets, by their kernel numbers."""

    nla_map = (
        (1, "IFLA_VF_MAC", "vf_mac"),
        (2, "IFLA_VF_VLAN", "vf_vlan"),
        (4, "IFLA_VF_SPOOFCHK", "vf_spoofchk"),
        (5, "IFLA_VF_LINK_STATE", "vf_link_state"),
        (6, "IFLA_VF_RATE", "vf_rate"),
        (9, "IFLA_VF_TRUST", "vf_trust"),
        (12, "IFLA_VF_VLAN_LIST", "vf_vlan_list"),
    )
    vf_mac = _vfinfo.vf_mac
    vf_vlan = _vfinfo.vf_vlan
    vf_spoofchk = _vfinfo.vf_spoofchk
    vf_link_state = _vfinfo.vf_link_state
    vf_rate = _vfinfo.vf_rate
    vf_trust = _vfinfo.vf_trust
    vf_vlan_list = vf_vlan_list


class vf_info_list(nla):  # type: ignore[misc]  # pyroute2 is untyped
    nla_map = ((1, "IFLA_VF_INFO", "vf_info"),)
    vf_info = vf_info


class vf_setlink(nlmsg):  # type: ignore[misc]  # pyroute2 is untyped
    """An RTM_SETLINK for one PF, named rather than indexed (the kernel resolves the name).

    Its own class, not a subclass of ifinfmsg: pyroute2 caches compiled attribute maps
    per class, and a subclass would inherit ifinfmsg's map with its short VLAN struct.
    """

    prefix = "IFLA_"
    fields = (
        ("family", "B"),
        ("__align", "x"),
        ("ifi_type", "H"),
        ("index", "i"),
        ("flags", "I"),
        ("change", "I"),
    )
    nla_map = ((3, "IFLA_IFNAME", "asciiz"), (22, "IFLA_VFINFO_LIST", "vf_info_list"))
    vf_info_list = vf_info_list


def getlink_request(pf: str) -> ifinfmsg:
    """RTM_GETLINK for ``pf`` with its VF table (RTEXT_FILTER_VF)."""
    msg = ifinfmsg()
    msg["index"] = 0
    msg["attrs"] = [("IFLA_IFNAME", pf), ("IFLA_EXT_MASK", RTEXT_FILTER_VF)]
    return msg


def setlink_request(pf: str, vf: int, wanted: VfSettings, attr: VfAttr) -> vf_setlink:
    """RTM_SETLINK setting one attribute of VF ``vf`` of ``pf`` to its value in ``wanted``.

    Raises:
        ValidationError: the value cannot be put on the wire (bad MAC, unknown protocol).
    """
    name, value = _VF_ATTRS[attr](vf, wanted)
    msg = vf_setlink()
    msg["index"] = 0
    msg["attrs"] = [
        ("IFLA_IFNAME", pf),
        ("IFLA_VFINFO_LIST", {"attrs": [("IFLA_VF_INFO", {"attrs": [(name, value)]})]}),
    ]
    return msg


def _mac(vf: int, wanted: VfSettings) -> tuple[str, dict[str, Any]]:
    octets = wanted.mac.split(":")
    if len(octets) != 6 or not all(len(o) == 2 and _is_hex(o) for o in octets):
        raise ValidationError("mac", f"{wanted.mac!r} is not a MAC address (aa:bb:cc:dd:ee:ff)")
    return "IFLA_VF_MAC", {"vf": vf, "mac": wanted.mac.lower()}


def _vlan(vf: int, wanted: VfSettings) -> tuple[str, dict[str, Any]]:
    if wanted.vlan_proto not in VLAN_PROTOS:
        known = ", ".join(VLAN_PROTOS)
        raise ValidationError("vlan_proto", f"{wanted.vlan_proto!r} is not one of {known}")
    if wanted.vlan_proto == "802.1Q":
        # The legacy attribute: what iproute2 sends without 'proto', and every driver takes.
        return "IFLA_VF_VLAN", {"vf": vf, "vlan": wanted.vlan, "qos": wanted.qos}
    info = {"vf": vf, "vlan": wanted.vlan, "qos": wanted.qos, "proto": VLAN_PROTOS["802.1ad"]}
    return "IFLA_VF_VLAN_LIST", {"attrs": [("IFLA_VF_VLAN_INFO", info)]}


def _rate(vf: int, wanted: VfSettings) -> tuple[str, dict[str, Any]]:
    rates = {"min_tx_rate": wanted.min_tx_rate, "max_tx_rate": wanted.max_tx_rate}
    return "IFLA_VF_RATE", {"vf": vf, **rates}


def _spoofchk(vf: int, wanted: VfSettings) -> tuple[str, dict[str, Any]]:
    return "IFLA_VF_SPOOFCHK", {"vf": vf, "spoofchk": int(wanted.spoofchk)}


def _link_state(vf: int, wanted: VfSettings) -> tuple[str, dict[str, Any]]:
    return "IFLA_VF_LINK_STATE", {"vf": vf, "link_state": _LINK_STATES[wanted.link_state]}


def _trust(vf: int, wanted: VfSettings) -> tuple[str, dict[str, Any]]:
    return "IFLA_VF_TRUST", {"vf": vf, "trust": int(wanted.trust)}


_VF_ATTRS = {
    VfAttr.MAC: _mac,
    VfAttr.VLAN: _vlan,
    VfAttr.RATE: _rate,
    VfAttr.SPOOFCHK: _spoofchk,
    VfAttr.LINK_STATE: _link_state,
    VfAttr.TRUST: _trust,
}


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


def vf_table(link: Any) -> dict[int, VfSettings]:
    """The VF table of a decoded RTM_NEWLINK (an answer to :func:`getlink_request`)."""
    vf_list = link.get_attr("IFLA_VFINFO_LIST")
    if vf_list is None:
        return {}
    table: dict[int, VfSettings] = {}
    for info in vf_list.get_attrs("IFLA_VF_INFO"):
        mac = info.get_attr("IFLA_VF_MAC")
        if mac is not None:
            table[mac["vf"]] = _settings(info, mac["mac"])
    return dict(sorted(table.items()))


def _settings(info: Any, mac: str) -> VfSettings:
    vlan = info.get_attr("IFLA_VF_VLAN")
    rate = info.get_attr("IFLA_VF_RATE")
    spoofchk = _reported(info, "IFLA_VF_SPOOFCHK", "spoofchk")
    trust = _reported(info, "IFLA_VF_TRUST", "trust")
    link_state = _reported(info, "IFLA_VF_LINK_STATE", "link_state")
    return VfSettings(
        mac=mac,
        vlan=vlan["vlan"] if vlan is not None else 0,
        qos=vlan["qos"] if vlan is not None else 0,
        vlan_proto=_vlan_proto(info),
        spoofchk=bool(spoofchk) if spoofchk is not None else True,
        trust=bool(trust) if trust is not None else False,
        min_tx_rate=rate["min_tx_rate"] if rate is not None else 0,
        max_tx_rate=rate["max_tx_rate"] if rate is not None else 0,
        link_state=_LINK_STATE_NAMES.get(link_state or 0, LinkState.AUTO),
    )


def _reported(info: Any, name: str, field: str) -> int | None:
    value = info.get_attr(name)
    if value is None or value[field] == _NOT_REPORTED:
        return None
    return int(value[field])


def _vlan_proto(info: Any) -> str:
    vlan_list = info.get_attr("IFLA_VF_VLAN_LIST")
    entry = vlan_list.get_attr("IFLA_VF_VLAN_INFO") if vlan_list is not None else None
    if entry is None:
        return "802.1Q"
    proto = int(entry["proto"])
    return _PROTO_NAMES.get(proto, f"0x{proto:04x}")

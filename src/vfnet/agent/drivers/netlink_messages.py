"""Netlink messages of the VF table on the wire: RTM_SETLINK requests built from VfSettings,
the ``IFLA_VFINFO_LIST`` of an RTM_NEWLINK answer read back, and the few link settings
the software eswitch sends.

Pure ``struct`` encoding and decoding of fixed layouts, testable without a kernel and
proven byte for byte against pyroute2's encoder in the tests: a general encoder costs
about 200 us a message, these a few. A VF request carries exactly one ``IFLA_VF_*``
attribute: the kernel handles the attributes of one request in order and keeps those
applied before a refusal, so one attribute per request is the only way to learn which
attribute was refused.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator, Mapping

from vfnet.errors import ValidationError
from vfnet.network.vf_settings import LinkState, VfAttr, VfSettings

RTM_NEWLINK = 16
RTM_GETLINK = 18
RTM_SETLINK = 19
RTM_NEWQDISC = 36
RTM_GETQDISC = 38
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 0x01
NLM_F_ACK = 0x04
NLM_F_DUMP = 0x300
RTEXT_FILTER_VF = 1  # ask RTM_GETLINK for the VF table (IFLA_EXT_MASK)
RTEXT_FILTER_SKIP_STATS = 1 << 3
TCA_KIND = 1
TCA_OPTIONS = 2
TCA_TBF_PARMS = 1
IFF_UP = 0x1

# Attribute numbers, from include/uapi/linux/if_link.h.
IFLA_ADDRESS = 1
IFLA_IFNAME = 3
IFLA_MASTER = 10
IFLA_CARRIER = 33
IFLA_VFINFO_LIST = 22
IFLA_EXT_MASK = 29
IFLA_VF_INFO = 1
IFLA_VF_MAC = 1
IFLA_VF_VLAN = 2
IFLA_VF_SPOOFCHK = 4
IFLA_VF_LINK_STATE = 5
IFLA_VF_RATE = 6
IFLA_VF_TRUST = 9
IFLA_VF_VLAN_LIST = 12
IFLA_VF_VLAN_INFO = 1
_NLA_TYPE_MASK = 0x3FFF  # without NLA_F_NESTED and NLA_F_NET_BYTEORDER

# IFLA_VF_VLAN_LIST's protocol, in network order on the wire (struct ifla_vf_vlan_info).
VLAN_PROTOS: Mapping[str, int] = {"802.1Q": 0x8100, "802.1ad": 0x88A8}
_PROTO_NAMES = {number: name for name, number in VLAN_PROTOS.items()}

# IFLA_VF_LINK_STATE values (enum in include/uapi/linux/if_link.h).
_LINK_STATES = {LinkState.AUTO: 0, LinkState.ENABLE: 1, LinkState.DISABLE: 2}
_LINK_STATE_NAMES = {number: state for state, number in _LINK_STATES.items()}

# The kernel fills spoofchk and trust with -1 (as u32) when a driver does not report them.
_NOT_REPORTED = 0xFFFFFFFF

_HEADER = struct.Struct("=IHHII")  # struct nlmsghdr
_IFINFO = struct.Struct("=BxHiII")  # struct ifinfomsg
_NLA = struct.Struct("=HH")  # struct nlattr
_U32 = struct.Struct("=I")
_U32S = {n: struct.Struct(f"={n}I") for n in (2, 3)}
_VF_MAC = struct.Struct("=I32s")  # struct ifla_vf_mac
# struct ifla_vf_vlan_info: 16 bytes, the be16 protocol then 2 bytes of tail padding;
# the kernel's policy wants sizeof and answers EINVAL to a shorter one.
_VF_VLAN_INFO = struct.Struct("=III2s2x")


def _align(length: int) -> int:
    return (length + 3) & ~3


def _attr(kind: int, payload: bytes) -> bytes:
    length = _NLA.size + len(payload)
    return _NLA.pack(length, kind) + payload + bytes(_align(length) - length)


def message(msg_type: int, flags: int, seq: int, payload: bytes, pid: int = 0) -> bytes:
    """A whole netlink message: ``struct nlmsghdr`` in front of ``payload``."""
    return _HEADER.pack(_HEADER.size + len(payload), msg_type, flags, seq, pid) + payload


def header(data: bytes | memoryview, offset: int = 0) -> tuple[int, int, int, int]:
    """(length, type, flags, seq) of the message at ``offset``."""
    length, msg_type, flags, seq, _ = _HEADER.unpack_from(data, offset)
    return length, msg_type, flags, seq


def error_code(data: bytes | memoryview, offset: int) -> int:
    """The errno of an NLMSG_ERROR at ``offset`` (0 for an acknowledgement)."""
    code: int = struct.unpack_from("=i", data, offset + _HEADER.size)[0]
    return -code


def getlink_request(pf: str) -> bytes:
    """RTM_GETLINK payload for ``pf`` with its VF table (RTEXT_FILTER_VF)."""
    return (
        _IFINFO.pack(0, 0, 0, 0, 0)
        + _attr(IFLA_IFNAME, pf.encode() + b"\0")
        + _attr(IFLA_EXT_MASK, _U32.pack(RTEXT_FILTER_VF))
    )


def setlink_request(pf: str, vf: int, wanted: VfSettings, attr: VfAttr) -> bytes:
    """RTM_SETLINK payload setting one attribute of VF ``vf`` of ``pf`` (named, not
    indexed: the kernel resolves the name) to its value in ``wanted``.

    Raises:
        ValidationError: the value cannot be put on the wire (bad MAC, unknown protocol).
    """
    vf_attr = _VF_ATTRS[attr](vf, wanted)
    return (
        _IFINFO.pack(0, 0, 0, 0, 0)
        + _attr(IFLA_IFNAME, pf.encode() + b"\0")
        + _attr(IFLA_VFINFO_LIST, _attr(IFLA_VF_INFO, vf_attr))
    )


def link_settings(
    index: int, *, mac: str | None = None, master: int | None = None, up: bool | None = None
) -> bytes:
    """RTM_SETLINK payload for link ``index``: its MAC, its bridge, its admin state."""
    flags = IFF_UP if up else 0
    change = 0 if up is None else IFF_UP
    payload = _IFINFO.pack(0, 0, index, flags, change)
    if mac is not None:
        payload += _attr(IFLA_ADDRESS, _mac_bytes(mac, "mac"))
    if master is not None:
        payload += _attr(IFLA_MASTER, _U32.pack(master))
    return payload


def link_query(index: int) -> bytes:
    """RTM_GETLINK payload for link ``index``, without its VF table or statistics."""
    return _IFINFO.pack(0, 0, index, 0, 0)


def links_request() -> bytes:
    """RTM_GETLINK dump payload: every link, without statistics."""
    return _IFINFO.pack(0, 0, 0, 0, 0) + _attr(IFLA_EXT_MASK, _U32.pack(RTEXT_FILTER_SKIP_STATS))


def link_summary(payload: bytes | memoryview) -> tuple[int, int, str, int]:
    """(ifindex, flags, name, master ifindex or 0) of an RTM_NEWLINK payload."""
    _, _, index, flags, _ = _IFINFO.unpack_from(payload)
    name, master = "", 0
    for kind, value in _attrs(memoryview(payload)[_IFINFO.size :]):
        if kind == IFLA_IFNAME:
            name = bytes(value).split(b"\0", 1)[0].decode()
        elif kind == IFLA_MASTER:
            (master,) = _U32.unpack_from(value)
    return index, flags, name, master


IFLA_MTU = 4
IFLA_LINKINFO = 18
IFLA_IFALIAS = 20
IFLA_INFO_KIND = 1


def link_record(
    payload: bytes | memoryview,
) -> tuple[str, int, str, int, bool, str | None, str | None]:
    """(name, index, mac, mtu, up, alias, kind) of an RTM_NEWLINK payload."""
    _, _, index, flags, _ = _IFINFO.unpack_from(payload)
    name, mac, mtu, alias, kind = "", "", 0, None, None
    for attr, value in _attrs(memoryview(payload)[_IFINFO.size :]):
        if attr == IFLA_IFNAME:
            name = bytes(value).split(b"\0", 1)[0].decode()
        elif attr == IFLA_ADDRESS:
            mac = ":".join(f"{b:02x}" for b in bytes(value))
        elif attr == IFLA_MTU:
            (mtu,) = _U32.unpack_from(value)
        elif attr == IFLA_IFALIAS:
            alias = bytes(value).split(b"\0", 1)[0].decode() or None
        elif attr == IFLA_LINKINFO:
            for sub, inner in _attrs(value):
                if sub == IFLA_INFO_KIND:
                    kind = bytes(inner).split(b"\0", 1)[0].decode()
    return name, index, mac, mtu, bool(flags & IFF_UP), alias, kind


_TCMSG = struct.Struct("=B3xiIII")  # struct tcmsg


def qdiscs_request() -> bytes:
    """RTM_GETQDISC dump payload: every qdisc of the namespace."""
    return _TCMSG.pack(0, 0, 0, 0, 0)


def tbf_rate(payload: bytes | memoryview) -> tuple[int, int] | None:
    """(ifindex, rate in bytes/s) of an RTM_NEWQDISC payload that is a tbf, else None."""
    _, index, _, _, _ = _TCMSG.unpack_from(payload)
    found = dict(_attrs(memoryview(payload)[_TCMSG.size :]))
    if TCA_KIND not in found or bytes(found[TCA_KIND]).rstrip(b"\0") != b"tbf":
        return None
    parms = dict(_attrs(found[TCA_OPTIONS])).get(TCA_TBF_PARMS) if TCA_OPTIONS in found else None
    if parms is None:
        return None
    (rate,) = _U32.unpack_from(parms, 8)  # struct tc_ratespec's rate, first in tc_tbf_qopt
    return index, rate


def carrier(payload: bytes | memoryview) -> bool:
    """Whether the link of an RTM_NEWLINK payload has carrier (``IFLA_CARRIER``)."""
    data = memoryview(payload)[_IFINFO.size :]
    return any(kind == IFLA_CARRIER and value[0] == 1 for kind, value in _attrs(data))


def _mac_bytes(mac: str, field: str) -> bytes:
    octets = mac.split(":")
    if len(octets) != 6 or not all(len(o) == 2 and _is_hex(o) for o in octets):
        raise ValidationError(field, f"{mac!r} is not a MAC address (aa:bb:cc:dd:ee:ff)")
    return bytes.fromhex("".join(octets))


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


def _mac(vf: int, wanted: VfSettings) -> bytes:
    return _attr(IFLA_VF_MAC, _VF_MAC.pack(vf, _mac_bytes(wanted.mac, "mac")))


def _vlan(vf: int, wanted: VfSettings) -> bytes:
    if wanted.vlan_proto not in VLAN_PROTOS:
        known = ", ".join(VLAN_PROTOS)
        raise ValidationError("vlan_proto", f"{wanted.vlan_proto!r} is not one of {known}")
    if wanted.vlan_proto == "802.1Q":
        # The legacy attribute: what iproute2 sends without 'proto', and every driver takes.
        return _attr(IFLA_VF_VLAN, _U32S[3].pack(vf, wanted.vlan, wanted.qos))
    proto = VLAN_PROTOS["802.1ad"].to_bytes(2, "big")
    info = _VF_VLAN_INFO.pack(vf, wanted.vlan, wanted.qos, proto)
    return _attr(IFLA_VF_VLAN_LIST, _attr(IFLA_VF_VLAN_INFO, info))


def _rate(vf: int, wanted: VfSettings) -> bytes:
    rates = _U32S[3].pack(vf, wanted.min_tx_rate, wanted.max_tx_rate)
    return _attr(IFLA_VF_RATE, rates)


def _spoofchk(vf: int, wanted: VfSettings) -> bytes:
    return _attr(IFLA_VF_SPOOFCHK, _U32S[2].pack(vf, int(wanted.spoofchk)))


def _link_state(vf: int, wanted: VfSettings) -> bytes:
    return _attr(IFLA_VF_LINK_STATE, _U32S[2].pack(vf, _LINK_STATES[wanted.link_state]))


def _trust(vf: int, wanted: VfSettings) -> bytes:
    return _attr(IFLA_VF_TRUST, _U32S[2].pack(vf, int(wanted.trust)))


_VF_ATTRS: dict[VfAttr, Callable[[int, VfSettings], bytes]] = {
    VfAttr.MAC: _mac,
    VfAttr.VLAN: _vlan,
    VfAttr.RATE: _rate,
    VfAttr.SPOOFCHK: _spoofchk,
    VfAttr.LINK_STATE: _link_state,
    VfAttr.TRUST: _trust,
}


def _attrs(data: memoryview) -> Iterator[tuple[int, memoryview]]:
    """(type, payload) of each attribute laid end to end in ``data``."""
    offset = 0
    while offset + _NLA.size <= len(data):
        length, kind = _NLA.unpack_from(data, offset)
        if length < _NLA.size:
            return  # malformed: stop rather than loop
        yield kind & _NLA_TYPE_MASK, data[offset + _NLA.size : offset + length]
        offset += _align(length)


def vf_table(payload: bytes | memoryview) -> dict[int, VfSettings]:
    """The VF table of an RTM_NEWLINK payload (an answer to :func:`getlink_request`)."""
    data = memoryview(payload)[_IFINFO.size :]
    table: dict[int, VfSettings] = {}
    for kind, vf_list in _attrs(data):
        if kind != IFLA_VFINFO_LIST:
            continue
        for info_kind, info in _attrs(vf_list):
            if info_kind == IFLA_VF_INFO:
                vf = _vf_settings(info)
                if vf is not None:
                    table[vf[0]] = vf[1]
    return dict(sorted(table.items()))


def _vf_settings(info: memoryview) -> tuple[int, VfSettings] | None:
    found = dict(_attrs(info))
    if IFLA_VF_MAC not in found:
        return None
    vf, raw_mac = _VF_MAC.unpack_from(found[IFLA_VF_MAC])
    _, vlan, qos = _u32s(found, IFLA_VF_VLAN, 3)
    _, min_rate, max_rate = _u32s(found, IFLA_VF_RATE, 3)
    spoofchk = _reported(found, IFLA_VF_SPOOFCHK)
    trust = _reported(found, IFLA_VF_TRUST)
    link_state = _reported(found, IFLA_VF_LINK_STATE)
    return vf, VfSettings(
        mac=":".join(f"{octet:02x}" for octet in raw_mac[:6]),
        vlan=vlan,
        qos=qos,
        vlan_proto=_vlan_proto(found.get(IFLA_VF_VLAN_LIST)),
        spoofchk=bool(spoofchk) if spoofchk is not None else True,
        trust=bool(trust) if trust is not None else False,
        min_tx_rate=min_rate,
        max_tx_rate=max_rate,
        link_state=_LINK_STATE_NAMES.get(link_state or 0, LinkState.AUTO),
    )


def _u32s(found: Mapping[int, memoryview], kind: int, count: int) -> tuple[int, ...]:
    value = found.get(kind)
    if value is None or len(value) < 4 * count:
        return (0,) * count
    return _U32S[count].unpack_from(value)


def _reported(found: Mapping[int, memoryview], kind: int) -> int | None:
    _, value = _u32s(found, kind, 2)
    if kind not in found or value == _NOT_REPORTED:
        return None
    return value


def _vlan_proto(vlan_list: memoryview | None) -> str:
    entries = dict(_attrs(vlan_list)) if vlan_list is not None else {}
    entry = entries.get(IFLA_VF_VLAN_INFO)
    if entry is None or len(entry) < 14:
        return "802.1Q"
    proto = int.from_bytes(entry[12:14], "big")
    return _PROTO_NAMES.get(proto, f"0x{proto:04x}")

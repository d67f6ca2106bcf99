"""The netlink driver's messages on the wire: one VF attribute per RTM_SETLINK, byte for
byte what pyroute2's encoder makes, and the VF table of an RTM_NEWLINK answer (encoded by
pyroute2) read back."""

from __future__ import annotations

from typing import Any

import pytest
from pyroute2.netlink import nla, nlmsg
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg
from pyroute2.netlink.rtnl.tcmsg import tcmsg

from vfnet.agent.drivers.netlink import errno_reason
from vfnet.agent.drivers.netlink_messages import (
    getlink_request,
    link_record,
    link_settings,
    link_summary,
    message,
    setlink_request,
    tbf_rate,
    vf_table,
)
from vfnet.errors import ValidationError
from vfnet.network.vf_settings import APPLY_ORDER, RESET, LinkState, VfAttr, VfSettings

WANTED = VfSettings(
    mac="02:00:00:00:00:07",
    vlan=100,
    qos=3,
    spoofchk=False,
    trust=True,
    min_tx_rate=10,
    max_tx_rate=100,
    link_state=LinkState.DISABLE,
)
_vfinfo = ifinfmsg.vflist.vfinfo


class vf_vlan_info(nla):
    """``struct ifla_vf_vlan_info`` as the kernel lays it out (16 bytes); pyroute2 0.9.7's
    own packs 14, which the kernel refuses with EINVAL."""

    fields = (("vf", "I"), ("vlan", "I"), ("qos", "I"), ("proto", ">H"), ("__pad", "2x"))


class vf_vlan_list(nla):
    nla_map = ((1, "IFLA_VF_VLAN_INFO", "vf_vlan_info"),)
    vf_vlan_info = vf_vlan_info


class vf_info(nla):
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


class vf_info_list(nla):
    nla_map = ((1, "IFLA_VF_INFO", "vf_info"),)
    vf_info = vf_info


class vf_setlink(nlmsg):
    """pyroute2's encoder for the request, with the kernel's VLAN struct (its own class:
    pyroute2 caches attribute maps per class, a subclass of ifinfmsg would keep its map)."""

    prefix = "IFLA_"
    fields = ifinfmsg.fields
    nla_map = ((3, "IFLA_IFNAME", "asciiz"), (22, "IFLA_VFINFO_LIST", "vf_info_list"))
    vf_info_list = vf_info_list


def pyroute2_bytes(msg: Any) -> bytes:
    msg.encode()
    return bytes(msg.data)


def ours(payload: bytes) -> bytes:
    return message(0, 0, 0, payload)  # as pyroute2 encodes a bare message: header zeroed


def pyroute2_setlink(pf: str, name: str, value: dict[str, Any]) -> bytes:
    msg = vf_setlink()
    msg["index"] = 0
    msg["attrs"] = [
        ("IFLA_IFNAME", pf),
        ("IFLA_VFINFO_LIST", {"attrs": [("IFLA_VF_INFO", {"attrs": [(name, value)]})]}),
    ]
    return pyroute2_bytes(msg)


def decoded(data: bytes) -> ifinfmsg:
    msg = ifinfmsg(data)
    msg.decode()
    return msg


def vf_attrs(data: bytes) -> list[tuple[str, dict[str, Any]]]:
    (info,) = decoded(data).get_attr("IFLA_VFINFO_LIST").get_attrs("IFLA_VF_INFO")
    return [(name, dict(value)) for name, value in info["attrs"]]


CASES = [
    (VfAttr.MAC, "IFLA_VF_MAC", {"vf": 5, "mac": "02:00:00:00:00:07"}),
    (VfAttr.VLAN, "IFLA_VF_VLAN", {"vf": 5, "vlan": 100, "qos": 3}),
    (VfAttr.RATE, "IFLA_VF_RATE", {"vf": 5, "min_tx_rate": 10, "max_tx_rate": 100}),
    (VfAttr.SPOOFCHK, "IFLA_VF_SPOOFCHK", {"vf": 5, "spoofchk": 0}),
    (VfAttr.LINK_STATE, "IFLA_VF_LINK_STATE", {"vf": 5, "link_state": 2}),
    (VfAttr.TRUST, "IFLA_VF_TRUST", {"vf": 5, "trust": 1}),
]


@pytest.mark.parametrize(("attr", "name", "fields"), CASES)
def test_each_attribute_goes_alone_in_its_own_request_to_the_named_pf(attr, name, fields):
    data = ours(setlink_request("enp1s0f0", 5, WANTED, attr))
    msg = decoded(data)
    assert msg.get_attr("IFLA_IFNAME") == "enp1s0f0"
    assert msg["index"] == 0
    [(sent, value)] = vf_attrs(data)
    assert sent == name
    assert {key: value[key] for key in fields} == fields


@pytest.mark.parametrize(("attr", "name", "fields"), CASES)
@pytest.mark.parametrize("pf", ["eth0", "enp1s0f0", "enp129s0f1np1"])
def test_each_request_is_byte_for_byte_what_pyroute2_encodes(attr, name, fields, pf):
    assert ours(setlink_request(pf, 5, WANTED, attr)) == pyroute2_setlink(pf, name, fields)


def test_a_request_for_every_vf_and_attribute_matches_pyroute2_s_bytes():
    for vf in (0, 1, 63, 255):
        for attr in APPLY_ORDER:
            [(name, value)] = vf_attrs(ours(setlink_request("eth0", vf, WANTED, attr)))
            expected = pyroute2_setlink("eth0", name, value)
            assert ours(setlink_request("eth0", vf, WANTED, attr)) == expected


def test_an_802_1ad_vlan_goes_as_a_vlan_list_with_the_qinq_protocol():
    qinq = VfSettings(vlan=300, qos=1, vlan_proto="802.1ad")
    data = ours(setlink_request("eth0", 2, qinq, VfAttr.VLAN))
    [(name, value)] = vf_attrs(data)
    assert name == "IFLA_VF_VLAN_LIST"
    info = value["attrs"][0][1]
    assert (info["vf"], info["vlan"], info["qos"], info["proto"]) == (2, 300, 1, 0x88A8)
    vlan_info = {"vf": 2, "vlan": 300, "qos": 1, "proto": 0x88A8}
    vlan_list = {"attrs": [("IFLA_VF_VLAN_INFO", vlan_info)]}
    assert data == pyroute2_setlink("eth0", "IFLA_VF_VLAN_LIST", vlan_list)


def test_the_vlan_info_struct_is_as_long_as_the_kernel_s_sixteen_bytes():
    data = setlink_request("eth0", 0, VfSettings(vlan=100, vlan_proto="802.1ad"), VfAttr.VLAN)
    tail = data[-20:]  # the innermost attribute: struct nlattr, then the struct itself
    assert int.from_bytes(tail[:2], "little") == 4 + 16
    assert tail[-4:] == b"\x88\xa8\x00\x00"  # be16 proto, then padding


def test_the_vf_table_request_is_what_pyroute2_encodes():
    msg = ifinfmsg()
    msg["index"] = 0
    msg["attrs"] = [("IFLA_IFNAME", "enp1s0f0"), ("IFLA_EXT_MASK", 1)]
    assert ours(getlink_request("enp1s0f0")) == pyroute2_bytes(msg)


@pytest.mark.parametrize(
    ("settings", "attrs"),
    [
        ({"mac": "02:00:00:00:00:07"}, [("IFLA_ADDRESS", "02:00:00:00:00:07")]),
        ({"master": 12, "up": True}, [("IFLA_MASTER", 12)]),
        ({"up": False}, []),
    ],
)
def test_link_settings_are_what_pyroute2_encodes(settings, attrs):
    msg = ifinfmsg()
    msg["index"] = 7
    if "up" in settings:
        msg["flags"], msg["change"] = int(settings["up"]), 1
    msg["attrs"] = attrs
    assert ours(link_settings(7, **settings)) == pyroute2_bytes(msg)


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        (VfSettings(mac="02:00:00:00:00"), "mac"),
        (VfSettings(mac="02:00:00:00:00:zz"), "mac"),
        (VfSettings(vlan_proto="802.1x"), "vlan_proto"),
    ],
)
def test_a_value_that_cannot_go_on_the_wire_names_its_field(settings, field):
    attr = VfAttr.VLAN if field == "vlan_proto" else VfAttr.MAC
    with pytest.raises(ValidationError) as refused:
        setlink_request("eth0", 0, settings, attr)
    assert refused.value.field == field


def igb_vf(vf: int, mac: str, **fields: Any) -> tuple[str, dict[str, Any]]:
    """One IFLA_VF_INFO as igb reports it (values as in an `ip -d link` capture)."""
    values = {"vlan": 0, "qos": 0, "proto": 0x8100, "min": 0, "max": 0, "spoofchk": 1}
    values |= {"trust": 0, "link_state": 0} | fields
    attrs = [
        ("IFLA_VF_MAC", {"vf": vf, "mac": mac}),
        ("IFLA_VF_VLAN", {"vf": vf, "vlan": values["vlan"], "qos": values["qos"]}),
        (
            "IFLA_VF_VLAN_LIST",
            {
                "attrs": [
                    (
                        "IFLA_VF_VLAN_INFO",
                        {"vf": vf, "vlan": values["vlan"], "qos": values["qos"]}
                        | {"proto": values["proto"]},
                    )
                ]
            },
        ),
        ("IFLA_VF_TX_RATE", {"vf": vf, "tx_rate": values["max"]}),
        ("IFLA_VF_RATE", {"vf": vf, "min_tx_rate": values["min"], "max_tx_rate": values["max"]}),
        ("IFLA_VF_SPOOFCHK", {"vf": vf, "spoofchk": values["spoofchk"]}),
        ("IFLA_VF_LINK_STATE", {"vf": vf, "link_state": values["link_state"]}),
        ("IFLA_VF_RSS_QUERY_EN", {"vf": vf, "rss_query_en": 0xFFFFFFFF}),
        ("IFLA_VF_TRUST", {"vf": vf, "trust": values["trust"]}),
    ]
    return ("IFLA_VF_INFO", {"attrs": attrs})


def newlink(*vfs: tuple[str, dict[str, Any]]) -> bytes:
    """An RTM_NEWLINK payload (after struct nlmsghdr), as pyroute2 encodes it."""
    msg = ifinfmsg()
    msg["index"] = 2
    msg["attrs"] = [("IFLA_IFNAME", "eth0"), ("IFLA_NUM_VF", len(vfs))]
    if vfs:
        msg["attrs"].append(("IFLA_VFINFO_LIST", {"attrs": list(vfs)}))
    return pyroute2_bytes(msg)[16:]


def test_the_vf_table_reads_every_attribute_back_by_vf_index():
    answer = newlink(
        igb_vf(1, "02:00:00:00:01:01", vlan=100, qos=3, max=100, spoofchk=0, trust=1),
        igb_vf(0, "00:00:00:00:00:00"),
        igb_vf(2, "02:00:00:00:01:02", vlan=300, proto=0x88A8, min=10, link_state=2),
    )
    assert vf_table(answer) == {
        0: RESET,
        1: VfSettings(
            mac="02:00:00:00:01:01", vlan=100, qos=3, spoofchk=False, trust=True, max_tx_rate=100
        ),
        2: VfSettings(
            mac="02:00:00:00:01:02",
            vlan=300,
            vlan_proto="802.1ad",
            min_tx_rate=10,
            link_state=LinkState.DISABLE,
        ),
    }


def test_spoofchk_and_trust_a_driver_does_not_report_read_as_a_released_vf():
    answer = newlink(igb_vf(0, "00:00:00:00:00:00", spoofchk=0xFFFFFFFF, trust=0xFFFFFFFF))
    assert vf_table(answer)[0] == RESET


def test_a_netdev_without_vfs_has_an_empty_table():
    assert vf_table(newlink()) == {}


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (95, "EOPNOTSUPP: Operation not supported"),
        (93, "EPROTONOSUPPORT: Protocol not supported"),
        (22, "EINVAL: Invalid argument"),
    ],
)
def test_a_refusal_reads_as_the_errno_name_operators_know_and_its_text(code, reason):
    assert errno_reason(code) == reason


def test_a_link_of_a_dump_reads_as_its_index_flags_name_and_master():
    msg = ifinfmsg()
    msg["index"], msg["flags"] = 12, 0x1003
    msg["attrs"] = [("IFLA_IFNAME", "ens1f0r3"), ("IFLA_MTU", 1500), ("IFLA_MASTER", 7)]
    assert link_summary(pyroute2_bytes(msg)[16:]) == (12, 0x1003, "ens1f0r3", 7)


def test_a_tbf_of_a_qdisc_dump_reads_as_its_link_and_rate_and_other_qdiscs_as_none():
    tbf = tcmsg()
    tbf["index"] = 9
    tbf["attrs"] = [("TCA_KIND", "tbf"), ("TCA_OPTIONS", {"attrs": [("TCA_TBF_PARMS", {
        "rate": 12_500_000, "limit": 1000, "buffer": 1000, "mtu": 0})]})]  # fmt: skip
    assert tbf_rate(pyroute2_bytes(tbf)[16:]) == (9, 12_500_000)
    other = tcmsg()
    other["attrs"] = [("TCA_KIND", "clsact")]
    assert tbf_rate(pyroute2_bytes(other)[16:]) is None


@pytest.mark.parametrize(
    ("flags", "alias", "kind"),
    [(0x1003, "vfnet-vf {}", "veth"), (0x1002, None, None)],
)
def test_a_link_reads_as_name_index_mac_mtu_up_alias_and_kind_as_pyroute2_encodes_it(
    flags, alias, kind
):
    msg = ifinfmsg()
    msg["index"], msg["flags"] = 31, flags
    msg["attrs"] = [
        ("IFLA_IFNAME", "eth0"),
        ("IFLA_ADDRESS", "FA:16:3E:00:00:01"),
        ("IFLA_MTU", 9000),
        *([("IFLA_IFALIAS", alias)] if alias else []),
        *([("IFLA_LINKINFO", {"attrs": [("IFLA_INFO_KIND", kind)]})] if kind else []),
    ]
    up = bool(flags & 1)
    assert link_record(pyroute2_bytes(msg)[16:]) == (
        "eth0", 31, "fa:16:3e:00:00:01", 9000, up, alias, kind
    )  # fmt: skip

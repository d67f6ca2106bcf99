"""The netlink driver's messages on the wire: one VF attribute per RTM_SETLINK, and the
VF table of an RTM_NEWLINK answer read back, through pyroute2's own encoder and decoder."""

from __future__ import annotations

from typing import Any

import pytest
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

from vfnet.agent.drivers.netlink import errno_reason
from vfnet.agent.drivers.netlink_messages import setlink_request, vf_table, vf_vlan_info
from vfnet.errors import ValidationError
from vfnet.network.vf_settings import RESET, LinkState, VfAttr, VfSettings

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


def wire(msg: Any) -> ifinfmsg:
    """What the kernel would read: the message encoded, then decoded as a fresh ifinfmsg."""
    msg.encode()
    decoded = ifinfmsg(bytes(msg.data))
    decoded.decode()
    return decoded


def vf_attrs(msg: Any) -> list[tuple[str, dict[str, Any]]]:
    (info,) = msg.get_attr("IFLA_VFINFO_LIST").get_attrs("IFLA_VF_INFO")
    return [(name, dict(value)) for name, value in info["attrs"]]


@pytest.mark.parametrize(
    ("attr", "name", "fields"),
    [
        (VfAttr.MAC, "IFLA_VF_MAC", {"vf": 5, "mac": "02:00:00:00:00:07"}),
        (VfAttr.VLAN, "IFLA_VF_VLAN", {"vf": 5, "vlan": 100, "qos": 3}),
        (VfAttr.RATE, "IFLA_VF_RATE", {"vf": 5, "min_tx_rate": 10, "max_tx_rate": 100}),
        (VfAttr.SPOOFCHK, "IFLA_VF_SPOOFCHK", {"vf": 5, "spoofchk": 0}),
        (VfAttr.LINK_STATE, "IFLA_VF_LINK_STATE", {"vf": 5, "link_state": 2}),
        (VfAttr.TRUST, "IFLA_VF_TRUST", {"vf": 5, "trust": 1}),
    ],
)
def test_each_attribute_goes_alone_in_its_own_request_to_the_named_pf(attr, name, fields):
    msg = wire(setlink_request("enp1s0f0", 5, WANTED, attr))
    assert msg.get_attr("IFLA_IFNAME") == "enp1s0f0"
    assert msg["index"] == 0
    [(sent, value)] = vf_attrs(msg)
    assert sent == name
    assert {key: value[key] for key in fields} == fields


def test_an_802_1ad_vlan_goes_as_a_vlan_list_with_the_qinq_protocol():
    qinq = VfSettings(vlan=300, qos=1, vlan_proto="802.1ad")
    [(name, value)] = vf_attrs(wire(setlink_request("eth0", 2, qinq, VfAttr.VLAN)))
    assert name == "IFLA_VF_VLAN_LIST"
    info = value["attrs"][0][1]
    assert (info["vf"], info["vlan"], info["qos"], info["proto"]) == (2, 300, 1, 0x88A8)


def test_the_vlan_info_struct_is_as_long_as_the_kernel_s_sixteen_bytes():
    info = vf_vlan_info()
    info.update({"vf": 0, "vlan": 100, "qos": 0, "proto": 0x8100})
    info.encode()
    header = 4  # struct nlattr: len, type
    assert len(info.data) - header == 16
    assert bytes(info.data[header + 12 :]) == b"\x81\x00\x00\x00"  # be16 proto, then padding


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


def newlink(*vfs: tuple[str, dict[str, Any]]) -> ifinfmsg:
    msg = ifinfmsg()
    msg["index"] = 2
    msg["attrs"] = [("IFLA_IFNAME", "eth0"), ("IFLA_NUM_VF", len(vfs))]
    if vfs:
        msg["attrs"].append(("IFLA_VFINFO_LIST", {"attrs": list(vfs)}))
    return wire(msg)


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

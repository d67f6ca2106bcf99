"""The CNI environment and network config: what is taken, and each refusal's code and words."""

from __future__ import annotations

import json
from typing import Any

import pytest

from vfnet.cni.config import parse_config, parse_invocation
from vfnet.cni.protocol import CniError, Code, Interface, IpConfig, Result, RouteEntry

BASE: dict[str, Any] = {
    "cniVersion": "1.0.0",
    "name": "sriov-net",
    "type": "vfnet-cni",
    "deviceID": "0000:3b:02.1",
}
ENV = {
    "CNI_COMMAND": "ADD",
    "CNI_CONTAINERID": "abc123",
    "CNI_NETNS": "/var/run/netns/cni-1",
    "CNI_IFNAME": "net1",
    "CNI_PATH": "/opt/cni/bin:/usr/lib/cni",
}


def config(**changes: Any) -> str:
    merged = {**BASE, **changes}
    return json.dumps({k: v for k, v in merged.items() if v is not ...})


def test_sriov_cni_keys_are_taken_with_their_meaning() -> None:
    conf = parse_config(
        config(
            vlan=100, vlanQoS=3, vlanProto="802.1AD", mac="52:54:00:AA:BB:CC", spoofchk="off",
            trust="on", link_state="enable", min_tx_rate=10, max_tx_rate=100,
            deviceID="0000:3B:02.1",
        )
    )  # fmt: skip
    assert (conf.vlan, conf.vlan_qos, conf.vlan_proto) == (100, 3, "802.1ad")
    assert (conf.mac, conf.spoofchk, conf.trust) == ("52:54:00:aa:bb:cc", "off", "on")
    assert (conf.min_tx_rate, conf.max_tx_rate, conf.link_state) == (10, 100, "enable")
    assert conf.device_id == "0000:3b:02.1"
    assert (conf.driver, conf.sysfs_root, conf.state_dir) == (
        "netlink",
        "/sys",
        "/var/lib/cni/vfnet",
    )


def test_a_port_is_named_in_the_config_or_per_call_in_args_cni() -> None:
    keys = {"server": "https://vfnet:8775", "tokenFile": "/etc/vfnet/cni.token", "hostName": "h1"}
    conf = parse_config(config(deviceID=..., port="web-0", **keys))
    assert (conf.port, conf.server, conf.token_file, conf.host_name) == (
        "web-0", "https://vfnet:8775", "/etc/vfnet/cni.token", "h1",
    )  # fmt: skip
    assert conf.device_id is None
    per_pod = parse_config(config(deviceID=..., args={"cni": {"port": "web-1"}}))
    assert per_pod.port == "web-1"
    assert parse_config(config(port="web-0", args={"cni": {"port": "web-1"}})).port == "web-0"
    assert parse_config(config(port="web-0")).device_id == "0000:3b:02.1"


BAD_CONFIGS = [
    # (what, stdin, code, words the message must hold)
    ("not JSON", "{vlan: 1", Code.DECODING_FAILURE, "not JSON"),
    ("a JSON list", "[]", Code.DECODING_FAILURE, "not a JSON object"),
    ("an old cniVersion", config(cniVersion="0.2.0"), Code.INCOMPATIBLE_VERSION, "cniVersion"),
    ("no cniVersion", config(cniVersion=...), Code.INVALID_CONFIG, "cniVersion: required"),
    ("no name", config(name=...), Code.INVALID_CONFIG, "name: required"),
    ("no deviceID", config(deviceID=...), Code.INVALID_CONFIG, "deviceID: required"),
    ("deviceID a number", config(deviceID=3), Code.INVALID_CONFIG, "deviceID"),
    ("deviceID not PCI", config(deviceID="eth0"), Code.INVALID_CONFIG, "deviceID"),
    ("vlan as text", config(vlan="100"), Code.INVALID_CONFIG, "vlan"),
    ("vlan above 4094", config(vlan=4095), Code.INVALID_CONFIG, "vlan"),
    ("vlan negative", config(vlan=-1), Code.INVALID_CONFIG, "vlan"),
    ("vlan a float", config(vlan=1.5), Code.INVALID_CONFIG, "vlan"),
    ("vlanQoS without vlan", config(vlanQoS=1), Code.INVALID_CONFIG, "vlanQoS: given without vlan"),
    ("vlanQoS on vlan 0", config(vlan=0, vlanQoS=1), Code.INVALID_CONFIG, "vlanQoS"),
    ("vlanQoS above 7", config(vlan=5, vlanQoS=8), Code.INVALID_CONFIG, "vlanQoS"),
    ("vlanProto unknown", config(vlan=5, vlanProto="802.1x"), Code.INVALID_CONFIG, "vlanProto"),
    ("802.1ad on vlan 0", config(vlan=0, vlanProto="802.1ad"), Code.INVALID_CONFIG, "vlanProto"),
    ("vlanProto without vlan", config(vlanProto="802.1q"), Code.INVALID_CONFIG, "vlanProto"),
    ("mac multicast", config(mac="01:00:5e:00:00:01"), Code.INVALID_CONFIG, "mac"),
    ("mac zero", config(mac="00:00:00:00:00:00"), Code.INVALID_CONFIG, "mac"),
    ("mac garbage", config(mac="52:54:00"), Code.INVALID_CONFIG, "mac"),
    ("spoofchk a bool", config(spoofchk=True), Code.INVALID_CONFIG, "spoofchk"),
    ("trust yes", config(trust="yes"), Code.INVALID_CONFIG, "trust"),
    ("link_state up", config(link_state="up"), Code.INVALID_CONFIG, "link_state"),
    ("min_tx_rate as text", config(min_tx_rate="10"), Code.INVALID_CONFIG, "min_tx_rate"),
    ("min above max", config(min_tx_rate=20, max_tx_rate=10), Code.INVALID_CONFIG, "min_tx_rate"),
    ("max_tx_rate negative", config(max_tx_rate=-5), Code.INVALID_CONFIG, "max_tx_rate"),
    ("an unknown key", config(vlanId=5), Code.UNSUPPORTED_FIELD, "vlanId"),
    ("driver unknown", config(driver="dpdk"), Code.INVALID_CONFIG, "driver"),
    ("eswitch without its host", config(driver="eswitch"), Code.INVALID_CONFIG, "eswitch"),
    ("mtu too small", config(mtu=10), Code.INVALID_CONFIG, "mtu"),
    ("ipam not an object", config(ipam="host-local"), Code.INVALID_CONFIG, "ipam"),
    ("neither deviceID nor port", config(deviceID=...), Code.INVALID_CONFIG, "or port"),
    ("server without port", config(server="http://vfnet:8775"), Code.INVALID_CONFIG,
     "server: used only with port"),
    ("tokenFile without port", config(tokenFile="/t"), Code.INVALID_CONFIG, "tokenFile: used"),
    ("hostName without port", config(hostName="h"), Code.INVALID_CONFIG, "hostName: used"),
    ("port empty", config(port=""), Code.INVALID_CONFIG, "port"),
    ("server not http", config(port="p", server="vfnet:8775"), Code.INVALID_CONFIG, "server:"),
    *(
        (f"{key} with port", config(port="p", **{key: value}), Code.INVALID_CONFIG,
         f"{key}: the port decides it")
        for key, value in [
            ("vlan", 100), ("mac", "52:54:00:00:00:01"), ("spoofchk", "off"), ("trust", "on"),
            ("link_state", "enable"), ("min_tx_rate", 1), ("max_tx_rate", 10),
            ("ipam", {"type": "host-local"}), ("mtu", 9000),
        ]
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("stdin", "code", "words"), [case[1:] for case in BAD_CONFIGS], ids=[c[0] for c in BAD_CONFIGS]
)
def test_bad_config_is_refused_with_its_code_naming_the_key(
    stdin: str, code: Code, words: str
) -> None:
    with pytest.raises(CniError) as refused:
        parse_config(stdin)
    assert (refused.value.code, words in refused.value.msg) == (code, True), refused.value.msg


def test_the_environment_gives_the_command_sandbox_and_args() -> None:
    found = parse_invocation({**ENV, "CNI_ARGS": "IgnoreUnknown=1;MAC=52:54:00:00:00:01"})
    assert (found.command, found.container_id, found.netns, found.ifname) == (
        "ADD", "abc123", "/var/run/netns/cni-1", "net1",
    )  # fmt: skip
    assert found.args == {"IgnoreUnknown": "1", "MAC": "52:54:00:00:00:01"}
    assert found.path == ("/opt/cni/bin", "/usr/lib/cni")


BAD_ENVIRONMENTS = [
    ("no command", {"CNI_COMMAND": ""}, "CNI_COMMAND"),
    ("an unknown command", {"CNI_COMMAND": "GC"}, "CNI_COMMAND"),
    ("ADD without a container id", {"CNI_CONTAINERID": ""}, "CNI_CONTAINERID"),
    ("ADD without a netns", {"CNI_NETNS": ""}, "CNI_NETNS"),
    ("ADD without an ifname", {"CNI_IFNAME": ""}, "CNI_IFNAME"),
    ("CNI_ARGS without =", {"CNI_ARGS": "MAC"}, "CNI_ARGS"),
]


@pytest.mark.parametrize(
    ("changes", "words"), [c[1:] for c in BAD_ENVIRONMENTS], ids=[c[0] for c in BAD_ENVIRONMENTS]
)
def test_a_bad_environment_is_code_4_naming_the_variable(
    changes: dict[str, str], words: str
) -> None:
    with pytest.raises(CniError) as refused:
        parse_invocation({**ENV, **changes})
    assert refused.value.code == Code.INVALID_ENVIRONMENT
    assert words in refused.value.msg


def test_del_needs_no_netns_and_version_needs_nothing() -> None:
    assert parse_invocation({**ENV, "CNI_COMMAND": "DEL", "CNI_NETNS": ""}).netns == ""
    assert parse_invocation({"CNI_COMMAND": "VERSION"}).command == "VERSION"


def test_results_and_errors_are_the_spec_documents() -> None:
    result = Result(
        (Interface("net1", "52:54:00:00:00:01", "/var/run/netns/cni-1"),),
        (IpConfig("192.0.2.5/24", "192.0.2.1", 0),),
        (RouteEntry("0.0.0.0/0"),),
        {"nameservers": ["192.0.2.53"]},
    )
    assert result.document("1.0.0") == {
        "cniVersion": "1.0.0",
        "interfaces": [
            {"name": "net1", "mac": "52:54:00:00:00:01", "sandbox": "/var/run/netns/cni-1"}
        ],
        "ips": [{"address": "192.0.2.5/24", "gateway": "192.0.2.1", "interface": 0}],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dns": {"nameservers": ["192.0.2.53"]},
    }
    assert result.document("0.4.0")["ips"][0]["version"] == "4"
    assert Result.parse(result.document("1.0.0"), "prevResult") == result
    error = CniError(Code.INVALID_CONFIG, "vlan: too big", "4095")
    assert error.document("1.0.0") == {
        "cniVersion": "1.0.0", "code": 7, "msg": "vlan: too big", "details": "4095",
    }  # fmt: skip


def test_a_result_that_is_not_one_is_a_decoding_failure() -> None:
    with pytest.raises(CniError) as refused:
        Result.parse({"ips": [{"address": "not-an-ip"}]}, "prevResult")
    assert refused.value.code == Code.DECODING_FAILURE
    assert "prevResult" in refused.value.msg

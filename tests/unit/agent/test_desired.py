"""The desired-state document: read as the server writes it, every bad value refused by path."""

from __future__ import annotations

import copy

import pytest

from vfnet.agent.attach.netns import Route
from vfnet.agent.desired import (
    AttachKind,
    Attachment,
    BridgePort,
    DesiredState,
    InstanceSpec,
    InstanceState,
    parse_desired,
)
from vfnet.errors import ValidationError
from vfnet.network.vf_settings import LinkState, VfSettings
from vfnet.pci.address import PciAddress

VF = "0000:3b:02.1"
DOCUMENT = {
    "host": "compute-1",
    "generation": 42,
    "devices": {
        VF: {
            "owner": "instance:6f1c",
            "claim_generation": 7,
            "port_id": "port-1",
            "mac": "fa:16:3e:12:34:56",
            "vlan": 100,
            "qos": 0,
            "vlan_proto": "802.1Q",
            "spoofchk": True,
            "trust": False,
            "min_tx_rate": 0,
            "max_tx_rate": 10,
            "link_state": "auto",
            "mtu": 9000,
            "attach": {"kind": "netns", "name": "cni-5d2a", "ifname": "net1", "addresses": [],
                       "routes": [], "instance": None},
        }
    },
    "released": {"0000:3b:02.2": 6},
    "instances": {},
}  # fmt: skip


def _with(change) -> dict:
    document = copy.deepcopy(DOCUMENT)
    change(document)
    return document


def _device(**fields):
    return lambda document: document["devices"][VF].update(fields)


def test_a_document_reads_into_claimed_and_released_vfs_by_pci_address():
    state = parse_desired(DOCUMENT)
    claimed = state.claimed[PciAddress.parse(VF)]
    assert (state.host, state.generation) == ("compute-1", 42)
    assert (claimed.owner, claimed.claim_generation, claimed.port_id) == (
        "instance:6f1c",
        7,
        "port-1",
    )
    assert claimed.settings == VfSettings(
        mac="fa:16:3e:12:34:56", vlan=100, max_tx_rate=10, link_state=LinkState.AUTO
    )
    assert claimed.mtu == 9000
    assert claimed.attach == Attachment(AttachKind.NETNS, "cni-5d2a", "net1")
    assert state.released == {PciAddress.parse("0000:3b:02.2"): 6}


NETNS_ATTACH = {
    "kind": "netns",
    "name": "vfnet-c-6f1c",
    "ifname": "eth0",
    "addresses": ["10.0.0.5/24", "2001:db8::5/64"],
    "routes": [{"dst": "default", "gateway": "10.0.0.1"}, {"dst": "10.9.0.0/16", "gateway": None}],
    "instance": "6f1c",
}
INSTANCE = {
    "kind": "vm",
    "state": "suspended",
    "vcpus": 2,
    "memory_mib": 2048,
    "numa_cells": 1,
    "hostdevs": ["0000:af:00.0"],
    "bridge_ports": [
        {
            "port_id": "port-2",
            "mac": "fa:16:3e:00:00:07",
            "bridge": "br-phys1",
            "ifname": "eth1",
            "mtu": 9000,
            "addresses": ["10.1.0.4/24"],
            "routes": [],
        }
    ],
}


def _instance(**fields):
    return lambda document: document.setdefault("instances", {}).update(
        {"6f1c": {**copy.deepcopy(INSTANCE), **fields}}
    )


def _bridge_port(**fields):
    def change(document):
        _instance()(document)
        document["instances"]["6f1c"]["bridge_ports"][0].update(fields)

    return change


@pytest.mark.parametrize(
    ("attach", "instances"),
    [
        ({"kind": "host"}, {}),
        (
            {"kind": "netns", "name": "cni-1", "ifname": None, "addresses": [], "routes": [],
             "instance": None},
            {},
        ),
        (NETNS_ATTACH, {"6f1c": INSTANCE | {"kind": "container", "state": "running"}}),
        (
            {"kind": "libvirt", "name": "6f1c", "vnic_type": "macvtap", "instance": "6f1c"},
            {"6f1c": INSTANCE},
        ),
    ],
)  # fmt: skip
def test_a_document_written_back_is_the_document_read(attach, instances):
    document = _with(_device(attach=attach, mtu=None)) | {"instances": instances}
    state = parse_desired(document)
    assert state.to_json() == document
    assert parse_desired(state.to_json()) == state


def test_a_container_s_vf_is_read_with_its_addresses_routes_and_instance():
    state = parse_desired(_with(_device(attach=NETNS_ATTACH)))
    attach = state.claimed[PciAddress.parse(VF)].attach
    assert attach == Attachment(
        AttachKind.NETNS,
        "vfnet-c-6f1c",
        "eth0",
        ("10.0.0.5/24", "2001:db8::5/64"),
        (Route("default", "10.0.0.1"), Route("10.9.0.0/16")),
        instance="6f1c",
    )


def test_an_instance_is_read_with_its_sizes_devices_and_bridge_ports():
    state = parse_desired(_with(_instance()))
    assert state.instances == {
        "6f1c": InstanceSpec(
            "6f1c", "vm", InstanceState.SUSPENDED, 2, 2048, 1,
            (PciAddress.parse("0000:af:00.0"),),
            (BridgePort("port-2", "fa:16:3e:00:00:07", "br-phys1", "eth1", 9000,
                        ("10.1.0.4/24",)),),
        )
    }  # fmt: skip


def test_a_document_of_an_older_server_has_no_instances_and_short_attachments():
    document = _with(_device(attach={"kind": "libvirt", "name": "vm-1"}))
    state = parse_desired(document)
    assert state.instances == {}
    assert state.claimed[PciAddress.parse(VF)].attach == Attachment(AttachKind.LIBVIRT, "vm-1")


def test_an_empty_host_has_nothing_claimed_and_nothing_released():
    state = parse_desired({"host": "h", "generation": 0, "devices": {}, "released": {}})
    assert state == DesiredState("h", 0, {}, {})


def test_an_upper_case_mac_is_read_in_the_kernel_s_lower_case():
    state = parse_desired(_with(_device(mac="FA:16:3E:12:34:56")))
    assert state.claimed[PciAddress.parse(VF)].settings.mac == "fa:16:3e:12:34:56"


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (_device(mac="01:00:5e:00:00:01"), f"devices[{VF}].mac", "multicast"),
        (_device(mac="00:00:00:00:00:00"), f"devices[{VF}].mac", "all zeros"),
        (_device(mac="fa:16:3e:12:34"), f"devices[{VF}].mac", "six hex octets"),
        (_device(vlan=4095), f"devices[{VF}].vlan", "4095 is reserved"),
        (_device(vlan=-1), f"devices[{VF}].vlan", "negative"),
        (_device(qos=8), f"devices[{VF}].qos", "0-7"),
        (_device(vlan_proto="802.1X"), f"devices[{VF}].vlan_proto", "802.1ad"),
        (_device(max_tx_rate=-10), f"devices[{VF}].max_tx_rate", "negative"),
        (_device(min_tx_rate=-1), f"devices[{VF}].min_tx_rate", "negative"),
        (_device(min_tx_rate=20, max_tx_rate=10), f"devices[{VF}].min_tx_rate", "above"),
        (_device(link_state="up"), f"devices[{VF}].link_state", "auto, enable, disable"),
        (_device(mtu=67), f"devices[{VF}].mtu", "68-65535"),
        (_device(vlan="100"), f"devices[{VF}].vlan", "integer"),
        (_device(spoofchk="yes"), f"devices[{VF}].spoofchk", "boolean"),
        (_device(claim_generation=-1), f"devices[{VF}].claim_generation", "greater than"),
        (_device(owner=""), f"devices[{VF}].owner", "at least 1"),
        (_device(colour="blue"), f"devices[{VF}].colour", "Extra inputs"),
        (_device(attach={"kind": "vm"}), f"devices[{VF}].attach", "does not match"),
        (_device(attach={"kind": "netns"}), f"devices[{VF}].attach.name", "required"),
        (_device(attach={"kind": "libvirt", "name": ""}), f"devices[{VF}].attach.name", "at least"),
        (lambda d: d["devices"][VF].pop("vlan"), f"devices[{VF}].vlan", "required"),
        (lambda d: d["devices"].update({"3b:02.1x": d["devices"][VF]}), "devices[3b:02.1x]", "hex"),
        (lambda d: d["released"].update({VF: 6}), f"released[{VF}]", "also claimed"),
        (lambda d: d["released"].update({"0000:3b:02.3": -1}), "released[0000:3b:02.3]", "greater"),
        (lambda d: d.pop("released"), "released", "required"),
        (lambda d: d.update(generation=-1), "generation", "greater"),
        (lambda d: d.update(extra=1), "extra", "Extra inputs"),
        (_device(attach=NETNS_ATTACH | {"addresses": ["10.0.0.5"]}),
         f"devices[{VF}].attach.addresses[0]", "prefix length"),
        (_device(attach=NETNS_ATTACH | {"addresses": ["10.0.0.500/24"]}),
         f"devices[{VF}].attach.addresses[0]", "prefix length"),
        (_device(attach=NETNS_ATTACH | {"addresses": [5]}),
         f"devices[{VF}].attach.addresses[0]", "string"),
        (_device(attach=NETNS_ATTACH | {"routes": [{"dst": "default"}]}),
         f"devices[{VF}].attach.routes[0].gateway", "needs a gateway"),
        (_device(attach=NETNS_ATTACH | {"routes": [{"dst": "10.0.0.0/33", "gateway": None}]}),
         f"devices[{VF}].attach.routes[0].dst", "neither"),
        (_device(attach=NETNS_ATTACH | {"routes": [{"dst": "10.0.0.0/8", "gateway": "fe80::1"}]}),
         f"devices[{VF}].attach.routes[0].gateway", "IPv6 gateway for an IPv4"),
        (_device(attach=NETNS_ATTACH | {"routes": [{"dst": "default", "via": "10.0.0.1"}]}),
         f"devices[{VF}].attach.routes[0].via", "Extra inputs"),
        (_device(attach={"kind": "libvirt", "name": "vm", "vnic_type": "normal"}),
         f"devices[{VF}].attach.vnic_type", "direct, macvtap"),
        (_device(attach={"kind": "host", "instance": "6f1c"}),
         f"devices[{VF}].attach.instance", "Extra inputs"),
        (_instance(vcpus=0), "instances[6f1c].vcpus", "outside 1-"),
        (_instance(vcpus="2"), "instances[6f1c].vcpus", "integer"),
        (_instance(memory_mib=-1), "instances[6f1c].memory_mib", "negative"),
        (_instance(numa_cells=-1), "instances[6f1c].numa_cells", "negative"),
        (_instance(kind="pod"), "instances[6f1c].kind", "vm, container"),
        (_instance(state="paused"), "instances[6f1c].state", "running, suspended"),
        (_instance(hostdevs=["af:00"]), "instances[6f1c].hostdevs[0]", ""),
        (_instance(flavor="m1"), "instances[6f1c].flavor", "Extra inputs"),
        (lambda d: _instance()(d) or d["instances"]["6f1c"].pop("bridge_ports"),
         "instances[6f1c].bridge_ports", "required"),
        (_bridge_port(mac="ff:ff:ff:ff:ff:ff"), "instances[6f1c].bridge_ports[0].mac", "broadcast"),
        (_bridge_port(mtu=65536), "instances[6f1c].bridge_ports[0].mtu", "68-65535"),
        (_bridge_port(bridge=""), "instances[6f1c].bridge_ports[0].bridge", "at least 1"),
        (_bridge_port(ifname="a-name-too-long-for-linux"),
         "instances[6f1c].bridge_ports[0].ifname", "at most 15"),
        (_bridge_port(addresses=["10.1.0.4/40"]),
         "instances[6f1c].bridge_ports[0].addresses[0]", "prefix length"),
    ],
)  # fmt: skip
def test_a_bad_value_is_refused_naming_its_path_and_why(change, field, words):
    with pytest.raises(ValidationError) as error:
        parse_desired(_with(change))
    assert error.value.field == field
    assert words in error.value.reason


def test_a_document_that_is_not_an_object_is_refused():
    with pytest.raises(ValidationError) as error:
        parse_desired(["not", "an", "object"])
    assert error.value.field == "desired state"

"""The desired-state document: read as the server writes it, every bad value refused by path."""

from __future__ import annotations

import copy

import pytest

from vfnet.agent.desired import AttachKind, Attachment, DesiredState, parse_desired
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
            "attach": {"kind": "netns", "name": "cni-5d2a", "ifname": "net1"},
        }
    },
    "released": {"0000:3b:02.2": 6},
}


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


@pytest.mark.parametrize(
    "attach",
    [
        {"kind": "host"},
        {"kind": "netns", "name": "cni-1", "ifname": None},
        {"kind": "libvirt", "name": "instance-00000001"},
    ],
)
def test_a_document_written_back_is_the_document_read(attach):
    document = _with(_device(attach=attach, mtu=None))
    assert parse_desired(document).to_json() == document


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
    ],
)
def test_a_bad_value_is_refused_naming_its_path_and_why(change, field, words):
    with pytest.raises(ValidationError) as error:
        parse_desired(_with(change))
    assert error.value.field == field
    assert words in error.value.reason


def test_a_document_that_is_not_an_object_is_refused():
    with pytest.raises(ValidationError) as error:
        parse_desired(["not", "an", "object"])
    assert error.value.field == "desired state"

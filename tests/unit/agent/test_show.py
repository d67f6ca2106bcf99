"""``vfnet-agent --show-vfs``: VF tables printed as iproute2 prints them, one case a row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from vfnet.agent.desired import DesiredState, parse_desired
from vfnet.agent.show import show_vfs, show_vms, vf_line
from vfnet.errors import ValidationError
from vfnet.lab.hosts import create_lab_hosts
from vfnet.network.vf_settings import RESET, LinkState, VfSettings

MAC = "fa:16:3e:12:34:56"
BRD = "brd ff:ff:ff:ff:ff:ff"


@pytest.mark.parametrize(
    ("settings", "line"),
    [
        (RESET, f"vf 0     link/ether 00:00:00:00:00:00 {BRD}, spoof checking on, "
                "link-state auto, trust off"),
        (VfSettings(mac=MAC, vlan=100), f"vf 0     link/ether {MAC} {BRD}, vlan 100, "
                                        "spoof checking on, link-state auto, trust off"),
        (VfSettings(mac=MAC, vlan=100, qos=3, vlan_proto="802.1ad"),
         f"vf 0     link/ether {MAC} {BRD}, vlan 100, qos 3, vlan protocol 802.1ad, "
         "spoof checking on, link-state auto, trust off"),
        (VfSettings(mac=MAC, max_tx_rate=10), f"vf 0     link/ether {MAC} {BRD}, tx rate 10 "
         "(Mbps), max_tx_rate 10Mbps, spoof checking on, link-state auto, trust off"),
        (VfSettings(mac=MAC, min_tx_rate=5, max_tx_rate=10),
         f"vf 0     link/ether {MAC} {BRD}, tx rate 10 (Mbps), max_tx_rate 10Mbps, "
         "min_tx_rate 5Mbps, spoof checking on, link-state auto, trust off"),
        (VfSettings(mac=MAC, spoofchk=False, trust=True, link_state=LinkState.DISABLE),
         f"vf 0     link/ether {MAC} {BRD}, spoof checking off, link-state disable, trust on"),
    ],
)  # fmt: skip
def test_a_vf_line_shows_the_fields_iproute2_shows_in_its_order(
    settings: VfSettings, line: str
) -> None:
    assert vf_line(0, settings) == line


def _desired(host: str, claimed: dict[str, dict[str, Any]]) -> DesiredState:
    devices = {
        address: {
            "owner": "instance:c1", "claim_generation": 1, "port_id": "p1", "qos": 0,
            "vlan_proto": "802.1Q", "spoofchk": True, "trust": False, "min_tx_rate": 0,
            "link_state": "auto", "mtu": None, "attach": {"kind": "host"}, "mirror_to": None,
            **settings,
        }
        for address, settings in claimed.items()
    }  # fmt: skip
    return parse_desired({"host": host, "generation": 3, "devices": devices, "released": {}})


def test_the_memory_driver_shows_what_the_desired_state_asks_and_the_rest_at_reset(
    tmp_path: Path,
) -> None:
    host = create_lab_hosts(tmp_path)[0]
    vf1 = "0000:3b:02.1"  # VF 1 of host-1's first PF
    doc = _desired("host-1", {vf1: {"mac": MAC, "vlan": 100, "max_tx_rate": 10}}).to_json()
    text = show_vfs(host.config_path, None, "memory", ["ens1f0"], desired=lambda name: doc)
    lines = text.splitlines()
    assert lines[0] == "# host-1: VF tables, the server's desired state " \
                       "(the memory driver's tables live in its agent)"  # fmt: skip
    assert lines[1].startswith("ens1f0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP")
    assert lines[3] == "    parentbus pci parentdev 0000:3b:00.0"
    assert lines[4] == f"    {vf_line(0, RESET)}"
    assert lines[5] == f"    {vf_line(1, VfSettings(mac=MAC, vlan=100, max_tx_rate=10))}"
    assert len(lines) == 4 + 8  # the PF's 8 VFs, no other PF


def test_without_a_pf_named_every_pf_with_managed_vfs_is_shown(tmp_path: Path) -> None:
    host = create_lab_hosts(tmp_path)[1]  # host-2: both PFs mapped to a physnet
    doc = _desired("host-2", {}).to_json()
    text = show_vfs(host.config_path, None, "memory", [], desired=lambda name: doc)
    parents = [line.split()[-1] for line in text.splitlines() if "parentdev" in line]
    assert parents == ["0000:3b:00.0", "0000:3b:00.1"]


def test_a_pf_not_on_the_host_is_refused_naming_the_option(tmp_path: Path) -> None:
    host = create_lab_hosts(tmp_path)[0]
    with pytest.raises(ValidationError) as refused:
        show_vfs(host.config_path, None, "memory", ["ens9"], desired=lambda name: {})
    assert refused.value.field == "--pf"
    assert "'ens9'" in str(refused.value)


def test_the_memory_driver_without_a_server_says_it_needs_one(tmp_path: Path) -> None:
    host = create_lab_hosts(tmp_path)[0]
    with pytest.raises(ValidationError) as refused:
        show_vfs(host.config_path, None, "memory", [])
    assert refused.value.field == "--server"


def test_a_vms_domain_shows_the_device_of_each_port_as_the_agent_plugs_it(tmp_path: Path) -> None:
    host = create_lab_hosts(tmp_path)[1]  # host-2: VFs with netdevs on both PFs
    direct, macvtap = "0000:3b:00.2", "0000:3b:00.3"  # VFs 0 and 1 of its first PF
    attach = {"kind": "libvirt", "name": "vm-1", "instance": "vm-1"}
    doc = _desired(
        "host-2",
        {
            direct: {
                "mac": MAC,
                "vlan": 100,
                "max_tx_rate": 0,
                "attach": {**attach, "vnic_type": "direct"},
            },
            macvtap: {
                "mac": "fa:16:3e:00:00:02",
                "vlan": 100,
                "max_tx_rate": 0,
                "attach": {**attach, "vnic_type": "macvtap"},
            },
        },
    ).to_json()
    doc["instances"] = {
        "vm-1": {
            "kind": "vm",
            "state": "running",
            "vcpus": 1,
            "memory_mib": 512,
            "numa_cells": 0,
            "hostdevs": [],
            "bridge_ports": [],
        }
    }
    text = show_vms(host.config_path, None, lambda name: doc)
    assert text.splitlines()[1] == "<domain name='vm-1'> devices:"
    assert '<interface type="hostdev" managed="yes">' in text
    assert '<address type="pci" domain="0x0000" bus="0x3b" slot="0x00" function="0x2" />' in text
    assert '<interface type="direct">' in text
    assert '<source dev="ens1f0v1" mode="passthrough" />' in text
    assert "not plugged" not in text


def test_a_port_the_agent_cannot_plug_is_named_with_why(tmp_path: Path) -> None:
    host = create_lab_hosts(tmp_path)[1]
    attach = {"kind": "libvirt", "name": "vm-1", "instance": "vm-1", "vnic_type": "vdpa"}
    doc = _desired(
        "host-2",
        {
            "0000:3b:00.2": {"mac": MAC, "vlan": 0, "max_tx_rate": 0, "attach": attach},
        },
    ).to_json()
    doc["instances"] = {
        "vm-1": {
            "kind": "vm",
            "state": "running",
            "vcpus": 1,
            "memory_mib": 512,
            "numa_cells": 0,
            "hostdevs": [],
            "bridge_ports": [],
        }
    }
    text = show_vms(host.config_path, None, lambda name: doc)
    assert "not plugged: vm vm-1: " in text
    assert "no vDPA device" in text

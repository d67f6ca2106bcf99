"""vfnet-cni calls as a runtime makes them, on a host whose kernel and NIC are kept in memory."""

from __future__ import annotations

import io
import json
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from vfnet.agent.attach.memory_netns import MemoryNamespaces
from vfnet.agent.drivers.memory import MemoryDriver
from vfnet.cni.config import NetConf
from vfnet.cni.host import Host, VfPlace
from vfnet.cni.main import run
from vfnet.cni.protocol import CniError, Code
from vfnet.network.vf_settings import RESET, LinkState, VfAttr, VfSettings

DEVICE = "0000:3b:10.2"
VF_MAC = "02:00:00:00:00:02"
SANDBOX = "/var/run/netns/cni-1"
OTHER_SANDBOX = "/var/run/netns/cni-2"

IPAM = f"""#!{sys.executable}
import json, os, sys
config = json.load(sys.stdin)
log = config["ipam"]["log"]
with open(log, "a") as f:
    f.write(os.environ["CNI_COMMAND"] + "\\n")
if os.environ["CNI_COMMAND"] == "ADD":
    print(json.dumps({{"cniVersion": "1.0.0",
        "ips": [{{"address": "192.0.2.5/24", "gateway": "192.0.2.1"}}],
        "routes": [{{"dst": "0.0.0.0/0"}}], "dns": {{"nameservers": ["192.0.2.53"]}}}}))
"""


@dataclass
class Machine:
    """One host's NIC and kernel, outliving each plugin process as the real ones do."""

    tmp: Path
    driver: MemoryDriver
    ops: MemoryNamespaces

    def host(self, conf: NetConf) -> Host:
        def place(device_id: str) -> VfPlace:
            if device_id != DEVICE:
                raise CniError(Code.INVALID_CONFIG, f"deviceID: no PCI device {device_id}")
            return VfPlace(DEVICE, "ens1f0", 2, "ens1f0v2", None)

        return Host(self.driver, self.ops, place)

    def call(
        self, command: str, netns: str = SANDBOX, container: str = "c1", **conf: Any
    ) -> tuple[int, dict[str, Any] | None]:
        document = {
            "cniVersion": "1.0.0", "name": "net", "type": "vfnet-cni", "deviceID": DEVICE,
            "driver": "memory", "stateDir": str(self.tmp / "state"), **conf,
        }  # fmt: skip
        env = {
            "CNI_COMMAND": command, "CNI_CONTAINERID": container, "CNI_NETNS": netns,
            "CNI_IFNAME": "net1", "CNI_PATH": str(self.tmp / "bin"),
        }  # fmt: skip
        out = io.StringIO()
        status = run(env, json.dumps(document).encode(), out, self.host)
        text = out.getvalue()
        return status, json.loads(text) if text else None

    def vf(self) -> VfSettings:
        return self.driver.tables["ens1f0"][2]

    def names(self, ns: str | None) -> list[str]:
        return [link.name for link in self.ops.links(ns)]


@pytest.fixture
def machine(tmp_path: Path) -> Machine:
    ops = MemoryNamespaces()
    ops.add_link(None, "ens1f0v2", VF_MAC)
    ops.create(SANDBOX)
    ops.create(OTHER_SANDBOX)
    driver = MemoryDriver.with_pfs({"ens1f0": 4})
    (tmp_path / "bin").mkdir()
    plugin = tmp_path / "bin" / "fake-ipam"
    plugin.write_text(IPAM)
    plugin.chmod(plugin.stat().st_mode | stat.S_IEXEC)
    return Machine(tmp_path, driver, ops)


SETTINGS: dict[str, Any] = {
    "vlan": 100,
    "spoofchk": "off",
    "trust": "on",
    "max_tx_rate": 50,
    "mac": "52:54:00:00:00:07",
}


def test_add_sets_the_vf_attaches_it_and_answers_the_result(machine: Machine) -> None:
    status, result = machine.call("ADD", **SETTINGS)
    assert status == 0, result
    assert result is not None
    assert result["interfaces"] == [
        {"name": "net1", "mac": "52:54:00:00:00:07", "sandbox": SANDBOX}
    ]
    assert machine.vf() == VfSettings(
        mac="52:54:00:00:00:07", vlan=100, spoofchk=False, trust=True, max_tx_rate=50
    )
    assert machine.names(SANDBOX) == ["net1"]
    assert "ens1f0v2" not in machine.names(None)


def test_add_then_del_gives_the_vf_back_as_it_was(machine: Machine) -> None:
    machine.call("ADD", **SETTINGS)
    assert machine.call("DEL", **SETTINGS) == (0, None)
    assert machine.vf() == RESET
    assert machine.names(SANDBOX) == []
    assert [(link.name, link.mac) for link in machine.ops.links(None)] == [("ens1f0v2", VF_MAC)]


def test_del_restores_only_what_add_changed_and_always_the_mac(machine: Machine) -> None:
    before = VfSettings(trust=True, link_state=LinkState.ENABLE, mac="02:11:11:11:11:11")
    machine.driver.tables["ens1f0"][2] = before
    machine.call("ADD", vlan=7, mac="52:54:00:00:00:07")
    machine.driver.apply("ens1f0", 2, VfSettings(trust=False), (VfAttr.TRUST,))  # not ours
    machine.call("DEL", vlan=7)
    assert machine.vf() == VfSettings(
        trust=False, link_state=LinkState.ENABLE, mac="02:11:11:11:11:11"
    )


def test_del_of_something_never_added_succeeds_with_no_output(machine: Machine) -> None:
    assert machine.call("DEL") == (0, None)
    assert machine.call("DEL", netns="") == (0, None)


def test_del_twice_succeeds_twice(machine: Machine) -> None:
    machine.call("ADD")
    assert machine.call("DEL") == (0, None)
    assert machine.call("DEL") == (0, None)


def test_del_after_the_sandbox_vanished_brings_the_vf_home(machine: Machine) -> None:
    machine.call("ADD", vlan=5)
    machine.ops.delete(SANDBOX)
    assert machine.call("DEL", vlan=5) == (0, None)
    assert machine.names(None) == ["ens1f0v2"]
    assert machine.vf() == RESET


def test_add_twice_is_the_same_add(machine: Machine) -> None:
    first = machine.call("ADD", **SETTINGS)
    assert machine.call("ADD", **SETTINGS) == first
    machine.call("DEL", **SETTINGS)
    assert machine.vf() == RESET


def test_a_vf_held_by_a_live_sandbox_is_refused_to_another(machine: Machine) -> None:
    machine.call("ADD")
    status, error = machine.call("ADD", netns=OTHER_SANDBOX, container="c2")
    assert status == 1 and error is not None
    assert (error["code"], SANDBOX in error["msg"]) == (Code.VF_ALLOCATED, True)


def test_a_vf_whose_sandbox_vanished_without_del_can_be_added_again(machine: Machine) -> None:
    machine.call("ADD")
    machine.ops.delete(SANDBOX)
    status, result = machine.call("ADD", netns=OTHER_SANDBOX, container="c2")
    assert status == 0, result
    assert machine.names(OTHER_SANDBOX) == ["net1"]


def test_add_into_a_missing_sandbox_is_code_3(machine: Machine) -> None:
    status, error = machine.call("ADD", netns="/var/run/netns/nope")
    assert (status, error and error["code"]) == (1, Code.UNKNOWN_CONTAINER)


def test_add_of_an_unknown_device_is_code_7_naming_device_id(machine: Machine) -> None:
    status, error = machine.call("ADD", deviceID="0000:3b:10.7")
    assert error is not None
    assert (status, error["code"], error["msg"].startswith("deviceID")) == (1, 7, True)


def test_a_refused_setting_fails_add_and_leaves_nothing_behind(machine: Machine) -> None:
    machine.driver.refusals["ens1f0"] = {VfAttr.RATE: "EOPNOTSUPP: Operation not supported"}
    status, error = machine.call("ADD", vlan=9, min_tx_rate=10)
    assert error is not None
    assert (status, error["code"], "rate: EOPNOTSUPP" in error["msg"]) == (1, 101, True)
    assert machine.vf() == RESET
    assert machine.names(None) == ["ens1f0v2"]
    assert machine.call("DEL") == (0, None)


def test_ipam_addresses_reach_the_sandbox_and_are_released_on_del(machine: Machine) -> None:
    ipam_log = machine.tmp / "ipam.log"
    ipam = {"type": "fake-ipam", "log": str(ipam_log)}
    status, result = machine.call("ADD", ipam=ipam)
    assert status == 0 and result is not None, result
    assert result["ips"] == [{"address": "192.0.2.5/24", "gateway": "192.0.2.1", "interface": 0}]
    assert result["dns"] == {"nameservers": ["192.0.2.53"]}
    assert machine.ops.addresses(SANDBOX, "net1") == ["192.0.2.5/24"]
    routes = machine.ops.routes(SANDBOX, "net1")
    assert any(r.dst == "default" and r.gateway == "192.0.2.1" for r in routes)
    assert machine.call("CHECK", ipam=ipam, prevResult=result) == (0, None)
    machine.call("DEL", ipam=ipam)
    assert ipam_log.read_text().split() == ["ADD", "CHECK", "DEL"]


def test_an_ipam_plugin_missing_from_cni_path_is_named(machine: Machine) -> None:
    status, error = machine.call("ADD", ipam={"type": "host-local"})
    assert error is not None
    assert (status, error["code"], "host-local" in error["msg"]) == (1, 7, True)
    assert machine.names(None) == ["ens1f0v2"]


def test_check_finds_the_sandbox_as_add_left_it_and_says_what_changed(machine: Machine) -> None:
    _, result = machine.call("ADD", vlan=3)
    assert machine.call("CHECK", vlan=3, prevResult=result) == (0, None)
    machine.driver.apply("ens1f0", 2, VfSettings(vlan=4), (VfAttr.VLAN,))
    status, error = machine.call("CHECK", vlan=3, prevResult=result)
    assert error is not None
    assert (status, error["code"], "vlan changed" in error["msg"]) == (1, 104, True)
    machine.ops.set_link(SANDBOX, "net1", up=False)
    _, error = machine.call("CHECK", vlan=4, prevResult=result)
    assert error is not None and "down" in error["msg"]


def test_check_of_something_never_added_fails(machine: Machine) -> None:
    status, error = machine.call("CHECK")
    assert (status, error and error["code"]) == (1, Code.CHECK_FAILED)


def test_version_lists_the_supported_versions(machine: Machine) -> None:
    out = io.StringIO()
    assert run({"CNI_COMMAND": "VERSION"}, b'{"cniVersion": "0.4.0"}', out, machine.host) == 0
    assert json.loads(out.getvalue()) == {
        "cniVersion": "0.4.0",
        "supportedVersions": ["0.4.0", "1.0.0"],
    }


def test_an_error_answers_in_the_configs_version(machine: Machine) -> None:
    status, error = machine.call("ADD", cniVersion="0.4.0", vlan="7")
    assert (status, error) == (
        1,
        {
            "cniVersion": "0.4.0",
            "code": 7,
            "msg": "vlan: Input should be a valid integer (got '7')",
            "details": "",
        },
    )


def test_del_puts_back_the_netdev_mac_a_driver_changed_while_the_vf_was_home(
    machine: Machine,
) -> None:
    ops, memory = machine.ops, machine.driver

    class MacFollowingDriver(MemoryDriver):
        """As the eswitch does: a MAC assigned while the VF is home is its netdev's too."""

        def apply(self, pf: str, vf: int, wanted: VfSettings, attrs: tuple[VfAttr, ...]) -> Any:
            home = "ens1f0v2" in [link.name for link in ops.links(None)]
            if VfAttr.MAC in attrs and home and wanted.mac != RESET.mac:
                ops.set_link(None, "ens1f0v2", mac=wanted.mac)
            return memory.apply(pf, vf, wanted, attrs)

    machine.driver = MacFollowingDriver()
    machine.driver.tables = memory.tables
    machine.call("ADD", mac="52:54:00:00:00:07")
    assert machine.ops.links(SANDBOX)[0].mac == "52:54:00:00:00:07"
    machine.call("DEL")
    assert [(link.name, link.mac) for link in ops.links(None)] == [("ens1f0v2", VF_MAC)]

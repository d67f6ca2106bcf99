"""The vfnet-cni executable as a runtime runs it, on an emulated host's switch: real packets."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from vfnet.agent.drivers.eswitch import EswitchDriver
from vfnet.agent.drivers.eswitch_topology import HostSwitch, PfPorts, ensure, teardown
from vfnet.client import Client
from vfnet.client.reports import device_report
from vfnet.lab.hostspec import HostSpec
from vfnet.lab.server import LabServer
from vfnet.lab.sysfs import generate_host
from vfnet.network.vf_settings import RESET, ZERO_MAC, VfSettings
from vfnet.pci.devices import DeviceType, HostDevices
from vfnet.pci.selection import SelectedDevice

pytestmark = pytest.mark.privileged

PLUGIN = shutil.which("vfnet-cni") or str(Path(sys.executable).parent / "vfnet-cni")
PHYSNET = "physnet1"

# A static IPAM plugin, as the reference plugins' "static" answers: the addresses it is given.
STATIC_IPAM = f"""#!{sys.executable}
import json, os, sys
config = json.load(sys.stdin)
if os.environ["CNI_COMMAND"] == "ADD":
    ipam = config["ipam"]
    print(json.dumps({{"cniVersion": "1.0.0", "ips": ipam["addresses"],
                      "routes": ipam.get("routes", [])}}))
"""


def ip_json(*argv: str) -> list[dict[str, Any]]:
    done = subprocess.run(["ip", "-j", *argv], capture_output=True, text=True, check=True)
    found: list[dict[str, Any]] = json.loads(done.stdout or "[]")
    return found


@dataclass
class Site:
    """A generated host with its switch, sandboxes and the plugin's state: all removed after."""

    tmp: Path
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    sandboxes: list[str] = field(default_factory=list)
    switch: HostSwitch | None = None
    vfs: dict[str, str] = field(default_factory=dict)  # deviceID -> VF netdev
    devices: HostDevices | None = None

    def build(self) -> None:
        devices = generate_host(HostSpec(nic="82576", pfs=1, vfs=3), self.tmp / "sysfs")
        self.devices = devices
        (pf,) = devices.pfs()
        vfs = devices.vfs_of(pf.address)
        self.vfs = {str(vf.address): vf.ifname or "" for vf in vfs}
        ports = PfPorts(pf.ifname or "", PHYSNET, tuple(self.vfs.values()))
        self.switch = HostSwitch(f"t{self.tag}", (ports,), f"vfnet-tf{self.tag}")
        ensure(self.switch)
        bin_dir = self.tmp / "bin"
        bin_dir.mkdir()
        (bin_dir / "static").write_text(STATIC_IPAM)
        (bin_dir / "static").chmod(0o755 | stat.S_IEXEC)

    def sandbox(self) -> str:
        name = f"vfnet-ts{self.tag}{len(self.sandboxes)}"
        subprocess.run(["ip", "netns", "add", name], check=True)
        self.sandboxes.append(name)
        return f"/run/netns/{name}"

    def config(self, device_id: str, address: str | None = None, **keys: Any) -> dict[str, Any]:
        assert self.switch is not None
        conf: dict[str, Any] = {
            "cniVersion": "1.0.0", "name": "sriov-net", "type": "vfnet-cni",
            "deviceID": device_id, "driver": "eswitch",
            "sysfsRoot": str(self.tmp / "sysfs"), "stateDir": str(self.tmp / "state"),
            "eswitch": {"host": self.switch.host, "physnets": {"ens1f0": PHYSNET},
                        "fabric": self.switch.fabric},
            **keys,
        }  # fmt: skip
        if address is not None:
            conf["ipam"] = {"type": "static", "addresses": [{"address": address}]}
        return conf

    def port_config(self, port: str, server: Server) -> dict[str, Any]:
        """A config naming a vfnet port; hostName is the switch's host, the default."""
        conf = self.config("", port=port, server=server.lab.url, tokenFile=str(server.token))
        del conf["deviceID"]
        return conf

    def report(self, server: Server) -> str:
        """Registers this host with its PF and VFs on physnet1, as its agent would; its name."""
        assert self.switch is not None and self.devices is not None
        tags = {"physical_network": PHYSNET}
        report = [
            device_report(SelectedDevice(device, tags))
            for device in self.devices
            if device.dev_type in (DeviceType.PF, DeviceType.VF)
        ]
        server.admin.register_host(self.switch.host, physnets=[PHYSNET])
        server.admin.report_inventory(self.switch.host, 1, report)
        return self.switch.host

    def cni(
        self, command: str, conf: dict[str, Any], netns: str, container: str = "ctr"
    ) -> tuple[int, dict[str, Any] | None]:
        env = {
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "CNI_COMMAND": command, "CNI_CONTAINERID": container, "CNI_NETNS": netns,
            "CNI_IFNAME": "net1", "CNI_PATH": str(self.tmp / "bin"),
        }  # fmt: skip
        done = subprocess.run(
            [PLUGIN], input=json.dumps(conf), env=env, capture_output=True, text=True, check=False
        )
        return done.returncode, json.loads(done.stdout) if done.stdout.strip() else None

    def vf_table(self) -> dict[int, VfSettings]:
        assert self.switch is not None
        driver = EswitchDriver(self.switch)
        try:
            return dict(driver.read("ens1f0"))
        finally:
            driver.close()

    def host_links(self) -> list[str]:
        assert self.switch is not None
        return [link["ifname"] for link in ip_json("-n", self.switch.netns, "link", "show")]

    def close(self) -> None:
        for name in self.sandboxes:
            subprocess.run(["ip", "netns", "delete", name], check=False)
        if self.switch is not None:
            teardown(self.switch)


@dataclass
class Server:
    """A vfnet-server process, its admin (token file too) and a VLAN 100 network."""

    lab: LabServer
    admin: Client
    token: Path
    network_id: str

    def port(self, host: str | None = None) -> dict[str, Any]:
        body = {"network_id": self.network_id, "binding:vnic_type": "direct"}
        return self.admin.create_port(body | ({"binding:host_id": host} if host else {}))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    where = tmp_path_factory.mktemp("cni-server")
    lab = LabServer(where)
    with lab:
        token = where / "admin.token"
        token.write_text(lab.admin_token() + "\n")
        admin = Client(lab.url, token.read_text().strip())
        network = admin.create_network(
            {"name": "sriov-net", "provider:network_type": "vlan",
             "provider:physical_network": PHYSNET, "provider:segmentation_id": 100}
        )  # fmt: skip
        admin.create_subnet({"network_id": network["id"], "cidr": "192.0.2.0/24"})
        with admin:
            yield Server(lab, admin, token, network["id"])


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    made = Site(tmp_path)
    try:
        made.build()
        yield made
    finally:
        made.close()


def test_two_sandboxes_added_on_one_vlan_ping_and_del_gives_both_vfs_back(site: Site) -> None:
    (first, second, _) = site.vfs
    a, b = site.sandbox(), site.sandbox()
    conf_a = site.config(first, "192.0.2.11/24", vlan=100, mac="52:54:00:00:0a:01")
    conf_b = site.config(second, "192.0.2.12/24", vlan=100, spoofchk="off")
    status, result = site.cni("ADD", conf_a, a, "ctr-a")
    assert status == 0, result
    assert result is not None
    assert result["interfaces"] == [{"name": "net1", "mac": "52:54:00:00:0a:01", "sandbox": a}]
    assert site.cni("ADD", conf_b, b, "ctr-b")[0] == 0
    (link,) = ip_json("-n", Path(a).name, "link", "show", "net1")
    assert (link["address"], "UP" in link["flags"]) == ("52:54:00:00:0a:01", True)
    ping = subprocess.run(
        ["ip", "netns", "exec", Path(a).name, "ping", "-c", "2", "-W", "2", "192.0.2.12"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert ping.returncode == 0, ping.stdout + ping.stderr
    assert site.cni("CHECK", {**conf_a, "prevResult": result}, a, "ctr-a") == (0, None)
    assert site.vf_table()[0].vlan == 100

    assert site.cni("DEL", conf_a, a, "ctr-a") == (0, None)
    assert site.cni("DEL", conf_b, b, "ctr-b") == (0, None)
    table = site.vf_table()
    assert (table[0].vlan, table[0].mac, table[1].spoofchk) == (0, ZERO_MAC, True)
    assert {site.vfs[first], site.vfs[second]} <= set(site.host_links())
    assert site.cni("DEL", conf_a, a, "ctr-a") == (0, None)


def test_add_into_a_sandbox_whose_vf_another_live_sandbox_holds_is_refused(site: Site) -> None:
    device = next(iter(site.vfs))
    a, b = site.sandbox(), site.sandbox()
    assert site.cni("ADD", site.config(device), a, "ctr-a")[0] == 0
    status, error = site.cni("ADD", site.config(device), b, "ctr-b")
    assert (status, error and error["code"]) == (1, 100)
    assert site.cni("DEL", site.config(device), a, "ctr-a") == (0, None)


def test_del_after_the_sandbox_vanished_succeeds_and_the_switch_makes_the_vf_again(
    site: Site,
) -> None:
    device = next(iter(site.vfs))
    netdev = site.vfs[device]
    a = site.sandbox()
    assert site.cni("ADD", site.config(device, vlan=7), a, "ctr-a")[0] == 0
    subprocess.run(["ip", "netns", "delete", Path(a).name], check=True)
    deadline = time.monotonic() + 10  # the kernel frees a namespace's links after it goes
    while "ens1f0r0" in site.host_links() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert site.cni("DEL", site.config(device, vlan=7), a, "ctr-a") == (0, None)
    assert netdev not in site.host_links()
    assert site.switch is not None
    ensure(site.switch)
    assert netdev in site.host_links()
    assert site.cni("ADD", site.config(device), site.sandbox(), "ctr-b")[0] == 0


def test_bad_config_from_a_runtime_is_a_cni_error_on_stdout(site: Site) -> None:
    device = next(iter(site.vfs))
    status, error = site.cni("ADD", site.config(device, vlan="100"), site.sandbox())
    assert status == 1
    assert error is not None
    assert (error["cniVersion"], error["code"], error["msg"][:5]) == ("1.0.0", 7, "vlan:")


def test_two_sandboxes_given_vfnet_ports_ping_on_the_ports_addresses(
    site: Site, server: Server
) -> None:
    host = site.report(server)
    first, second = server.port(), server.port()
    a, b = site.sandbox(), site.sandbox()
    status, result = site.cni("ADD", site.port_config(first["id"], server), a, "ctr-a")
    assert status == 0, result
    assert site.cni("ADD", site.port_config(second["id"], server), b, "ctr-b")[0] == 0
    address_a = first["fixed_ips"][0]["ip_address"]
    address_b = second["fixed_ips"][0]["ip_address"]
    assert result is not None
    assert result["ips"] == [{"address": f"{address_a}/24", "gateway": "192.0.2.1", "interface": 0}]
    (link,) = ip_json("-n", Path(a).name, "link", "show", "net1")
    (inet,) = ip_json("-n", Path(a).name, "-4", "address", "show", "net1")
    assert (link["address"], inet["addr_info"][0]["local"]) == (first["mac_address"], address_a)
    ping = subprocess.run(
        ["ip", "netns", "exec", Path(a).name, "ping", "-c", "2", "-W", "2", address_b],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert ping.returncode == 0, ping.stdout + ping.stderr
    bound = server.admin.get_port(first["id"])
    assert (bound["binding:host_id"], bound["device_id"]) == (host, "ctr-a")
    index = _vf_index(site, bound["binding:profile"]["pci_slot"])
    assert site.vf_table()[index].vlan == 100

    conf = site.port_config(first["id"], server)
    assert site.cni("DEL", conf, a, "ctr-a") == (0, None)
    assert server.admin.get_port(first["id"])["binding:host_id"] is None
    assert site.vf_table()[index] == RESET
    assert site.vfs[bound["binding:profile"]["pci_slot"]] in site.host_links()
    assert site.cni("DEL", conf, a, "ctr-a") == (0, None)
    assert site.cni("DEL", site.port_config(second["id"], server), b, "ctr-b") == (0, None)


def test_del_of_a_vfnet_port_after_its_sandbox_was_deleted_unbinds_it(
    site: Site, server: Server
) -> None:
    site.report(server)
    port = server.port()
    conf = site.port_config(port["id"], server)
    a = site.sandbox()
    assert site.cni("ADD", conf, a, "ctr-a")[0] == 0
    subprocess.run(["ip", "netns", "delete", Path(a).name], check=True)
    assert site.cni("DEL", conf, a, "ctr-a") == (0, None)
    assert server.admin.get_port(port["id"])["binding:host_id"] is None
    assert site.cni("DEL", conf, a, "ctr-a") == (0, None)
    assert site.switch is not None
    ensure(site.switch)  # the switch makes the VF that died with the sandbox again
    assert site.cni("ADD", conf, site.sandbox(), "ctr-b")[0] == 0


def _vf_index(site: Site, address: str) -> int:
    assert site.devices is not None
    index = next(d.vf_index for d in site.devices if str(d.address) == address)
    assert index is not None
    return index

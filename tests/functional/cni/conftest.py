"""vfnet-cni naming vfnet ports, against the API in-process on a real store.

The node is host ``compute-1``: a generated sysfs (one Intel 82576 PF, three VFs) whose
inventory its agent token reports, and a NIC and kernel kept in memory that outlive
each plugin call as the real ones do. An admin has made a VLAN network with a subnet.
"""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from vfnet.agent.attach.memory_netns import MemoryNamespaces
from vfnet.agent.drivers.memory import MemoryDriver
from vfnet.api.app import create_app
from vfnet.api.settings import ApiSettings
from vfnet.client import Client
from vfnet.client.reports import device_report
from vfnet.cni.config import NetConf
from vfnet.cni.host import Host, locate
from vfnet.cni.main import run
from vfnet.cni.server import Connector
from vfnet.lab.hostspec import HostSpec
from vfnet.lab.sysfs import generate_host
from vfnet.network.vf_settings import VfSettings
from vfnet.pci.devices import DeviceType, HostDevices
from vfnet.pci.selection import SelectedDevice
from vfnet.store import Store

HOST = "compute-1"
SANDBOX = "/var/run/netns/cni-1"
OTHER_SANDBOX = "/var/run/netns/cni-2"
URL = "http://testserver"


@dataclass
class Node:
    tmp: Path
    http: TestClient
    devices: HostDevices
    driver: MemoryDriver
    ops: MemoryNamespaces
    network_id: str = ""
    subnet_id: str = ""

    def connect(self, url: str, token: str) -> Client:
        """The plugin's way to the server: the app in-process, no socket."""
        return Client(url, token, transport=self.http._transport)

    def client(self, caller: str = "admin") -> Client:
        return self.connect(URL, self.token_file(caller).read_text())

    def token_file(self, caller: str) -> Path:
        return self.tmp / f"{caller}.token"

    def host(self, conf: NetConf) -> Host:
        return Host(self.driver, self.ops, lambda device_id: locate(self.devices, device_id, None))

    def conf(self, **keys: Any) -> dict[str, Any]:
        return {
            "cniVersion": "1.0.0", "name": "vfnet", "type": "vfnet-cni", "driver": "memory",
            "stateDir": str(self.tmp / "state"), "server": URL, "hostName": HOST,
            "tokenFile": str(self.token_file("admin")), **keys,
        }  # fmt: skip

    def call(
        self,
        command: str,
        conf: dict[str, Any],
        netns: str = SANDBOX,
        container: str = "c1",
        environ: dict[str, str] | None = None,
        connect: Connector | None = None,
    ) -> tuple[int, dict[str, Any] | None]:
        """One plugin call; ``connect`` None reaches the app in-process whatever the URL."""
        env = {
            "CNI_COMMAND": command, "CNI_CONTAINERID": container, "CNI_NETNS": netns,
            "CNI_IFNAME": "net1", "CNI_PATH": str(self.tmp), **(environ or {}),
        }  # fmt: skip
        out = io.StringIO()
        status = run(env, json.dumps(conf).encode(), out, self.host, connect or self.connect)
        text = out.getvalue()
        return status, json.loads(text) if text else None

    def report(self, host: str, caller: str = "admin") -> None:
        """What ``host``'s agent reports: the PF and its VFs, on physnet1, trusted."""
        tags = {"physical_network": "physnet1", "trusted": "true"}
        kinds = (DeviceType.PF, DeviceType.VF)
        report = [
            device_report(SelectedDevice(d, tags)) for d in self.devices if d.dev_type in kinds
        ]
        with self.client(caller) as client:
            client.register_host(host, physnets=["physnet1"])
            client.report_inventory(host, 1, report)

    def new_port(self, **fields: Any) -> dict[str, Any]:
        body = {"network_id": self.network_id, "binding:vnic_type": "direct", **fields}
        with self.client() as admin:
            return admin.create_port(body)

    def port(self, port_id: str) -> dict[str, Any]:
        with self.client() as admin:
            return admin.get_port(port_id)

    def vf(self, address: str) -> VfSettings:
        device = self.devices[_address(self.devices, address)]
        assert device.vf_index is not None
        return self.driver.tables["ens1f0"][device.vf_index]

    def netdev(self, address: str) -> str:
        return self.devices[_address(self.devices, address)].ifname or ""

    def names(self, ns: str | None) -> list[str]:
        return [link.name for link in self.ops.links(ns)]


def _address(devices: HostDevices, text: str) -> Any:
    return next(d.address for d in devices if str(d.address) == text)


@pytest.fixture
def node(store: Store, tmp_path: Path) -> Iterator[Node]:
    devices = generate_host(HostSpec(nic="82576", pfs=1, vfs=3), tmp_path / "sysfs")
    ops = MemoryNamespaces()
    for vf in devices:
        if vf.vf_index is not None and vf.ifname:
            ops.add_link(None, vf.ifname, vf.netdevs[0].mac or "")
    ops.create(SANDBOX)
    ops.create(OTHER_SANDBOX)
    driver = MemoryDriver.with_pfs({"ens1f0": 3})
    settings = ApiSettings()
    with TestClient(create_app(store, settings), raise_server_exceptions=False) as http:
        made = Node(tmp_path, http, devices, driver, ops)
        for caller, role, project, host in (
            ("admin", "admin", None, None),
            ("member", "member", "blue", None),
            ("agent", "agent", None, HOST),
        ):
            token, _ = store.create_token(role, project=project, host=host, name=caller)
            made.token_file(caller).write_text(token + "\n")
        made.report(HOST, "agent")
        with made.client() as admin:
            made.network_id = admin.create_network(
                {"name": "sriov-net", "provider:network_type": "vlan",
                 "provider:physical_network": "physnet1", "provider:segmentation_id": 100,
                 "shared": True}
            )["id"]  # fmt: skip
            subnet = admin.create_subnet({"network_id": made.network_id, "cidr": "192.0.2.0/24"})
            made.subnet_id = subnet["id"]
        yield made


def closed_url() -> str:
    """A loopback URL nobody listens on: a server that is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"

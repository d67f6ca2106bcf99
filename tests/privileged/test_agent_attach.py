"""Containers' VFs through a real vfnet-server and an eswitch agent: into real namespaces and home.

Each test gets an emulated host of its own on a physnet of its own (so instances are
placed there and nowhere else), with a looping ``vfnet-agent --driver eswitch``. A
container instance's direct port puts a VF netdev into ``vfnet-c-<instance id>`` as
``eth0``, with the port's address, the network's MTU and the subnet's default route;
real packets cross the host's switch between two containers; deleting the instance
brings the VF home, reset; a namespace deleted under the agent is made again and its
VF attached again.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.functional.agent.processes import Host, Running, agent_command, eventually, make_host
from vfnet.client import Client
from vfnet.lab.server import LabServer

pytestmark = pytest.mark.privileged

PF = "ens1f0"
MTU = 1400


def ip_json(*argv: str) -> list[dict[str, Any]]:
    done = subprocess.run(["ip", "-j", *argv], capture_output=True, text=True, check=False)
    return json.loads(done.stdout or "[]") if done.returncode == 0 else []


def netns_list() -> set[str]:
    return {ns["name"] for ns in ip_json("netns", "list")}


@dataclass
class Site:
    """An emulated host, its agent, a VLAN network on its own physnet, and what was made."""

    host: Host
    agent: Running
    physnet: str
    network: dict[str, Any]
    instances: list[str] = field(default_factory=list)

    @property
    def switch_ns(self) -> str:
        return f"vfnet-{self.host.name}"

    def container(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """A container instance with one direct port on the network: (instance, port)."""
        port = self.host.admin.create_port(
            {"network_id": self.network["id"], "binding:vnic_type": "direct"}
        )
        made = self.host.admin.create_instance(
            {"name": f"c-{uuid.uuid4().hex[:6]}", "kind": "container", "ports": [port["id"]]}
        )
        assert made["host"] == self.host.name, made
        self.instances.append(made["id"])
        return made, self.host.admin.get_port(port["id"])  # bound: its pci_slot

    def active(self, port: dict[str, Any]) -> bool:
        return self.host.admin.get_port(port["id"])["status"] == "ACTIVE"

    def eth0(self, instance: dict[str, Any]) -> dict[str, Any] | None:
        """``eth0`` in the instance's namespace as ``ip -d -j addr`` shows it, or None."""
        shown = ip_json("-n", f"vfnet-c-{instance['id']}", "-d", "addr", "show", "dev", "eth0")
        return shown[0] if shown else None

    def log(self) -> Path:
        return self.agent.log_path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LabServer, Client]]:
    lab = LabServer(tmp_path_factory.mktemp("attach-agent-server"))
    with lab, Client(lab.url, lab.admin_token()) as admin:
        yield lab, admin


@pytest.fixture
def site(server: tuple[LabServer, Client], tmp_path: Path) -> Iterator[Site]:
    host = make_host(*server, tmp_path, prefix="att")
    physnet = f"p{uuid.uuid4().hex[:6]}"  # placed here only: no other host has it
    host.write_config(f"{physnet}:{PF}", {PF: 4})
    agent = Running(host, tmp_path / "agent.log", driver="eswitch")
    made = Site(host, agent, physnet, {})
    try:
        eventually(lambda: len(host.devices()) == 4, agent.log_path)
        made.network = host.admin.create_network(
            {"name": host.name, "shared": True, "provider:network_type": "vlan",
             "provider:physical_network": physnet, "provider:segmentation_id": 100, "mtu": MTU}
        )  # fmt: skip
        host.admin.create_subnet({"network_id": made.network["id"], "cidr": "10.77.0.0/24"})
        yield made
    finally:
        code = agent.stop()
        for instance in made.instances:
            subprocess.run(["ip", "netns", "del", f"vfnet-c-{instance}"], capture_output=True)
        command = [*agent_command(), "--config", str(host.config), "--teardown"]
        subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert code == 0, agent.log()


def ping(site: Site, instance: dict[str, Any], address: str) -> bool:
    argv = ["ip", "netns", "exec", f"vfnet-c-{instance['id']}", "ping", "-c", "1", "-W", "1",
            address]  # fmt: skip
    return subprocess.run(argv, capture_output=True, check=False).returncode == 0


def test_a_container_s_direct_port_is_eth0_in_its_namespace_with_its_ip_and_mtu_and_up(
    site: Site,
) -> None:
    instance, port = site.container()
    eventually(lambda: site.active(port), site.log())
    eth0 = site.eth0(instance)
    assert eth0 is not None
    assert (eth0["mtu"], eth0["address"], "UP" in eth0["flags"]) == (
        MTU, port["mac_address"], True,
    )  # fmt: skip
    ip = port["fixed_ips"][0]["ip_address"]
    assert {"family": "inet", "local": ip, "prefixlen": 24} in [
        {k: a[k] for k in ("family", "local", "prefixlen")} for a in eth0["addr_info"]
    ]
    routes = ip_json("-n", f"vfnet-c-{instance['id']}", "route", "show", "default")
    assert [(r["gateway"], r["dev"]) for r in routes] == [("10.77.0.1", "eth0")]
    home = {link["ifname"] for link in ip_json("-n", site.switch_ns, "link")}
    vf = f"{PF}v{int(port['binding:profile']['pci_slot'][-1])}"
    assert vf not in home  # it left the switch's namespace


def test_two_containers_on_one_network_ping_each_other_over_their_vfs(site: Site) -> None:
    first, first_port = site.container()
    second, second_port = site.container()
    eventually(lambda: site.active(first_port) and site.active(second_port), site.log())
    there, back = (p["fixed_ips"][0]["ip_address"] for p in (second_port, first_port))
    eventually(lambda: ping(site, first, there) and ping(site, second, back), site.log())


def test_a_deleted_container_s_vf_comes_home_by_its_name_reset_and_free(site: Site) -> None:
    instance, port = site.container()
    eventually(lambda: site.active(port), site.log())
    slot = port["binding:profile"]["pci_slot"]
    vf = f"{PF}v{int(slot[-1])}"
    site.host.admin.delete_instance(instance["id"])
    eventually(lambda: site.host.devices()[slot]["state"] == "available", site.log())
    [home] = ip_json("-n", site.switch_ns, "link", "show", "dev", vf)
    assert "ifalias" not in home  # the alias that pointed home is cleared once home
    assert f"vfnet-c-{instance['id']}" not in netns_list()
    rep = ip_json("-n", site.switch_ns, "link", "show", "dev", f"{PF}r{int(slot[-1])}")
    assert rep and rep[0].get("master") == f"b-{site.physnet}-0"  # untagged: reset


def test_a_namespace_deleted_under_the_agent_is_made_again_with_its_vf_attached(
    site: Site,
) -> None:
    instance, port = site.container()
    eventually(lambda: site.active(port), site.log())
    subprocess.run(["ip", "netns", "del", f"vfnet-c-{instance['id']}"], check=True)
    eventually(lambda: site.eth0(instance) is not None and site.active(port), site.log())
    eth0 = site.eth0(instance)
    assert eth0 is not None and eth0["mtu"] == MTU and "UP" in eth0["flags"]
    assert "gone" in site.agent.log()  # the veth died with its namespace and was made again

"""Containers' normal ports on a real Linux bridge: veth pairs, real namespaces, real packets.

The bridge lives in a namespace of the test's own (BridgePlugger's ``host_ns``), so the
test never touches this machine's links.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from vfnet.agent.attach.own import container_netns
from vfnet.agent.bridges import BridgePlugger, veth_name
from vfnet.agent.desired import BridgePort, DesiredState, InstanceSpec
from vfnet.agent.drivers.netns_ops import PyrouteNamespaces
from vfnet.agent.inventory import Selection
from vfnet.agent.loop import Discovery
from vfnet.config import HostConfig
from vfnet.pci.devices import HostDevices

pytestmark = pytest.mark.privileged

DISCOVERY = Discovery(HostDevices(), Selection([]), HostConfig("/etc/vfnet/host.toml", "c1"), 1)


def ip_json(*argv: str) -> list[dict[str, Any]]:
    done = subprocess.run(["ip", "-j", *argv], capture_output=True, text=True, check=True)
    found: list[dict[str, Any]] = json.loads(done.stdout or "[]")
    return found


def pings(ns: str, address: str) -> bool:
    argv = ["ip", "netns", "exec", ns, "ping", "-c", "3", "-i", "0.2", "-W", "2", address]
    return subprocess.run(argv, capture_output=True, check=False).returncode == 0


@dataclass
class Host:
    ops: PyrouteNamespaces
    ns: str  # where the bridge is, standing in for the host's own namespace
    tag: str

    def plugger(self) -> BridgePlugger:
        return BridgePlugger(self.ops, host_ns=self.ns)

    def container(self, name: str, *ports: BridgePort) -> InstanceSpec:
        return InstanceSpec(f"{self.tag}-{name}", "container", bridge_ports=ports)

    def veths(self) -> list[str]:
        return sorted(
            link["ifname"] for link in ip_json("-n", self.ns, "link", "show", "type", "veth")
        )


@pytest.fixture
def host() -> Iterator[Host]:
    tag = f"tb{uuid.uuid4().hex[:6]}"
    ops = PyrouteNamespaces()
    made = Host(ops, f"vfnet-{tag}", tag)
    try:
        ops.create(made.ns)
        subprocess.run(["ip", "-n", made.ns, "link", "add", "br-ext", "type", "bridge"], check=True)
        subprocess.run(["ip", "-n", made.ns, "link", "set", "br-ext", "up"], check=True)
        yield made
    finally:
        for name in ("a", "b"):
            ops.delete(container_netns(f"{tag}-{name}"))
        ops.delete(made.ns)
        ops.close()


def port(number: int, bridge: str = "br-ext") -> BridgePort:
    return BridgePort(
        str(uuid.uuid4()), f"fa:16:3e:00:00:{number:02x}", bridge, "eth0", 1400,
        addresses=(f"192.0.2.{number}/24",),
    )  # fmt: skip


def state(*instances: InstanceSpec) -> DesiredState:
    return DesiredState("c1", 1, instances={i.id: i for i in instances})


def test_two_containers_on_one_bridge_ping_each_other(host: Host) -> None:
    first, second = port(10), port(11)
    a, b = host.container("a", first), host.container("b", second)

    assert host.plugger().sync(state(a, b), DISCOVERY) == {}
    assert pings(container_netns(a.id), "192.0.2.11")

    inside = ip_json("-n", container_netns(a.id), "link", "show", "eth0")[0]
    assert (inside["address"], inside["mtu"], inside["operstate"]) == (first.mac, 1400, "UP")
    members = ip_json("-n", host.ns, "link", "show", "master", "br-ext")
    assert sorted(m["ifname"] for m in members) == sorted(
        [veth_name(first.port_id), veth_name(second.port_id)]
    )
    assert host.plugger().sync(state(a, b), DISCOVERY) == {}  # a second pass is harmless
    assert pings(container_netns(b.id), "192.0.2.10")


def test_removing_a_port_removes_its_veth_at_both_ends(host: Host) -> None:
    first, second = port(10), port(11)
    a, b = host.container("a", first), host.container("b", second)
    host.plugger().sync(state(a, b), DISCOVERY)

    assert host.plugger().sync(state(b), DISCOVERY) == {}
    assert host.veths() == [veth_name(second.port_id)]
    assert ip_json("-n", container_netns(a.id), "link", "show", "type", "veth") == []
    assert not pings(container_netns(b.id), "192.0.2.10")


def test_a_missing_bridge_is_an_error_naming_it(host: Host) -> None:
    lost = port(12, bridge="br-lost")
    a = host.container("a", lost)

    problems = host.plugger().sync(state(a), DISCOVERY)
    assert problems == {
        lost.port_id: f"container {a.id}: bridge 'br-lost' is not on this host: create it, "
        "or correct the port's physnet under [bridges] in /etc/vfnet/host.toml"
    }
    assert host.veths() == []

"""BridgePlugger on in-memory namespaces: containers' normal ports as veths on a host bridge."""

from __future__ import annotations

import dataclasses

import pytest

from vfnet.agent.attach.memory_netns import MemoryNamespaces
from vfnet.agent.attach.netns import Link, Route
from vfnet.agent.bridges import BridgePlugger, tap_name, veth_name
from vfnet.agent.desired import BridgePort, DesiredState, InstanceSpec
from vfnet.agent.inventory import Selection
from vfnet.agent.loop import Discovery
from vfnet.config import HostConfig
from vfnet.pci.devices import HostDevices

WEB, DB = "web-1", "db-1"
WEB_NS, DB_NS = "vfnet-c-web-1", "vfnet-c-db-1"
PORT = BridgePort(
    "0b7e5a21-c4d2-4f6e-9a1b-2c3d4e5f6a7b",
    "fa:16:3e:00:00:0a",
    "br-ext",
    "eth1",
    mtu=1450,
    addresses=("192.0.2.10/24", "2001:db8::10/64"),
    routes=(Route("default", "192.0.2.1"),),
)
DB_PORT = BridgePort("9c1d2e3f-0000-4000-8000-000000000001", "fa:16:3e:00:00:0b", "br-ext", "eth0")
HOST_END = "vfb0b7e5a21c4d2"


class Recorder(MemoryNamespaces):
    """Memory namespaces that note every call that changes something."""

    def __init__(self) -> None:
        super().__init__()
        self.changes: list[str] = []

    def add_veth(self, ns: str | None, name: str, peer_ns: str | None, peer: str) -> None:
        self.changes.append(f"add_veth {name}")
        super().add_veth(ns, name, peer_ns, peer)

    def delete_link(self, ns: str | None, name: str) -> None:
        self.changes.append(f"delete_link {name}")
        super().delete_link(ns, name)

    def set_master(self, ns: str | None, name: str, master: str | None) -> None:
        self.changes.append(f"set_master {name}")
        super().set_master(ns, name, master)

    def set_link(self, ns: str | None, name: str, **changes: object) -> None:
        self.changes.append(f"set_link {name}")
        super().set_link(ns, name, **changes)  # type: ignore[arg-type]

    def add_address(self, ns: str | None, name: str, cidr: str) -> None:
        self.changes.append(f"add_address {cidr}")
        super().add_address(ns, name, cidr)

    def delete_address(self, ns: str | None, name: str, cidr: str) -> None:
        self.changes.append(f"delete_address {cidr}")
        super().delete_address(ns, name, cidr)

    def add_route(self, ns: str | None, name: str, route: Route) -> None:
        self.changes.append(f"add_route {route.dst}")
        super().add_route(ns, name, route)


@pytest.fixture
def ops() -> Recorder:
    made = Recorder()
    made.add_link(None, "br-ext", "02:00:00:00:01:00", kind="bridge")
    made.add_link(None, "eth0", "52:54:00:00:00:01")  # the host's own NIC: never touched
    return made


def container(id_: str, *ports: BridgePort, kind: str = "container") -> InstanceSpec:
    return InstanceSpec(id_, kind, bridge_ports=ports)


def desired(*instances: InstanceSpec) -> DesiredState:
    return DesiredState("compute-1", 1, instances={i.id: i for i in instances})


DISCOVERY = Discovery(HostDevices(), Selection([]), HostConfig("/etc/vfnet/host.toml", "c1"), 1)


def sync(ops: Recorder, state: DesiredState, *, host_ns: str | None = None) -> dict[str, str]:
    ops.changes.clear()
    return dict(BridgePlugger(ops, host_ns=host_ns).sync(state, DISCOVERY))


def link(ops: MemoryNamespaces, ns: str | None, name: str) -> Link:
    return next(found for found in ops.links(ns) if found.name == name)


def test_a_containers_port_is_a_veth_from_the_bridge_into_its_namespace(ops: Recorder) -> None:
    assert sync(ops, desired(container(WEB, PORT))) == {}

    end = link(ops, None, HOST_END)
    assert (end.kind, end.up, end.mtu, end.alias) == (
        "veth",
        True,
        1450,
        f"vfnet-port {PORT.port_id}",
    )
    assert ops.bridge_ports(None, "br-ext") == [HOST_END]
    peer = link(ops, WEB_NS, "eth1")
    assert (peer.mac, peer.mtu, peer.up) == (PORT.mac, 1450, True)
    assert ops.addresses(WEB_NS, "eth1") == ["192.0.2.10/24", "2001:db8::10/64"]
    assert Route("default", "192.0.2.1") in ops.routes(WEB_NS, "eth1")


def test_a_second_sync_changes_nothing(ops: Recorder) -> None:
    state = desired(container(WEB, PORT), container(DB, DB_PORT))
    sync(ops, state)

    assert sync(ops, state) == {}
    assert ops.changes == []


def test_the_host_end_is_named_from_the_port_id_within_ifnamsiz() -> None:
    assert veth_name(PORT.port_id) == HOST_END
    assert len(veth_name("port-x")) == 15  # a digest when the id has too few hex digits
    assert veth_name("port-x") == veth_name("port-x") != veth_name("port-y")
    assert tap_name(PORT.port_id) == "tap0b7e5a21c4d2"


def test_a_port_no_longer_wanted_loses_its_veth_at_both_ends(ops: Recorder) -> None:
    sync(ops, desired(container(WEB, PORT), container(DB, DB_PORT)))

    assert sync(ops, desired(container(DB, DB_PORT))) == {}
    assert ops.changes == [f"delete_link {HOST_END}"]
    assert [found.name for found in ops.links(WEB_NS)] == []
    assert ops.bridge_ports(None, "br-ext") == [veth_name(DB_PORT.port_id)]


def test_a_missing_bridge_is_that_ports_error_naming_it_and_the_config(ops: Recorder) -> None:
    lost = dataclasses.replace(PORT, bridge="br-storage")

    problems = sync(ops, desired(container(WEB, lost), container(DB, DB_PORT)))
    assert problems == {
        PORT.port_id: (
            "container web-1: bridge 'br-storage' is not on this host: create it, or correct "
            "the port's physnet under [bridges] in /etc/vfnet/host.toml"
        )
    }
    assert link(ops, DB_NS, "eth0").up


def test_a_pair_half_made_before_a_crash_is_made_again(ops: Recorder) -> None:
    ops.create(WEB_NS)
    ops.add_veth(None, HOST_END, WEB_NS, "eth1")  # the agent died before aliasing it

    assert sync(ops, desired(container(WEB, PORT))) == {}
    assert ops.changes[:2] == [f"delete_link {HOST_END}", f"add_veth {HOST_END}"]
    assert link(ops, WEB_NS, "eth1").alias == f"vfnet-port {PORT.port_id}"


def test_a_port_renamed_in_its_container_gets_a_new_pair(ops: Recorder) -> None:
    sync(ops, desired(container(WEB, PORT)))

    assert sync(ops, desired(container(WEB, dataclasses.replace(PORT, ifname="eth2")))) == {}
    assert [found.name for found in ops.links(WEB_NS)] == ["eth2"]


def test_what_drifted_is_set_back_and_nothing_else(ops: Recorder) -> None:
    sync(ops, desired(container(WEB, PORT)))
    ops.set_link(WEB_NS, "eth1", mac="fa:16:3e:99:99:99")
    ops.add_address(WEB_NS, "eth1", "198.51.100.7/24")
    ops.set_master(None, HOST_END, None)

    assert sync(ops, desired(container(WEB, PORT))) == {}
    assert ops.changes == [
        f"set_master {HOST_END}",
        "set_link eth1",
        "delete_address 198.51.100.7/24",
    ]
    assert link(ops, WEB_NS, "eth1").mac == PORT.mac


def test_only_vfnets_veths_are_ever_removed(ops: Recorder) -> None:
    ops.create("other")
    ops.add_veth(None, "veth-theirs", "other", "eth0")
    ops.add_link(None, "vfbnotaveth", "52:54:00:00:00:02")

    assert sync(ops, desired()) == {}
    assert ops.changes == []


def test_vms_and_containers_without_bridge_ports_are_left_alone(ops: Recorder) -> None:
    assert sync(ops, desired(container("vm-1", PORT, kind="vm"), container(WEB))) == {}
    assert ops.changes == []
    assert not ops.exists(WEB_NS)


def test_a_container_id_that_cannot_name_a_namespace_is_each_of_its_ports_error(
    ops: Recorder,
) -> None:
    problems = sync(ops, desired(container("bad/id", PORT)))

    assert problems == {
        PORT.port_id: "container bad/id: container_id: 'bad/id': 1-64 of letters, digits, "
        "'_', '.', '-'"
    }


def test_the_bridges_may_live_in_another_namespace(ops: Recorder) -> None:
    ops.create("emulated-host")
    ops.add_link("emulated-host", "br-ext", "02:00:00:00:02:00", kind="bridge")

    assert sync(ops, desired(container(WEB, PORT)), host_ns="emulated-host") == {}
    assert ops.bridge_ports("emulated-host", "br-ext") == [HOST_END]
    assert ops.bridge_ports(None, "br-ext") == []

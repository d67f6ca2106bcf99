"""An instance's lifecycle end to end: a real vfnet-server, eswitch agents, real namespaces.

What a container's user sees through each step of its life: a port attached hot shows
up as ``eth1`` with its address and reaches a peer, and goes when detached, its VF back
home, reset and free; a suspended container's VF waits at home, still claimed, and comes
back as ``eth0`` on resume; a live migration between two hosts joined by the fabric
keeps the container's namespace, MAC and address and its processes, on a VF of the
target; an HA pair lands on two PFs and survives one PF's link going down (bonded, where
the kernel has bonding); normal ports are veths on the host's bridge.
"""

from __future__ import annotations

import functools
import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.privileged.lifecycle_hosts import (
    PFS,
    Lab,
    Station,
    addressed,
    inet,
    interface,
    ip_json,
    ip_of,
    netns,
    pings,
    sh,
)
from vfnet.client import Client
from vfnet.lab.server import LabServer

pytestmark = pytest.mark.privileged

PF = PFS[0]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LabServer, Client]]:
    lab = LabServer(tmp_path_factory.mktemp("lifecycle-server"))
    with lab, Client(lab.url, lab.admin_token()) as admin:
        yield lab, admin


@pytest.fixture
def lab(server: tuple[LabServer, Client], tmp_path: Path) -> Iterator[Lab]:
    made = Lab(*server, tmp_path)
    try:
        yield made
    finally:
        failed = made.close()
    assert not failed, "\n".join(failed)


@pytest.fixture
def physnet() -> str:
    """A physnet of the test's own: its instances are placed on its hosts and no other."""
    return f"p{uuid.uuid4().hex[:6]}"


def slot_of(port: dict[str, Any]) -> str:
    return str(port["binding:profile"]["pci_slot"])


def test_a_port_attached_hot_is_eth1_with_its_ip_and_detached_goes_home_reset_and_free(
    lab: Lab, physnet: str
) -> None:
    station = lab.station({PF: physnet}, {PF: 4})
    first = lab.network(physnet, "10.81.0.0/24", vlan=100)
    second = lab.network(physnet, "10.82.0.0/24", vlan=200)
    container = lab.container(ports=[lab.port(first)["id"]])
    peer = lab.container(ports=[lab.port(second)["id"]])
    lab.active(container, peer)
    hot = lab.port(second)
    shown = lab.admin.attach_instance_port(container["id"], port_id=hot["id"])
    assert [p["ifname"] for p in shown["ports"]] == ["eth0", "eth1"]
    hot = lab.admin.get_port(hot["id"])
    lab.until(lambda: lab.admin.get_port(hot["id"])["status"] == "ACTIVE")
    eth1 = interface(container, "eth1")
    assert eth1 is not None and eth1["address"] == hot["mac_address"]
    assert inet(eth1) == [f"{ip_of(hot)}/24"]
    peer_ip = ip_of(lab.ports(peer)[0])
    lab.until(lambda: pings(container, peer_ip))

    slot = slot_of(hot)
    assert station.busy(slot)
    lab.admin.detach_instance_port(container["id"], hot["id"])
    lab.until(lambda: station.state(slot) == "available")
    assert interface(container, "eth1") is None
    assert station.home_and_reset(slot)
    assert interface(container, "eth0") is not None  # the first port stays
    assert not pings(container, peer_ip)  # the peer's network left with eth1


def test_a_suspended_container_s_vf_waits_at_home_claimed_and_is_eth0_again_on_resume(
    lab: Lab, physnet: str
) -> None:
    station = lab.station({PF: physnet}, {PF: 4})
    network = lab.network(physnet, "10.83.0.0/24", vlan=100)
    container = lab.container(ports=[lab.port(network)["id"]])
    peer = lab.container(ports=[lab.port(network)["id"]])
    lab.active(container, peer)
    [port], peer_ip = lab.ports(container), ip_of(lab.ports(peer)[0])
    lab.until(lambda: pings(container, peer_ip))
    slot = slot_of(port)

    assert lab.admin.suspend_instance(container["id"])["state"] == "SUSPENDED"
    lab.until(lambda: station.at_home(slot) is not None)
    assert interface(container, "eth0") is None
    assert station.busy(slot)  # still the container's: nobody else can take it
    assert lab.instance(container)["state"] == "SUSPENDED"

    lab.admin.resume_instance(container["id"])
    lab.until(lambda: addressed(container, "eth0", port))
    eth0 = interface(container, "eth0")
    assert eth0 is not None and eth0["address"] == port["mac_address"]
    assert station.at_home(slot) is None
    lab.active(container)
    lab.until(lambda: pings(container, peer_ip))
    assert slot_of(lab.ports(container)[0]) == slot  # the same VF, held all along


@dataclass
class HaPair:
    """A container whose two ports (eth0, eth1) are in one PF anti-affinity group, and a
    peer on the same network: ``near`` is the leg on the peer's PF, ``far`` the other."""

    station: Station
    container: dict[str, Any]
    legs: dict[str, dict[str, Any]]  # ifname -> port
    peer_ip: str
    near: str
    far: str

    def pf(self, ifname: str) -> str:
        return self.station.pf_of(slot_of(self.legs[ifname]))

    def pull_far_cable(self) -> None:
        """The far leg's PF loses its link; its VFs (link state auto) lose carrier."""
        sh("ip", "-n", self.station.switch_ns, "link", "set", self.pf(self.far), "down")


def ha_pair(lab: Lab, physnet: str) -> HaPair:
    station = lab.station({pf: physnet for pf in PFS}, {pf: 2 for pf in PFS})
    network = lab.network(physnet, "10.85.0.0/24", vlan=100)
    peer = lab.container(ports=[lab.port(network)["id"]])
    first, second = lab.port(network)["id"], lab.port(network)["id"]
    container = lab.container(ports=[first, second], ha_groups={"bond0": [first, second]})
    lab.active(container, peer)
    legs = dict(zip(("eth0", "eth1"), lab.ports(container), strict=True))
    [peer_port] = lab.ports(peer)
    peer_pf = station.pf_of(slot_of(peer_port))
    near = next(ifname for ifname, port in legs.items() if station.pf_of(slot_of(port)) == peer_pf)
    far = "eth1" if near == "eth0" else "eth0"
    return HaPair(station, container, legs, ip_of(peer_port), near, far)


def no_carrier(instance: dict[str, Any], ifname: str) -> bool:
    shown = interface(instance, ifname)
    return shown is not None and "NO-CARRIER" in shown["flags"]


def test_an_ha_pair_is_on_two_pfs_and_one_leg_still_reaches_the_peer_with_the_other_pf_down(
    lab: Lab, physnet: str
) -> None:
    pair = ha_pair(lab, physnet)
    assert pair.pf("eth0") != pair.pf("eth1")
    for ifname, port in pair.legs.items():
        shown = interface(pair.container, ifname)
        assert shown is not None and shown["address"] == port["mac_address"]
        assert inet(shown) == [f"{ip_of(port)}/24"]
    lab.until(lambda: all(pings(pair.container, pair.peer_ip, leg) for leg in pair.legs))

    pair.pull_far_cable()
    lab.until(lambda: no_carrier(pair.container, pair.far))
    assert not pings(pair.container, pair.peer_ip, pair.far)
    assert pings(pair.container, pair.peer_ip, pair.near)


def bonding_missing() -> str | None:
    """Why a bond cannot be made here (``ip link add type bond`` refused), or None."""
    probe = f"vfnet-bondprobe-{uuid.uuid4().hex[:6]}"
    sh("ip", "netns", "add", probe)
    try:
        done = sh("ip", "-n", probe, "link", "add", "bond0", "type", "bond", check=False)
        return None if done.returncode == 0 else done.stderr.strip()
    finally:
        sh("ip", "netns", "del", probe)


def test_an_ha_pair_bonded_active_backup_still_pings_with_its_active_leg_s_pf_down(
    lab: Lab, physnet: str
) -> None:
    missing = bonding_missing()
    if missing is not None:
        pytest.skip(f"this kernel cannot make a bond (ip link add type bond: {missing})")
    pair = ha_pair(lab, physnet)
    lab.until(lambda: all(pings(pair.container, pair.peer_ip, leg) for leg in pair.legs))
    address = f"{ip_of(pair.legs['eth0'])}/24"
    # As a user bonds two VFs: each keeps its own MAC (spoofchk), the far leg enslaved
    # first is the active one, and the address moves from eth0 to the bond.
    commands = [
        "link add bond0 type bond mode active-backup miimon 100 fail_over_mac active",
        *(f"addr flush dev {leg}" for leg in (pair.far, pair.near)),
        *(f"link set {leg} down\nlink set {leg} master bond0" for leg in (pair.far, pair.near)),
        f"addr add {address} dev bond0",
        "link set bond0 up",
    ]
    argv = ["ip", "-n", netns(pair.container), "-batch", "-"]
    script = "\n".join(commands) + "\n"
    done = subprocess.run(argv, input=script, text=True, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
    lab.until(lambda: pings(pair.container, pair.peer_ip))

    pair.pull_far_cable()
    lab.until(lambda: no_carrier(pair.container, pair.far))
    lab.until(lambda: pings(pair.container, pair.peer_ip))


def test_normal_ports_are_veths_on_the_host_s_bridge_and_two_containers_ping_through_it(
    lab: Lab, physnet: str
) -> None:
    bridged = f"{physnet}n"
    station = lab.station({PF: physnet}, {PF: 2}, bridges={bridged: "br-normal"})
    # The operator's bridge, where this emulated host's links live: its own namespace.
    lab.until(lambda: station.switch_ns in {ns["name"] for ns in ip_json("netns", "list")})
    sh("ip", "-n", station.switch_ns, "link", "add", "br-normal", "type", "bridge")
    sh("ip", "-n", station.switch_ns, "link", "set", "br-normal", "up")
    network = lab.network(bridged, "10.86.0.0/24")
    containers = [lab.container(networks=[network["id"]]) for _ in range(2)]
    assert {made["host"] for made in containers} == {station.name}
    ports = [lab.ports(made)[0] for made in containers]
    assert [port["binding:vnic_type"] for port in ports] == ["normal", "normal"]
    for made, port in zip(containers, ports, strict=True):
        lab.until(functools.partial(addressed, made, "eth0", port))
        eth0 = interface(made, "eth0")
        assert eth0 is not None and eth0["address"] == port["mac_address"]
        assert eth0["linkinfo"]["info_kind"] == "veth"
    on_bridge = ip_json("-n", station.switch_ns, "link", "show", "master", "br-normal")
    assert len([link for link in on_bridge if link["ifname"].startswith("vfb")]) == 2
    lab.active(*containers)
    first, second = containers
    lab.until(lambda: pings(first, ip_of(ports[1])) and pings(second, ip_of(ports[0])))
    assert all(lab.admin.get_port(port["id"])["status"] == "ACTIVE" for port in ports)


# Last in the module: a migration the agents never finish is still being rolled back by
# the server (for up to its migration_timeout) after the test has given up waiting.
def netns_inode(path: str) -> int:
    return os.stat(path).st_ino


def test_a_live_migrated_container_keeps_its_namespace_mac_and_ip_on_a_vf_of_the_target(
    lab: Lab, physnet: str
) -> None:
    source = lab.station({PF: physnet}, {PF: 4})
    target = lab.station({PF: physnet}, {PF: 4})
    network = lab.network(physnet, "10.84.0.0/24", vlan=100)
    # A peer on each host: the one on the source is reached over the fabric afterwards.
    peers = [lab.container(on, ports=[lab.port(network)["id"]]) for on in (source, target)]
    container = lab.container(source, ports=[lab.port(network)["id"]])
    lab.active(container, *peers)
    peer_ips = [ip_of(lab.ports(peer)[0]) for peer in peers]
    lab.until(lambda: all(pings(container, ip) for ip in peer_ips))
    [before] = lab.ports(container)
    # What the container runs: it must live on in the same namespace through the move.
    process = subprocess.Popen(["ip", "netns", "exec", netns(container), "sleep", "300"])
    try:
        lab.until(lambda: netns_inode(f"/proc/{process.pid}/ns/net") == netns_inode(
            f"/run/netns/{netns(container)}"))  # fmt: skip
        inode = netns_inode(f"/proc/{process.pid}/ns/net")

        moved = lab.migrate(container, target)
        assert moved["host"] == target.name, f"{moved.get('reason')}\n{lab.logs()}"
        assert (moved["state"], moved.get("reason")) == ("ACTIVE", None)
        [after] = lab.ports(container)
        assert after["binding:host_id"] == target.name
        assert (after["mac_address"], ip_of(after)) == (before["mac_address"], ip_of(before))
        # The source's VF is released once its agent verified it home and reset.
        lab.until(lambda: source.state(slot_of(before)) == "available")
        assert source.home_and_reset(slot_of(before))
        assert target.busy(slot_of(after)) and target.at_home(slot_of(after)) is None

        eth0 = interface(container, "eth0")
        assert eth0 is not None and eth0["address"] == before["mac_address"]
        assert inet(eth0) == [f"{ip_of(before)}/24"]
        lab.until(lambda: all(pings(container, ip) for ip in peer_ips))
        # Both hosts share this kernel: the namespace the target attached to is the one the
        # container lives in, and nothing was torn down under what runs in it.
        assert process.poll() is None, f"the container's process was killed\n{lab.logs()}"
        assert netns_inode(f"/run/netns/{netns(container)}") == inode
    finally:
        process.kill()
        process.wait()

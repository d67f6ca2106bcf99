"""``vfnet lab up`` on the software eswitch, and ``down`` leaving the machine exactly as it was.

As root, ``up`` starts agents with the eswitch driver: each builds its host's switch
namespace, and hosts' uplinks meet in the shared fabric namespace, so a VF of one host
reaches a VF of another on the same physnet and not one on another physnet. ``down`` is
checked against a snapshot of the machine taken before ``up``: every namespace's name,
the root namespace's links and nftables ruleset, and the fabric's links.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vfnet.client import Client

pytestmark = pytest.mark.privileged

VFNET = str(Path(sys.executable).parent / "vfnet")
FABRIC = "vfnet-fabric"
# Namespaces someone else made, named as the lab's own are: down must leave them.
BYSTANDERS = ("vfnet-bystander", "vfnet-c-bystander")


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=check)


def vfnet(*argv: str) -> subprocess.CompletedProcess[str]:
    return sh(VFNET, *argv, check=False)


def namespaces() -> list[str]:
    return sorted(line.split()[0] for line in sh("ip", "netns", "list").stdout.splitlines())


def links(*netns: str) -> list[str]:
    where = ["-n", netns[0]] if netns else []
    return sorted(link["ifname"] for link in json.loads(sh("ip", *where, "-j", "link").stdout))


def machine() -> dict[str, Any]:
    """What the lab could change on this machine, as it is now."""
    found = namespaces()
    return {
        "namespaces": found,
        "links": links(),
        "nftables": sh("nft", "list", "ruleset").stdout,
        "fabric": links(FABRIC) if FABRIC in found else None,
    }


def up(lab: Path) -> dict[str, Any]:
    done = vfnet("lab", "up", "--dir", str(lab))
    assert done.returncode == 0, done.stdout + done.stderr
    state: dict[str, Any] = json.loads((lab / "lab.json").read_text())
    return state


def down(lab: Path) -> None:
    done = vfnet("lab", "down", "--dir", str(lab))
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def bystanders() -> Iterator[tuple[str, ...]]:
    for name in BYSTANDERS:
        sh("ip", "netns", "add", name)
    try:
        yield BYSTANDERS
    finally:
        for name in BYSTANDERS:
            sh("ip", "netns", "delete", name, check=False)


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Path]:
    where = tmp_path / "lab"
    yield where
    if (where / "lab.json").exists():
        vfnet("lab", "down", "--dir", str(where))


@pytest.fixture
def running(lab: Path) -> dict[str, Any]:
    """A lab that is up; the lab fixture takes it down."""
    return up(lab)


def container_instance(state: dict[str, Any]) -> str:
    """A container instance with one direct port; its namespace, as the agent names it.

    The namespace is made here when the agent has not made it yet: what ``down`` must
    remove is the namespace of a lab's container, whoever made it.
    """
    token = Path(state["admin_token_file"]).read_text().strip()
    with Client(state["url"], token) as admin:
        network = admin.create_network(
            {"name": "net1", "provider:network_type": "vlan",
             "provider:physical_network": "physnet1", "provider:segmentation_id": 100}
        )  # fmt: skip
        admin.create_subnet({"network_id": network["id"], "cidr": "192.0.2.0/24"})
        port = admin.create_port({"network_id": network["id"], "binding:vnic_type": "direct"})
        instance = admin.create_instance(
            {"name": "web", "kind": "container", "ports": [port["id"]]}
        )
    netns = f"vfnet-c-{instance['id']}"
    if netns not in namespaces():
        sh("ip", "netns", "add", netns)
    return netns


def test_up_builds_every_host_s_switch_and_their_reports_reach_the_server(
    running: dict[str, Any],
) -> None:
    assert {"vfnet-host-1", "vfnet-host-2", FABRIC} <= set(namespaces())
    assert running["namespaces"] == ["vfnet-host-1", "vfnet-host-2"]
    shown = json.loads(vfnet("lab", "status", "--dir", running["dir"], "--json").stdout)
    assert [(h["host"], h["driver"], h["netns_exists"]) for h in shown["hosts"]] == [
        ("host-1", "eswitch", True), ("host-2", "eswitch", True),
    ]  # fmt: skip
    assert all(h["devices"] > 0 for h in shown["hosts"])


@pytest.fixture
def vf_holders() -> Iterator[dict[str, tuple[str, str]]]:
    """Three namespaces, each holding one VF netdev moved out of its host's switch namespace:
    host-1's and host-2's first PF are on physnet1, host-2's second on physnet2."""
    vfs = {
        "vfnet-labtest-a": ("vfnet-host-1", "ens1f0v1", "192.0.2.11"),
        "vfnet-labtest-b": ("vfnet-host-2", "ens1f0v1", "192.0.2.12"),
        "vfnet-labtest-c": ("vfnet-host-2", "ens1f1v1", "192.0.2.13"),
    }
    try:
        for ns, (host, vf, address) in vfs.items():
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", host, "link", "set", vf, "netns", ns)
            sh("ip", "-n", ns, "addr", "add", f"{address}/24", "dev", vf)
            sh("ip", "-n", ns, "link", "set", vf, "up")
        yield {ns: (vf, address) for ns, (_, vf, address) in vfs.items()}
    finally:
        for ns, (host, vf, _) in vfs.items():
            sh("ip", "-n", ns, "link", "set", vf, "netns", host, check=False)
            sh("ip", "netns", "delete", ns, check=False)


def reaches(source: str, address: str) -> bool:
    done = sh("ip", "netns", "exec", source, "ping", "-c", "2", "-W", "2", address, check=False)
    return done.returncode == 0


def test_vfs_of_two_hosts_on_one_physnet_reach_each_other_and_not_another_physnet(
    running: dict[str, Any], vf_holders: dict[str, tuple[str, str]]
) -> None:
    assert reaches("vfnet-labtest-a", vf_holders["vfnet-labtest-b"][1])
    assert not reaches("vfnet-labtest-a", vf_holders["vfnet-labtest-c"][1])


def test_down_leaves_the_machine_exactly_as_it_was_before_up(
    lab: Path, bystanders: tuple[str, ...]
) -> None:
    before = machine()
    state = up(lab)
    container = container_instance(state)
    assert container in namespaces()
    down(lab)
    assert machine() == before
    assert set(bystanders) <= set(namespaces())


def test_down_after_kill_9_of_every_lab_process_leaves_the_machine_as_it_was(
    lab: Path, bystanders: tuple[str, ...]
) -> None:
    before = machine()
    state = up(lab)
    container_instance(state)
    for process in [state["server"], *(host["agent"] for host in state["hosts"])]:
        os.kill(process["pid"], signal.SIGKILL)
    # The server that knew the container is gone: down asks a server started for the question.
    down(lab)
    assert machine() == before
    assert not lab.exists()


def test_up_refuses_a_host_namespace_it_did_not_make_and_leaves_it(lab: Path) -> None:
    sh("ip", "netns", "add", "vfnet-host-1")
    try:
        before = machine()
        done = vfnet("lab", "up", "--dir", str(lab))
        assert done.returncode == 1
        assert "network namespace vfnet-host-1 exists and is not this lab's" in done.stderr
        assert machine() == before
        assert not lab.exists()
    finally:
        sh("ip", "netns", "delete", "vfnet-host-1", check=False)

"""vfnet-agent --driver eswitch against a real vfnet-server: ports reach the emulated host's switch.

The agent builds the host's switch (namespace ``vfnet-<host>``) from its generated sysfs
tree, and what a port asks for is read back from the kernel: the representor's bridge
(the VLAN), the nft sets (MAC, spoofchk) and the rate limiter (max_tx_rate).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.functional.agent.processes import Host, Running, agent_command, eventually, make_host
from vfnet.client import Client
from vfnet.lab.server import LabServer

pytestmark = pytest.mark.privileged

PF = "ens1f0"


def sh(*argv: str) -> str:
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LabServer, Client]]:
    lab = LabServer(tmp_path_factory.mktemp("eswitch-agent-server"))
    with lab, Client(lab.url, lab.admin_token()) as admin:
        yield lab, admin


@pytest.fixture
def host(server: tuple[LabServer, Client], tmp_path: Path) -> Iterator[Host]:
    made = make_host(*server, tmp_path, prefix="esw")
    try:
        yield made
    finally:
        teardown(made)


def teardown(host: Host) -> subprocess.CompletedProcess[str]:
    command = [*agent_command(), "--config", str(host.config), "--teardown"]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def netns(host: Host) -> str:
    return f"vfnet-{host.name}"


def start(host: Host, tmp_path: Path) -> Running:
    agent = Running(host, tmp_path / "agent.log", driver="eswitch")
    eventually(lambda: len(host.devices()) == 4, agent.log_path)
    return agent


def bound_port(host: Host, vlan: int, **fields: Any) -> dict[str, Any]:
    network = host.admin.create_network(
        {"name": f"{host.name}-{vlan}", "shared": True, "provider:network_type": "vlan",
         "provider:physical_network": "physnet1", "provider:segmentation_id": vlan}
    )  # fmt: skip
    host.admin.create_subnet({"network_id": network["id"], "cidr": "192.0.2.0/24"})
    port = host.admin.create_port(
        {"network_id": network["id"], "binding:vnic_type": "direct", **fields}
    )
    return host.admin.update_port(port["id"], {"binding:host_id": host.name})


def representor(port: dict[str, Any]) -> str:
    return f"{PF}r{int(port['binding:profile']['pci_slot'][-1])}"


def bridge_of(host: Host, link: str) -> str:
    """The bridge ``link`` is a port of; "" when it has none, or is not (yet) there."""
    argv = ["ip", "-n", netns(host), "-j", "link", "show", link]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return ""
    [shown] = json.loads(done.stdout)
    return str(shown.get("master", ""))


def nft_set(host: Host, name: str) -> list[Any]:
    listed = json.loads(sh("ip", "netns", "exec", netns(host), "nft", "-j", "list", "set",
                           "bridge", "vfnet", name))  # fmt: skip
    found = next(item["set"] for item in listed["nftables"] if "set" in item)
    return [e["concat"] if isinstance(e, dict) else e for e in found.get("elem", [])]


def links(host: Host) -> set[str]:
    return {link["ifname"] for link in json.loads(sh("ip", "-n", netns(host), "-j", "link"))}


def shaped(host: Host, limiter: str) -> bool:
    """Whether the VF's rate limiter (its ifb) holds a tbf: a max_tx_rate in force."""
    qdiscs = json.loads(sh("tc", "-n", netns(host), "-j", "qdisc", "show", "dev", limiter))
    return any(q["kind"] == "tbf" for q in qdiscs)


def active(host: Host, port: dict[str, Any]) -> bool:
    return host.admin.get_port(port["id"])["status"] == "ACTIVE"


def test_a_bound_port_s_vf_sits_on_its_vlan_s_bridge_with_its_mac_and_spoofchk(
    host: Host, tmp_path: Path
) -> None:
    agent = start(host, tmp_path)
    try:
        port = bound_port(host, 100)
        eventually(lambda: active(host, port), agent.log_path)
        rep = representor(port)
        assert bridge_of(host, rep) == "b-physnet1-100"
        assert [rep, port["mac_address"]] in nft_set(host, "vf_mac")
        assert rep in nft_set(host, "spoofchk_on")
        unsecured = bound_port(host, 200, port_security_enabled=False)
        eventually(lambda: active(host, unsecured), agent.log_path)
        assert bridge_of(host, representor(unsecured)) == "b-physnet1-200"
        assert representor(unsecured) not in nft_set(host, "spoofchk_on")
    finally:
        assert agent.stop() == 0, agent.log()


def test_an_agent_killed_and_restarted_converges_and_leaves_nothing_behind(
    host: Host, tmp_path: Path
) -> None:
    agent = start(host, tmp_path)
    policy = host.admin.create_qos_policy(
        {"name": "10mbit", "rules": [{"type": "bandwidth_limit", "max_kbps": 10_000}]}
    )
    first = bound_port(host, 110, qos_policy_id=policy["id"])
    eventually(lambda: active(host, first), agent.log_path)
    limiter = f"{PF}q{int(first['binding:profile']['pci_slot'][-1])}"
    assert shaped(host, limiter)
    os.kill(agent.process.pid, signal.SIGKILL)
    agent.process.wait(timeout=10)
    # While no agent runs: the first port is unbound, a second one bound.
    host.admin.update_port(first["id"], {"binding:host_id": None})
    second = bound_port(host, 310)
    agent = start(host, tmp_path)
    try:
        eventually(lambda: active(host, second), agent.log_path)
        slot = first["binding:profile"]["pci_slot"]
        eventually(lambda: host.devices()[slot]["state"] == "available", agent.log_path)
        assert bridge_of(host, representor(first)) == "b-physnet1-0"
        assert not shaped(host, limiter)
        assert [row for row in nft_set(host, "vf_mac") if row[0] == representor(first)] == []
        assert bridge_of(host, representor(second)) == "b-physnet1-310"
    finally:
        assert agent.stop() == 0, agent.log()
    done = teardown(host)
    assert done.returncode == 0, done.stderr
    assert netns(host) not in sh("ip", "netns", "list")


def test_a_switch_removed_under_a_running_agent_is_built_again_and_its_ports_reapplied(
    host: Host, tmp_path: Path
) -> None:
    agent = start(host, tmp_path)
    try:
        port = bound_port(host, 120)
        eventually(lambda: active(host, port), agent.log_path)
        assert teardown(host).returncode == 0
        eventually(
            lambda: (
                netns(host) in sh("ip", "netns", "list")
                and bridge_of(host, representor(port)) == "b-physnet1-120"
            ),
            agent.log_path,
        )
        assert active(host, port)
    finally:
        assert agent.stop() == 0, agent.log()


def test_a_port_mirrored_to_another_copies_through_the_switch_until_unbound(
    host: Host, tmp_path: Path
) -> None:
    agent = start(host, tmp_path)
    try:
        target = bound_port(host, 130)
        mirrored = host.admin.create_port(
            {"network_id": target["network_id"], "binding:vnic_type": "direct",
             "mirror_to": target["id"]}
        )  # fmt: skip
        mirrored = host.admin.update_port(mirrored["id"], {"binding:host_id": host.name})
        eventually(lambda: active(host, mirrored) and active(host, target), agent.log_path)
        assert mirrors_to(host, representor(mirrored)) == {representor(target)}
        host.admin.update_port(mirrored["id"], {"binding:host_id": None})
        eventually(lambda: not mirrors_to(host, representor(mirrored)), agent.log_path)
    finally:
        assert agent.stop() == 0, agent.log()


def mirrors_to(host: Host, rep: str) -> set[str]:
    """The representors ``rep``'s tc filters mirror to (both hooks)."""
    found = set()
    for hook in ("ingress", "egress"):
        shown = sh("tc", "-n", netns(host), "filter", "show", "dev", rep, hook)
        found.update(re.findall(r"Egress Mirror to device (\S+)\)", shown))
    return found

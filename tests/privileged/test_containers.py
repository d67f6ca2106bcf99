"""VF netdevs (veth ends, as the emulated switch makes them) attached to real namespaces."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from vfnet.agent.attach.containers import Outcome, attach, detach, remove_namespace
from vfnet.agent.attach.netns import Route
from vfnet.agent.attach.own import create_container, delete_container, run_in_container
from vfnet.agent.drivers.netns_ops import PyrouteNamespaces

pytestmark = pytest.mark.privileged

MAC = "52:54:00:ab:cd:01"


def ip_json(*argv: str) -> list[dict]:
    done = subprocess.run(["ip", "-j", *argv], capture_output=True, text=True, check=True)
    return json.loads(done.stdout or "[]")


def link_names(ns: str) -> list[str]:
    return [link["ifname"] for link in ip_json("-n", ns, "link", "show")]


def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@dataclass
class Bench:
    """A host namespace with a veth VF (its peer the representor) and a container."""

    ops: PyrouteNamespaces
    host: str
    container: str
    vf: str
    rep: str


@pytest.fixture
def bench() -> Iterator[Bench]:
    tag = uuid.uuid4().hex[:6]
    ops = PyrouteNamespaces()
    made = Bench(ops, f"vfnet-th{tag}", f"vfnet-tc{tag}", f"t{tag}v0", f"t{tag}r0")
    try:
        ops.create(made.host)
        ops.create(made.container)
        subprocess.run(
            ["ip", "-n", made.host, "link", "add", made.rep, "up", "type", "veth",
             "peer", "name", made.vf],
            check=True,
        )  # fmt: skip
        yield made
    finally:
        for ns in (made.container, made.host):
            ops.delete(ns)
        ops.close()


def attach_eth0(bench: Bench) -> None:
    attach(
        bench.ops, bench.vf, bench.host, bench.container, ifname="eth0", mac=MAC, mtu=1400,
        addresses=("192.0.2.10/24", "2001:db8::10/64"),
        routes=(Route("default", "192.0.2.1"),),
    )  # fmt: skip


def test_an_attached_vf_is_eth0_in_the_container_with_its_mac_mtu_address_and_route(
    bench: Bench,
) -> None:
    attach_eth0(bench)
    (link,) = ip_json("-n", bench.container, "link", "show", "eth0")
    assert (link["address"], link["mtu"], "UP" in link["flags"]) == (MAC, 1400, True)
    (addr,) = ip_json("-n", bench.container, "addr", "show", "eth0")
    shown = {f"{a['local']}/{a['prefixlen']}" for a in addr["addr_info"]}
    assert {"192.0.2.10/24", "2001:db8::10/64"} <= shown
    routes = ip_json("-n", bench.container, "route", "show", "default")
    assert [(r["gateway"], r["dev"]) for r in routes] == [("192.0.2.1", "eth0")]
    host_names = link_names(bench.host)
    assert bench.vf not in host_names


def test_attaching_twice_changes_nothing(bench: Bench) -> None:
    attach_eth0(bench)
    before = ip_json("-n", bench.container, "addr", "show")
    attach_eth0(bench)
    assert ip_json("-n", bench.container, "addr", "show") == before


def test_detaching_brings_the_vf_home_under_its_name_with_its_mac(bench: Bench) -> None:
    (original,) = ip_json("-n", bench.host, "link", "show", bench.vf)
    attach_eth0(bench)
    assert detach(bench.ops, bench.vf, bench.host, bench.container) is Outcome.RETURNED
    (home,) = ip_json("-n", bench.host, "link", "show", bench.vf)
    assert (home["address"], home["mtu"]) == (original["address"], original["mtu"])
    assert "ifalias" not in home
    names = [link["ifname"] for link in ip_json("-n", bench.container, "link", "show")]
    assert names == ["lo"]
    assert detach(bench.ops, bench.vf, bench.host, bench.container) is Outcome.HOME


def test_a_veth_vf_dies_with_its_vanished_namespace_and_its_representor_with_it(
    bench: Bench,
) -> None:
    attach_eth0(bench)
    subprocess.run(["ip", "netns", "delete", bench.container], check=True)
    # The kernel tears a namespace down after the last reference goes, a moment later.
    assert wait_for(lambda: bench.rep not in link_names(bench.host))
    assert detach(bench.ops, bench.vf, bench.host, bench.container) is Outcome.GONE
    assert bench.vf not in [link["ifname"] for link in ip_json("link", "show")]


def test_removing_a_namespace_moves_its_vfs_out_before_it_goes(bench: Bench) -> None:
    attach_eth0(bench)
    assert remove_namespace(bench.ops, bench.container) == {bench.vf: Outcome.RETURNED}
    host_names = link_names(bench.host)
    assert {bench.vf, bench.rep} <= set(host_names)


def test_a_vfnet_container_runs_a_command_reaches_its_neighbour_and_gives_its_vf_back(
    bench: Bench,
) -> None:
    container_id = f"t{uuid.uuid4().hex[:6]}"
    ns = create_container(bench.ops, container_id)
    try:
        attach(bench.ops, bench.vf, bench.host, ns, ifname="eth0", addresses=("192.0.2.10/24",))
        subprocess.run(
            ["ip", "-n", bench.host, "addr", "add", "192.0.2.1/24", "dev", bench.rep], check=True
        )
        sleeper = run_in_container(container_id, ["sleep", "60"])
        ping = subprocess.run(
            ["ip", "netns", "exec", ns, "ping", "-c", "1", "-W", "2", "192.0.2.1"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert ping.returncode == 0, ping.stdout + ping.stderr
        assert delete_container(bench.ops, container_id) == {bench.vf: Outcome.RETURNED}
        assert sleeper.wait(timeout=10) != 0
    finally:
        bench.ops.delete(ns)
    host_names = link_names(bench.host)
    assert bench.vf in host_names


def test_deleting_a_container_stops_what_runs_in_it_but_never_a_vfnet_agent_inside(
    bench: Bench, tmp_path: Path
) -> None:
    agent = tmp_path / "vfnet-agent"  # a stand-in with the agent's name, passing through
    agent.write_text(f"#!{sys.executable}\nimport time\ntime.sleep(60)\n")
    agent.chmod(0o755)
    container_id = f"t{uuid.uuid4().hex[:6]}"
    ns = create_container(bench.ops, container_id)
    try:
        workload = run_in_container(container_id, ["sleep", "60"])
        passing = run_in_container(container_id, [str(agent)])
        time.sleep(0.5)  # both started inside
        delete_container(bench.ops, container_id)
        assert workload.wait(timeout=10) != 0
        assert passing.poll() is None, "the agent was killed with the container"
    finally:
        passing.kill()
        bench.ops.delete(ns)

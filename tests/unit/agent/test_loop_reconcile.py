"""The agent's turn: inventory, then a long poll of the desired state, reconcile, status.

The server is a fake at our own seam (the part of the client the agent calls); the host
is a generated sysfs tree and the driver the memory one, kept in step with discovery.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from vfnet.agent.desired import DesiredState
from vfnet.agent.loop import Agent, Discovery
from vfnet.agent.main import MemoryKeeper, host_switch
from vfnet.agent.serve import Reconciler, serve, status_body
from vfnet.agent.settings import AgentSettings
from vfnet.lab.hostspec import HostSpec
from vfnet.lab.sysfs import generate_host
from vfnet.network.vf_settings import RESET, VfSettings
from vfnet.pci.address import PciAddress

from .states import FULL, claim

VF0, VF1 = PciAddress.parse("0000:3b:02.0"), PciAddress.parse("0000:3b:02.1")
HOST = "compute-1"


class FakeServer:
    """Answers as the server does; ``desired`` is what it publishes, ``fail`` its outage."""

    def __init__(self) -> None:
        self.desired = DesiredState(HOST, 1)
        self.polls: list[tuple[int | None, float | None]] = []
        self.statuses: list[dict[str, Any]] = []
        self.registered: list[dict[str, Any]] = []
        self.fail: Exception | None = None
        self.problems: list[str] | None = None

    def register_host(self, name: str, **facts: Any) -> dict[str, Any]:
        self.registered.append({"name": name, **facts})
        return {"name": name, "report_generation": 0}

    def report_inventory(
        self,
        host: str,
        report_generation: int,
        devices: Iterable[Mapping[str, Any]],
        problems: Iterable[str] | None = None,
    ) -> dict[str, Any]:
        self.problems = None if problems is None else list(problems)
        return {"applied": True, "report_generation": report_generation, "added": [],
                "removed": [], "vanished": []}  # fmt: skip

    def list_host_devices(self, host: str) -> list[dict[str, Any]]:
        return []

    def get_desired(
        self, host: str, since: int | None = None, wait: float | None = None
    ) -> dict[str, Any]:
        self.polls.append((since, wait))
        if self.fail is not None:
            raise self.fail
        return self.desired.to_json()

    def report_status(self, host: str, body: Mapping[str, Any]) -> dict[str, Any]:
        self.statuses.append(dict(body))
        return {}


@pytest.fixture
def agent(tmp_path: Path) -> Agent:
    """An agent on two X710 PFs (ens1f0 with 4 VFs on physnet1, ens1f1 without)."""
    root = tmp_path / "sys"
    generate_host(HostSpec(nic="x710", pfs=2, vfs=4, numa_nodes=1), root)
    config = tmp_path / "host.toml"
    config.write_text(
        f'[host]\nname = "{HOST}"\nsysfs_root = "{root}"\n\n'
        '[sriov_nic]\nphysical_device_mappings = "physnet1:ens1f0"\n'
    )
    made = Agent(AgentSettings(config, "http://vfnet:8080", "t"), FakeServer())
    made.start()
    made.manages_vfs = True
    return made


def ticking(step: float = 0.01):
    clock = itertools.count(0.0, step)
    return lambda: next(clock)


def turn(agent: Agent, reconciler: Reconciler, wait: float = 2.0):
    agent.run_pass()
    assert agent.discovery is not None
    return reconciler.step(HOST, agent.discovery, wait=wait)


def publish(server: FakeServer, generation: int, claimed=None, released=None) -> None:
    vfs = {a: claim(a, settings, port=f"port-{n}") for n, (a, settings) in
           enumerate((claimed or {}).items())}  # fmt: skip
    server.desired = DesiredState(HOST, generation, vfs, dict(released or {}))


def test_a_turn_applies_the_desired_state_and_posts_each_port_active(agent: Agent) -> None:
    server, keeper = agent.server, MemoryKeeper()
    publish(server, 3, {VF1: FULL})
    step = turn(agent, Reconciler(server, keeper))
    assert keeper.driver.tables["ens1f0"][1] == FULL
    [status] = server.statuses
    assert status == {
        "generation": 3,
        "ports": [{"port_id": "port-0", "status": "ACTIVE", "reason": "", "refused": []}],
        "releases": [],
    }
    assert step.problems == []


def test_the_agent_registers_as_managing_its_vfs(agent: Agent) -> None:
    agent.run_pass()
    assert agent.server.registered[0]["manages_vfs"] is True
    assert agent.server.registered[0]["bridges"] == {}


def test_bridges_in_the_config_are_declared_and_a_change_registers_again(
    agent: Agent, tmp_path: Path
) -> None:
    agent.run_pass()
    config = tmp_path / "host.toml"
    config.write_text(config.read_text() + '\n[bridges]\nphysnet1 = "br-phys1"\n')
    agent.run_pass()
    assert [r["bridges"] for r in agent.server.registered] == [{}, {"physnet1": "br-phys1"}]
    agent.run_pass()
    assert len(agent.server.registered) == 2
    assert agent.server.problems == []  # reported: none


def test_the_host_s_problems_go_with_its_inventory_report(agent: Agent) -> None:
    config = agent.settings.config_path
    config.write_text(config.read_text().replace('"physnet1:ens1f0"', '"physnet1:ens1f0,p2:ens9"'))
    agent.run_pass()
    assert agent.server.problems == [
        f"{config} [sriov_nic] physical_device_mappings p2:ens9: PF does not exist on this host"
    ]


def test_the_next_poll_waits_for_a_generation_newer_than_the_one_reconciled(
    agent: Agent,
) -> None:
    server = agent.server
    reconciler = Reconciler(server, MemoryKeeper())
    publish(server, 3, {VF1: FULL})
    turn(agent, reconciler, wait=10.0)
    turn(agent, reconciler, wait=10.0)
    assert server.polls == [(None, 10.0), (3, 10.0)]
    assert len(server.statuses) == 1  # the same status is not posted twice


def test_a_poll_answered_at_once_with_nothing_new_leaves_the_rest_of_the_interval(
    agent: Agent,
) -> None:
    server = agent.server
    reconciler = Reconciler(server, MemoryKeeper(), clock=ticking(0.5))
    assert turn(agent, reconciler, wait=10.0).rest == 0.0  # news: the first document
    assert turn(agent, reconciler, wait=10.0).rest == pytest.approx(9.5)


def test_an_unbound_port_s_vf_is_reset_and_its_release_reported_verified(agent: Agent) -> None:
    server, keeper = agent.server, MemoryKeeper()
    reconciler = Reconciler(server, keeper)
    publish(server, 1, {VF1: FULL})
    turn(agent, reconciler)
    publish(server, 2, released={VF1: 1})
    turn(agent, reconciler)
    assert keeper.driver.tables["ens1f0"][1] == RESET
    assert server.statuses[-1]["releases"] == [
        {"address": str(VF1), "claim_generation": 1, "verified": True, "reason": ""}
    ]


def test_a_port_the_driver_cannot_mirror_is_posted_in_error_with_mirror_refused(
    agent: Agent,
) -> None:
    server = agent.server
    publish(server, 1, {VF0: FULL})
    vf = server.desired.claimed[VF0]
    server.desired = DesiredState(HOST, 1, {VF0: dataclasses.replace(vf, mirror_to=VF1)})
    turn(agent, Reconciler(server, MemoryKeeper()))
    [port] = server.statuses[0]["ports"]
    assert (port["status"], port["refused"]) == ("ERROR", ["mirror"])
    assert port["reason"] == "mirror: not supported by the memory driver"


def test_a_server_outage_is_one_logged_line_and_the_loop_goes_on(
    agent: Agent, caplog: pytest.LogCaptureFixture
) -> None:
    server = agent.server
    server.fail = httpx.ConnectError("[Errno 111] Connection refused")
    waits: list[float] = []

    def stop(seconds: float) -> bool:
        waits.append(seconds)
        return len(waits) == 2

    code = serve(agent, Reconciler(server, MemoryKeeper()), interval=5.0, once=False, stop=stop)
    assert code == 0
    assert waits == [5.0, 5.0]
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert errors == ["pass: ConnectError: [Errno 111] Connection refused; retrying in 5s"] * 2


def test_once_exits_1_when_a_port_is_in_error(agent: Agent) -> None:
    server = agent.server
    publish(server, 1, {PciAddress.parse("0000:3b:02.7"): FULL})  # not a VF of this host
    code = serve(agent, Reconciler(server, MemoryKeeper()), interval=5.0, once=True,
                 stop=lambda _: True)  # fmt: skip
    assert code == 1
    assert server.polls == [(None, None)]  # --once does not wait


def test_the_memory_driver_follows_the_vfs_discovery_finds(agent: Agent) -> None:
    agent.run_pass()
    assert agent.discovery is not None
    driver = MemoryKeeper().driver_for(agent.discovery)
    assert driver.read("ens1f0") == dict.fromkeys(range(4), RESET)


def test_the_emulated_switch_is_built_from_discovery_and_the_config_s_physnets(
    agent: Agent,
) -> None:
    agent.run_pass()
    assert isinstance(agent.discovery, Discovery)
    switch = host_switch(HOST, agent.discovery)
    [pf] = switch.pfs
    assert (switch.host, pf.pf, pf.physnet) == (HOST, "ens1f0", "physnet1")
    assert pf.vfs == ("ens1f0v0", "ens1f0v1", "ens1f0v2", "ens1f0v3")


def test_a_status_body_lists_ports_by_id_and_releases_by_address() -> None:
    from vfnet.agent.plan import PortReport, PortState, ReleaseReport
    from vfnet.agent.reconcile import PassResult

    result = PassResult(
        7,
        ports=(PortReport("b", VF1, 1, PortState.ERROR, "rate refused", ("rate",)),
               PortReport("a", VF0, 2, PortState.ACTIVE)),
        releases=(ReleaseReport(VF1, 4, False, "vlan reads back 5"),),
    )  # fmt: skip
    body = status_body(result)
    assert [p["port_id"] for p in body["ports"]] == ["a", "b"]
    assert body["ports"][1]["refused"] == ["rate"]
    assert body["releases"] == [
        {"address": str(VF1), "claim_generation": 4, "verified": False,
         "reason": "vlan reads back 5"}
    ]  # fmt: skip


def test_settings_read_back_are_logged_one_line_per_vf(
    agent: Agent, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    server = agent.server
    publish(server, 1, {VF1: VfSettings(mac="fa:16:3e:00:00:09", vlan=100, max_tx_rate=10)})
    turn(agent, Reconciler(server, MemoryKeeper()))
    [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("port ")]
    assert line.startswith(f"port port-0: ACTIVE on {VF1} (ens1f0 VF 1): mac fa:16:3e:00:00:09")
    assert "max_tx_rate 10 Mbps" in line

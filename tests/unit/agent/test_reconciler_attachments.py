"""The agent's turn with attachments and pluggers: a port is ACTIVE only when its settings and
its attachment hold, a release verified only when its VF is home, and what pluggers could
not plug is reported on the port (or as a problem of the host)."""

from __future__ import annotations

from collections.abc import Mapping

from vfnet.agent.attach.netns import Route
from vfnet.agent.attach.own import container_netns
from vfnet.agent.desired import (
    AttachKind,
    Attachment,
    BridgePort,
    ClaimedVf,
    DesiredState,
    InstanceSpec,
    InstanceState,
)
from vfnet.agent.loop import Agent, Discovery
from vfnet.agent.main import MemoryKeeper, attachments_for
from vfnet.agent.serve import Reconciler
from vfnet.pci.address import PciAddress

from .states import FULL
from .test_loop_reconcile import HOST, VF0, VF1, agent, turn  # noqa: F401

WEB = "6f1c"


def in_web(address: PciAddress, port: str, index: int = 0) -> ClaimedVf:
    routes = (Route("default", "10.0.0.1"),)
    attach = Attachment(AttachKind.NETNS, container_netns(WEB), f"eth{index}", ("10.0.0.5/24",),
                        routes, instance=WEB)  # fmt: skip
    return ClaimedVf(address, f"instance:{WEB}", 1, port, FULL, mtu=1500, attach=attach)


def web_with(address: PciAddress) -> DesiredState:
    """Container ``WEB`` on the host, holding ``address`` as eth0."""
    claimed = {address: in_web(address, f"port-{address.function}")}
    return DesiredState(HOST, 1, claimed, instances={WEB: InstanceSpec(WEB, "container")})


def reconciler(agent: Agent, **kwargs: object) -> tuple[Reconciler, MemoryKeeper]:  # noqa: F811
    keeper = MemoryKeeper()
    attachments, _ = attachments_for(keeper, HOST)
    return Reconciler(agent.server, keeper, attachments=attachments, **kwargs), keeper  # type: ignore[arg-type]


def ports(agent: Agent) -> dict[str, tuple[str, str]]:  # noqa: F811
    return {p["port_id"]: (p["status"], p["reason"]) for p in agent.server.statuses[-1]["ports"]}


def test_a_container_s_port_is_active_once_its_vf_is_inside(agent: Agent) -> None:  # noqa: F811
    made, keeper = reconciler(agent)
    agent.server.desired = web_with(VF1)
    step = turn(agent, made)
    assert ports(agent) == {"port-1": ("ACTIVE", "")}
    assert step.problems == []
    inside = {link.name for link in keeper.namespaces.links(container_netns(WEB))}
    assert inside == {"eth0"}


def test_a_port_whose_namespace_is_missing_is_in_error_saying_attach(agent: Agent) -> None:  # noqa: F811
    made, _ = reconciler(agent)
    elsewhere = ClaimedVf(VF0, "sandbox:1", 1, "port-0", FULL,
                          attach=Attachment(AttachKind.NETNS, "cni-5d2a", "net1"))  # fmt: skip
    agent.server.desired = DesiredState(HOST, 1, {VF0: elsewhere})
    step = turn(agent, made)
    assert ports(agent) == {"port-0": ("ERROR", "attach: namespace cni-5d2a not found")}
    assert step.problems == ["port port-0: attach: namespace cni-5d2a not found"]


def test_a_release_is_verified_in_the_turn_that_brings_its_vf_home(agent: Agent) -> None:  # noqa: F811
    made, keeper = reconciler(agent)
    agent.server.desired = web_with(VF1)
    turn(agent, made)
    agent.server.desired = DesiredState(HOST, 2, released={VF1: 1})
    turn(agent, made)
    assert agent.server.statuses[-1]["releases"] == [
        {"address": str(VF1), "claim_generation": 1, "verified": True, "reason": ""}
    ]
    assert not keeper.namespaces.exists(container_netns(WEB))


def test_a_release_whose_vf_cannot_come_home_is_not_verified(agent: Agent) -> None:  # noqa: F811
    made, keeper = reconciler(agent)
    agent.server.desired = web_with(VF1)
    turn(agent, made)
    keeper.namespaces.add_link(None, "ens1f0v1", "52:54:00:99:99:99", kind="veth")  # name taken
    agent.server.desired = DesiredState(HOST, 2, released={VF1: 1})
    step = turn(agent, made)
    [release] = agent.server.statuses[-1]["releases"]
    assert release["verified"] is False
    assert "cannot rename" in release["reason"] and "ens1f0v1" in release["reason"]
    assert step.problems == [f"release {VF1}: {release['reason']}"]


class Plugger:
    """An instance plugger at our own seam: fails what ``failing`` names."""

    def __init__(self, failing: Mapping[str, str]) -> None:
        self.failing = dict(failing)
        self.seen: list[DesiredState] = []

    def sync(self, desired: DesiredState, discovery: Discovery) -> Mapping[str, str]:
        self.seen.append(desired)
        return self.failing


def test_pluggers_failures_are_port_errors_and_normal_ports_are_reported(agent: Agent) -> None:  # noqa: F811
    vm = ClaimedVf(VF0, "instance:vm-1", 1, "port-0", FULL,
                   attach=Attachment(AttachKind.LIBVIRT, "vm-1", vnic_type="direct",
                                     instance="vm-1"))  # fmt: skip
    bridged = (BridgePort("port-b1", "fa:16:3e:00:00:09", "br-phys1", "eth1"),
               BridgePort("port-b2", "fa:16:3e:00:00:0a", "br-phys1", "eth2"))  # fmt: skip
    instances = {
        "vm-1": InstanceSpec("vm-1", "vm", vcpus=2, memory_mib=512),
        WEB: InstanceSpec(WEB, "container", InstanceState.RUNNING, bridge_ports=bridged),
    }
    agent.server.desired = DesiredState(HOST, 1, {VF0: vm}, instances=instances)
    failing = {"port-0": "vm vm-1: no such hostdev", "port-b2": "bridge 'br-phys1' is missing",
               "instance:vm-1": "vm vm-1: GPU 0000:af:00.0 is in use"}  # fmt: skip
    plugger = Plugger(failing)
    made, _ = reconciler(agent, pluggers=[plugger, Plugger({})])
    step = turn(agent, made)
    assert ports(agent) == {
        "port-0": ("ERROR", "vm vm-1: no such hostdev"),
        "port-b1": ("ACTIVE", ""),
        "port-b2": ("ERROR", "bridge 'br-phys1' is missing"),
    }
    assert "instance:vm-1: vm vm-1: GPU 0000:af:00.0 is in use" in step.problems
    assert plugger.seen == [agent.server.desired]


def test_without_pluggers_normal_ports_are_not_reported(agent: Agent) -> None:  # noqa: F811
    bridged = (BridgePort("port-b1", "fa:16:3e:00:00:09", "br-phys1", "eth1"),)
    agent.server.desired = DesiredState(
        HOST, 1, instances={WEB: InstanceSpec(WEB, "container", bridge_ports=bridged)}
    )
    made, _ = reconciler(agent)
    turn(agent, made)
    assert ports(agent) == {}

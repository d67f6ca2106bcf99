"""Where VF netdevs go, decided and done over namespaces kept in memory (as the kernel keeps
them): into containers, home again, back from a vanished namespace, and after a crash at
any step, by a fresh agent."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pytest

from vfnet.agent.attach.containers import Home, remove_namespace
from vfnet.agent.attach.memory_netns import MemoryNamespaces
from vfnet.agent.attach.netns import Link, Route
from vfnet.agent.attach.own import container_netns
from vfnet.agent.attachments import Attachments, discovered_names
from vfnet.agent.desired import (
    AttachKind,
    Attachment,
    ClaimedVf,
    DesiredState,
    InstanceSpec,
    InstanceState,
)
from vfnet.agent.loop import Agent, Discovery
from vfnet.agent.settings import AgentSettings
from vfnet.lab.hostspec import HostSpec
from vfnet.lab.sysfs import generate_host
from vfnet.pci.address import PciAddress

from .states import port_settings

VF0, VF1, VF2 = (PciAddress.parse(f"0000:3b:02.{n}") for n in range(3))
NAMES = {VF0: "ens1f0v0", VF1: "ens1f0v1", VF2: "ens1f0v2"}
HOME_MACS = {name: f"52:54:00:00:00:0{n}" for n, name in enumerate(NAMES.values())}


class Crash(Exception):
    """The agent dies here; not a VfnetError, so nothing in the agent catches it."""


class Counting:
    """NamespaceOps over ``inner`` that counts calls, and crashes before call ``crash_at``."""

    def __init__(self, inner: MemoryNamespaces, crash_at: int | None = None) -> None:
        self.inner, self.crash_at = inner, crash_at
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.inner, name)
        if name == "release":  # lets go of handles: no kernel call
            return method

        def call(*args: Any, **kwargs: Any) -> Any:
            if self.crash_at is not None and len(self.calls) == self.crash_at:
                raise Crash(f"before {name}{args}")
            self.calls.append((name, args))
            return method(*args, **kwargs)

        return call


@pytest.fixture(scope="module")
def discovery(tmp_path_factory: pytest.TempPathFactory) -> Discovery:
    """An X710 host: ens1f0 with four VFs on physnet1, as the agent discovers it (read
    only: one for the module)."""
    tmp_path = tmp_path_factory.mktemp("attachments")
    root = tmp_path / "sys"
    generate_host(HostSpec(nic="x710", pfs=1, vfs=4, numa_nodes=1), root)
    config = tmp_path / "host.toml"
    config.write_text(
        f'[host]\nname = "compute-1"\nsysfs_root = "{root}"\n\n'
        '[sriov_nic]\nphysical_device_mappings = "physnet1:ens1f0"\n'
    )
    agent = Agent(AgentSettings(config, "http://vfnet:8080", "t"), _Quiet(), in_use=frozenset)
    agent.start()
    agent.run_pass()
    assert agent.discovery is not None
    return agent.discovery


class _Quiet:
    """The server part inventory needs; what it is told is not what these tests look at."""

    def register_host(self, name: str, **facts: Any) -> dict[str, Any]:
        return {"report_generation": 0}

    def report_inventory(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return {"applied": True, "report_generation": 1, "added": [], "removed": [],
                "vanished": []}  # fmt: skip

    def list_host_devices(self, host: str) -> list[dict[str, Any]]:
        return []


@pytest.fixture
def kernel() -> MemoryNamespaces:
    """The host namespace with the VFs' netdevs, as a NIC's driver makes them."""
    made = MemoryNamespaces()
    for name, mac in HOME_MACS.items():
        made.add_link(None, name, mac)
    return made


def attachments(ops: Any, remade: list[str] | None = None, mark: str | None = None) -> Attachments:
    def forget(ops: Any, instance: str) -> Mapping[str, Any]:
        return remove_namespace(ops, container_netns(instance))

    def namespaces() -> Iterable[str]:
        inner = ops.inner if isinstance(ops, Counting) else ops
        return [ns for ns in inner.spaces if ns is not None]

    return Attachments(
        ops, home_ns=None, names=discovered_names, namespaces=namespaces, delete=forget,
        remake=None if remade is None else (lambda: remade.append("switch")), owner_mark=mark,
    )  # fmt: skip


def container(instance: str, index: int, *, gateway: bool = True) -> Attachment:
    routes = (Route("default", "10.0.0.1"),) if gateway else ()
    return Attachment(
        AttachKind.NETNS, container_netns(instance), f"eth{index}",
        (f"10.0.0.{10 + index}/24",), routes, instance=instance,
    )  # fmt: skip


def claim(address: PciAddress, attach: Attachment, *, generation: int = 1) -> ClaimedVf:
    n = address.function
    return ClaimedVf(address, f"instance:{attach.instance}", generation, f"port-{n}",
                     port_settings(n), mtu=9000, attach=attach)  # fmt: skip


def desired(
    *claims: ClaimedVf,
    released: Mapping[PciAddress, int] | None = None,
    states: Mapping[str, InstanceState] | None = None,
    generation: int = 1,
) -> DesiredState:
    ids = {c.attach.instance for c in claims if c.attach.instance} | set(states or {})
    instances = {
        i: InstanceSpec(i, "container", (states or {}).get(i, InstanceState.RUNNING))
        for i in sorted(ids)
    }
    return DesiredState("compute-1", generation, {c.address: c for c in claims},
                        dict(released or {}), instances)  # fmt: skip


def sync(made: Attachments, state: DesiredState, discovery: Discovery) -> Any:
    return made.sync(state, discovery.managed(), discovery)


def link(ops: MemoryNamespaces, ns: str | None, name: str) -> Link | None:
    return next((x for x in ops.links(ns) if x.name == name), None)


def test_a_container_s_vf_goes_into_its_namespace_named_addressed_routed_and_up(
    kernel: MemoryNamespaces, discovery: Discovery
) -> None:
    made = attachments(kernel)
    result = sync(made, desired(claim(VF1, container("web", 0))), discovery)
    assert (result.failed, result.away) == ({}, {})
    inside = link(kernel, "vfnet-c-web", "eth0")
    assert inside is not None and inside.up
    assert (inside.mac, inside.mtu) == (port_settings(1).mac, 9000)
    assert Home.of(inside.alias) == Home(None, "ens1f0v1", HOME_MACS["ens1f0v1"], 1500)
    assert kernel.addresses("vfnet-c-web", "eth0") == ["10.0.0.10/24"]
    assert Route("default", "10.0.0.1") in kernel.routes("vfnet-c-web", "eth0")
    assert link(kernel, None, "ens1f0v1") is None


def test_an_idle_pass_reads_one_link_dump_per_container_and_changes_nothing(
    kernel: MemoryNamespaces, discovery: Discovery
) -> None:
    ops = Counting(kernel)
    made = attachments(ops)
    state = desired(claim(VF0, container("web", 0)), claim(VF1, container("web", 1)),
                    claim(VF2, container("db", 0)))  # fmt: skip
    sync(made, state, discovery)
    ops.calls.clear()
    result = sync(made, state, discovery)
    assert (result.failed, result.away, result.hurry) == ({}, {}, False)
    assert sorted(ops.calls, key=str) == [("links", ("vfnet-c-db",)), ("links", ("vfnet-c-web",))]


def test_a_container_namespace_that_is_not_vfnet_s_must_exist(
    kernel: MemoryNamespaces, discovery: Discovery
) -> None:
    attach = Attachment(AttachKind.NETNS, "cni-5d2a", "net1")
    result = sync(attachments(kernel), desired(claim(VF0, attach)), discovery)
    assert result.failed == {VF0: "attach: namespace cni-5d2a not found"}
    assert link(kernel, None, "ens1f0v0") is not None


def test_a_suspended_or_migrating_instance_s_vf_goes_home_with_its_name_and_mac(
    kernel: MemoryNamespaces, discovery: Discovery
) -> None:
    made = attachments(kernel)
    vfs = claim(VF0, container("web", 0)), claim(VF1, container("db", 0))
    sync(made, desired(*vfs), discovery)
    states = {"web": InstanceState.SUSPENDED, "db": InstanceState.MIGRATING}
    result = sync(made, desired(*vfs, states=states, generation=2), discovery)
    assert (result.failed, result.away) == ({}, {})
    for name in ("ens1f0v0", "ens1f0v1"):
        home = link(kernel, None, name)
        assert home is not None
        assert (home.mac, home.alias, home.mtu) == (HOME_MACS[name], None, 1500)
    assert kernel.links("vfnet-c-web") == []  # the namespace stays: its instance does
    sync(made, desired(*vfs, generation=3), discovery)  # resumed: back in
    assert link(kernel, "vfnet-c-web", "eth0") is not None


def test_a_deleted_instance_s_vf_comes_home_and_its_namespace_goes(
    kernel: MemoryNamespaces, discovery: Discovery
) -> None:
    made = attachments(kernel)
    sync(made, desired(claim(VF2, container("web", 0))), discovery)
    result = sync(made, desired(released={VF2: 1}, generation=2), discovery)
    assert (result.failed, result.away) == ({}, {})
    assert not kernel.exists("vfnet-c-web")
    assert link(kernel, None, "ens1f0v2") is not None


def test_a_release_is_not_verified_while_its_vf_cannot_come_home(
    kernel: MemoryNamespaces, discovery: Discovery
) -> None:
    made = attachments(kernel)
    sync(made, desired(claim(VF0, container("web", 0))), discovery)
    squatter = kernel.add_link(None, "ens1f0v0", "52:54:00:99:99:99", kind="dummy")
    result = sync(made, desired(released={VF0: 1}, generation=2), discovery)
    assert list(result.away) == [VF0]
    assert "back to ens1f0v0: the name is taken" in result.away[VF0]
    kernel.spaces[None].pop(squatter.name)
    result = sync(made, desired(released={VF0: 1}, generation=2), discovery)
    assert result.away == {}
    assert not kernel.exists("vfnet-c-web")


def test_a_host_attached_vf_found_in_a_vfnet_container_is_brought_home(
    kernel: MemoryNamespaces, discovery: Discovery
) -> None:
    made = attachments(kernel)
    sync(made, desired(claim(VF1, container("web", 0))), discovery)
    on_host = dataclasses.replace(claim(VF1, container("web", 0)), attach=Attachment())
    result = sync(made, desired(on_host, states={"web": InstanceState.RUNNING}, generation=2),
                  discovery)  # fmt: skip
    assert (result.failed, result.away) == ({}, {})
    assert link(kernel, None, "ens1f0v1") is not None
    assert kernel.exists("vfnet-c-web")  # its instance is still on the host


def test_a_nic_vf_returned_by_a_vanished_namespace_is_found_and_attached_again(
    kernel: MemoryNamespaces, discovery: Discovery
) -> None:
    made = attachments(kernel)
    state = desired(claim(VF0, container("web", 0)))
    sync(made, state, discovery)
    kernel.delete("vfnet-c-web")  # ip netns del: the kernel sends the NIC's VF home as eth0
    assert link(kernel, None, "eth0") is not None
    result = sync(made, state, discovery)
    assert result.failed == {}
    assert link(kernel, "vfnet-c-web", "eth0") is not None
    assert link(kernel, None, "eth0") is None


def test_a_veth_vf_that_died_with_its_namespace_is_reported_and_its_switch_asked_again(
    discovery: Discovery,
) -> None:
    kernel = MemoryNamespaces()
    for name, mac in HOME_MACS.items():
        kernel.add_link(None, name, mac, kind="veth")
    remade: list[str] = []
    made = attachments(kernel, remade)
    state = desired(claim(VF0, container("web", 0)))
    sync(made, state, discovery)
    kernel.delete("vfnet-c-web")
    result = sync(made, state, discovery)
    assert "ens1f0v0 is gone" in result.failed[VF0]
    assert result.hurry and remade
    kernel.add_link(None, "ens1f0v0", HOME_MACS["ens1f0v0"], kind="veth")  # the switch again
    assert sync(made, state, discovery).failed == {}
    assert link(kernel, "vfnet-c-web", "eth0") is not None


def test_a_vf_moved_to_another_instance_leaves_the_first_one_s_namespace(
    kernel: MemoryNamespaces, discovery: Discovery
) -> None:
    made = attachments(kernel)
    sync(made, desired(claim(VF0, container("web", 0))), discovery)
    moved = claim(VF0, container("db", 1), generation=2)
    result = sync(made, desired(moved, states={"web": InstanceState.RUNNING}, generation=2),
                  discovery)  # fmt: skip
    assert result.failed == {}
    assert kernel.links("vfnet-c-web") == []
    assert link(kernel, "vfnet-c-db", "eth1") is not None


def _namespace_with_loopback(kernel: MemoryNamespaces, ns: str, alias: str | None) -> None:
    kernel.create(ns)
    kernel.add_link(ns, "lo", "00:00:00:00:00:00", kind="loopback")
    if alias is not None:
        kernel.set_link(ns, "lo", alias=alias)


def test_on_a_shared_kernel_a_container_is_marked_and_only_this_host_s_are_removed(
    kernel: MemoryNamespaces, discovery: Discovery
) -> None:
    _namespace_with_loopback(kernel, "vfnet-c-web", None)
    _namespace_with_loopback(kernel, "vfnet-c-gone", "vfnet-host compute-1")
    _namespace_with_loopback(kernel, "vfnet-c-elsewhere", "vfnet-host compute-2")
    _namespace_with_loopback(kernel, "vfnet-c-unmarked", None)
    made = attachments(kernel, mark="compute-1")
    sync(made, desired(claim(VF0, container("web", 0))), discovery)
    assert link(kernel, "vfnet-c-web", "lo") == dataclasses.replace(
        link(kernel, "vfnet-c-web", "lo"), alias="vfnet-host compute-1"
    )
    assert not kernel.exists("vfnet-c-gone")
    assert kernel.exists("vfnet-c-elsewhere") and kernel.exists("vfnet-c-unmarked")
    sync(attachments(kernel, mark="compute-1"), desired(generation=2), discovery)
    assert not kernel.exists("vfnet-c-web")  # a fresh agent knows it by its mark


def test_on_a_shared_kernel_a_container_that_migrated_to_another_host_is_left_to_it(
    kernel: MemoryNamespaces, discovery: Discovery
) -> None:
    _namespace_with_loopback(kernel, "vfnet-c-web", None)
    made = attachments(kernel, mark="compute-1")
    sync(made, desired(claim(VF0, container("web", 0))), discovery)
    assert link(kernel, "vfnet-c-web", "eth0") is not None
    # The instance moves away: the target's agent, sharing this kernel, marks the
    # namespace its own before attaching its VF there; this host's VF is released.
    kernel.set_link("vfnet-c-web", "lo", alias="vfnet-host compute-2")
    sync(made, desired(released={VF0: 1}, generation=2), discovery)
    assert link(kernel, None, "ens1f0v0") is not None  # the source's VF came home
    assert kernel.exists("vfnet-c-web")
    sync(attachments(kernel, mark="compute-1"), desired(generation=3), discovery)
    assert kernel.exists("vfnet-c-web")  # a fresh agent leaves it too


def test_a_namespace_removed_while_its_vf_is_attached_is_made_again_at_once(
    kernel: MemoryNamespaces, discovery: Discovery
) -> None:
    made = attachments(kernel, mark="compute-2")
    original = kernel.move
    removed: list[str] = []

    def move(ns: Any, name: str, to_ns: Any, new_name: str) -> None:
        if to_ns == "vfnet-c-web" and not removed:
            removed.append(to_ns)
            kernel.delete(to_ns)
        original(ns, name, to_ns, new_name)

    kernel.move = move  # type: ignore[method-assign]
    result = sync(made, desired(claim(VF0, container("web", 0))), discovery)
    assert removed == ["vfnet-c-web"]
    assert link(kernel, "vfnet-c-web", "eth0") is not None
    assert not result.failed


def test_on_a_kernel_of_its_own_every_container_of_a_gone_instance_is_removed(
    kernel: MemoryNamespaces, discovery: Discovery
) -> None:
    kernel.create("vfnet-c-left-by-a-crash")
    sync(attachments(kernel), desired(claim(VF0, container("web", 0))), discovery)
    assert not kernel.exists("vfnet-c-left-by-a-crash")


def test_a_vf_attached_before_the_agent_started_is_known_by_its_alias(
    kernel: MemoryNamespaces, discovery: Discovery
) -> None:
    state = desired(claim(VF0, container("web", 0)))
    sync(attachments(kernel), state, discovery)
    blind = Attachments(  # discovery saw no netdev: it is in the container
        kernel, home_ns=None, names=lambda d, v: {},
        namespaces=lambda: [ns for ns in kernel.spaces if ns], delete=lambda o, i: {},
    )  # fmt: skip
    assert sync(blind, state, discovery).failed == {}
    assert link(kernel, "vfnet-c-web", "eth0") is not None


def _scenario(discovery: Discovery) -> tuple[DesiredState, DesiredState]:
    """Before: web holds VF0 and VF1, db holds VF2. After: db is deleted (VF2 released),
    web is suspended (VF0 home), VF1 moves to a new container, app."""
    before = desired(claim(VF0, container("web", 0)), claim(VF1, container("web", 1)),
                     claim(VF2, container("db", 0)))  # fmt: skip
    after = desired(
        claim(VF0, container("web", 0)), claim(VF1, container("app", 0), generation=2),
        released={VF2: 1}, states={"web": InstanceState.SUSPENDED}, generation=2,
    )  # fmt: skip
    return before, after


def _snapshot(kernel: MemoryNamespaces) -> dict[str | None, Any]:
    return {
        ns: sorted(
            (s.link.name, s.link.mac, s.link.mtu, s.link.up, s.link.alias, tuple(s.addresses),
             tuple(s.routes)) for s in space.values()
        )
        for ns, space in kernel.spaces.items()
    }  # fmt: skip


def _prepared(discovery: Discovery) -> MemoryNamespaces:
    kernel = MemoryNamespaces()
    for name, mac in HOME_MACS.items():
        kernel.add_link(None, name, mac)
    sync(attachments(kernel), _scenario(discovery)[0], discovery)
    return kernel


def test_an_agent_killed_before_any_namespace_call_converges_when_started_again(
    discovery: Discovery,
) -> None:
    after = _scenario(discovery)[1]
    reference = _prepared(discovery)
    counted = Counting(reference)
    sync(attachments(counted), after, discovery)
    expected = _snapshot(reference)
    assert set(expected) == {None, "vfnet-c-app", "vfnet-c-web"}
    assert len(counted.calls) > 30  # moves, renames, addresses, routes, deletes: each a crash
    for crash_at in range(len(counted.calls)):
        kernel = _prepared(discovery)
        with pytest.raises(Crash):
            sync(attachments(Counting(kernel, crash_at)), after, discovery)
        result = sync(attachments(kernel), after, discovery)
        assert (result.failed, result.away) == ({}, {}), crash_at
        assert _snapshot(kernel) == expected, f"crashed before call {crash_at}"

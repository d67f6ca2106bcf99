"""Attaching VF netdevs to namespaces and back, against the in-memory kernel."""

from __future__ import annotations

import pytest

from vfnet.agent.attach.containers import Home, Outcome, attach, detach, remove_namespace
from vfnet.agent.attach.memory_netns import MemoryNamespaces
from vfnet.agent.attach.netns import Route
from vfnet.agent.attach.own import container_netns, create_container
from vfnet.errors import Conflict, NotFound, ValidationError

VF = "ens1f0v1"
VF_MAC = "02:00:00:00:01:01"
MAC = "52:54:00:12:34:56"
HOST_NS = "vfnet-h1"
CONTAINER = "c1"
ADDRESSES = ("192.0.2.5/24", "2001:db8::5/64")
ROUTES = (Route("default", "192.0.2.1"),)


def kernel(*, kind: str | None = None, host_ns: str | None = HOST_NS) -> MemoryNamespaces:
    ops = MemoryNamespaces()
    if host_ns is not None:
        ops.create(host_ns)
    ops.add_link(host_ns, VF, VF_MAC, kind=kind)
    ops.create(CONTAINER)
    return ops


def plug(ops: MemoryNamespaces, host_ns: str | None = HOST_NS, ifname: str = "eth0") -> None:
    attach(
        ops, VF, host_ns, CONTAINER, ifname=ifname, mac=MAC, mtu=9000,
        addresses=ADDRESSES, routes=ROUTES,
    )  # fmt: skip


def test_attaching_a_vf_shows_it_in_the_container_renamed_configured_and_up() -> None:
    ops = kernel()
    plug(ops)
    (lo_less,) = ops.links(CONTAINER)
    assert (lo_less.name, lo_less.mac, lo_less.mtu, lo_less.up) == ("eth0", MAC, 9000, True)
    assert ops.addresses(CONTAINER, "eth0") == list(ADDRESSES)
    assert Route("default", "192.0.2.1") in ops.routes(CONTAINER, "eth0")
    assert ops.links(HOST_NS) == []


def test_attaching_twice_ends_in_the_same_state_with_one_move() -> None:
    ops = kernel()
    plug(ops)
    first = (ops.links(CONTAINER), ops.addresses(CONTAINER, "eth0"), ops.routes(CONTAINER, "eth0"))
    plug(ops)
    assert (ops.links(CONTAINER), ops.addresses(CONTAINER, "eth0")) == first[:2]
    assert ops.routes(CONTAINER, "eth0") == first[2]
    assert ops.moves == 1


def test_attaching_again_with_other_addresses_drops_the_old_ones() -> None:
    ops = kernel()
    plug(ops)
    attach(ops, VF, HOST_NS, CONTAINER, ifname="eth0", addresses=("198.51.100.7/24",))
    assert ops.addresses(CONTAINER, "eth0") == ["198.51.100.7/24"]


def test_the_move_goes_through_a_temporary_name_so_a_vf_named_eth0_meets_no_clash() -> None:
    ops = MemoryNamespaces()
    ops.create(HOST_NS)
    ops.add_link(HOST_NS, "eth0", VF_MAC)
    ops.create(CONTAINER)
    ops.add_link(CONTAINER, "eth1", "02:00:00:00:99:99", kind="veth")
    with pytest.raises(Conflict, match="already has a link named eth1"):
        attach(ops, "eth0", HOST_NS, CONTAINER, ifname="eth1")
    attach(ops, "eth0", HOST_NS, CONTAINER, ifname="net1")
    assert sorted(link.name for link in ops.links(CONTAINER)) == ["eth1", "net1"]


def test_detaching_restores_the_name_mac_and_mtu_in_the_host_namespace() -> None:
    ops = kernel()
    plug(ops)
    assert detach(ops, VF, HOST_NS, CONTAINER) is Outcome.RETURNED
    (home,) = ops.links(HOST_NS)
    assert (home.name, home.mac, home.mtu, home.up, home.alias) == (VF, VF_MAC, 1500, False, None)
    assert ops.links(CONTAINER) == []


def test_detaching_twice_or_what_was_never_attached_leaves_the_vf_home() -> None:
    ops = kernel()
    assert detach(ops, VF, HOST_NS, CONTAINER) is Outcome.HOME
    plug(ops)
    detach(ops, VF, HOST_NS, CONTAINER)
    assert detach(ops, VF, HOST_NS, CONTAINER) is Outcome.HOME
    assert [link.name for link in ops.links(HOST_NS)] == [VF]


def test_a_nic_vf_left_in_a_vanished_namespace_is_found_in_the_init_one_and_brought_home() -> None:
    ops = kernel()
    ops.add_link(None, "eth0", "02:00:00:00:00:aa")  # the host's own eth0 takes the name
    plug(ops)
    ops.delete(CONTAINER)
    assert "dev0" in [link.name for link in ops.links(None)]
    assert detach(ops, VF, HOST_NS, CONTAINER) is Outcome.RECOVERED
    (home,) = ops.links(HOST_NS)
    assert (home.name, home.mac, home.alias) == (VF, VF_MAC, None)
    assert [link.name for link in ops.links(None)] == ["eth0"]


def test_a_host_namespace_vf_left_in_a_vanished_namespace_gets_its_name_back() -> None:
    ops = kernel(host_ns=None)
    plug(ops, host_ns=None, ifname="net1")
    ops.delete(CONTAINER)
    assert [link.name for link in ops.links(None)] == ["net1"]
    assert detach(ops, VF, None, CONTAINER) is Outcome.RECOVERED
    assert [(link.name, link.mac) for link in ops.links(None)] == [(VF, VF_MAC)]


def test_a_veth_vf_dies_with_its_namespace_and_detach_says_it_is_gone() -> None:
    ops = kernel(kind="veth")
    plug(ops)
    ops.delete(CONTAINER)
    assert detach(ops, VF, HOST_NS, CONTAINER) is Outcome.GONE


def test_removing_a_namespace_sends_its_vfs_home_first() -> None:
    ops = kernel(kind="veth")
    plug(ops)
    assert remove_namespace(ops, CONTAINER) == {VF: Outcome.RETURNED}
    assert not ops.exists(CONTAINER)
    assert [link.name for link in ops.links(HOST_NS)] == [VF]


def test_a_crash_between_move_and_rename_is_finished_by_the_next_attach() -> None:
    ops = kernel()
    temporary = Home(HOST_NS, VF, VF_MAC, 1500)
    ops.set_link(HOST_NS, VF, alias=temporary.alias())
    ops.move(HOST_NS, VF, CONTAINER, temporary.temporary_name())
    plug(ops)
    assert [link.name for link in ops.links(CONTAINER)] == ["eth0"]
    detach(ops, VF, HOST_NS, CONTAINER)
    assert ops.links(HOST_NS)[0].mac == VF_MAC


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ({"vf": "ens1f0v9"}, NotFound),
        ({"ns": "no-such-ns"}, NotFound),
        ({"addresses": ("192.0.2.300/24",)}, ValidationError),
    ],
)
def test_attach_refuses_what_is_not_there_or_malformed(case: dict, error: type) -> None:
    ops = kernel()
    with pytest.raises(error):
        attach(
            ops, case.get("vf", VF), HOST_NS, case.get("ns", CONTAINER), ifname="eth0",
            addresses=case.get("addresses", ()),
        )  # fmt: skip


def test_vfnet_containers_are_namespaces_named_after_their_id() -> None:
    ops = kernel()
    ns = create_container(ops, "web-1")
    assert ns == "vfnet-c-web-1" == container_netns("web-1")
    attach(ops, VF, HOST_NS, ns, ifname="eth0")
    assert ops.links(HOST_NS) == []
    with pytest.raises(ValidationError, match="container_id"):
        container_netns("../etc")

"""The emulated host's software switch with real packets: segments, VLANs, spoofchk, rates."""

from __future__ import annotations

import json
import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from vfnet.agent.drivers import eswitch_names as names
from vfnet.agent.drivers.eswitch import EswitchDriver
from vfnet.agent.drivers.eswitch_topology import HostSwitch, PfPorts, ensure, teardown
from vfnet.network.vf_settings import APPLY_ORDER, RESET, LinkState, VfAttr, VfSettings

pytestmark = pytest.mark.privileged

PF = "ens1f0"
PHYSNET = "physnet1"


def sh(*argv: str, check: bool = True) -> str:
    return subprocess.run(argv, capture_output=True, text=True, check=check).stdout


def mac(n: int) -> str:
    return f"52:54:00:00:00:{n:02x}"


@dataclass
class Lab:
    """Switches and container namespaces made by one test, removed when it ends."""

    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    switches: list[tuple[HostSwitch, EswitchDriver]] = field(default_factory=list)
    containers: list[str] = field(default_factory=list)

    @property
    def fabric(self) -> str:
        return f"vfnet-tf{self.tag}"

    def host(self, name: str, vfs: int = 4) -> tuple[HostSwitch, EswitchDriver]:
        vf_names = tuple(f"{PF}v{n}" for n in range(vfs))
        switch = HostSwitch(f"t{self.tag}{name}", (PfPorts(PF, PHYSNET, vf_names),), self.fabric)
        ensure(switch)
        driver = EswitchDriver(switch)
        self.switches.append((switch, driver))
        return switch, driver

    def attach(self, switch: HostSwitch, vf: int, ip: str | None) -> str:
        """Moves VF ``vf``'s netdev into a new namespace as eth1, as an attach would."""
        ns = f"vfnet-tc{self.tag}{len(self.containers)}"
        sh("ip", "netns", "add", ns)
        self.containers.append(ns)
        sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
        sh("ip", "-n", switch.netns, "link", "set", f"{PF}v{vf}", "netns", ns)
        sh("ip", "-n", ns, "link", "set", f"{PF}v{vf}", "name", "eth1", "up")
        if ip is not None:
            sh("ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", "eth1")
        return ns

    def close(self) -> None:
        for ns in self.containers:
            sh("ip", "netns", "delete", ns, check=False)
        for switch, driver in self.switches:
            driver.close()
            teardown(switch)


@pytest.fixture
def lab() -> Iterator[Lab]:
    made = Lab()
    try:
        yield made
    finally:
        made.close()


def pings(ns: str, ip: str, count: int = 1) -> bool:
    for where in (ns,):
        sh("ip", "-n", where, "neigh", "flush", "all", check=False)
    done = subprocess.run(
        ["ip", "netns", "exec", ns, "ping", "-c", str(count), "-i", "0.2", "-W", "1", ip],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def on_vlan(vlan: int, n: int) -> VfSettings:
    return VfSettings(mac=mac(n), vlan=vlan)


def set_vf(driver: EswitchDriver, vf: int, wanted: VfSettings, *attrs: VfAttr) -> None:
    assert driver.apply(PF, vf, wanted, attrs or APPLY_ORDER) == ()


def test_two_vfs_on_one_segment_ping_each_other(lab: Lab) -> None:
    switch, driver = lab.host("a")
    set_vf(driver, 0, on_vlan(100, 1))
    set_vf(driver, 1, on_vlan(100, 2))
    c0 = lab.attach(switch, 0, "192.0.2.1")
    lab.attach(switch, 1, "192.0.2.2")
    assert pings(c0, "192.0.2.2", count=2)


def test_vfs_on_different_vlans_are_isolated_until_moved_to_the_same_one(lab: Lab) -> None:
    switch, driver = lab.host("a")
    set_vf(driver, 0, on_vlan(100, 1))
    set_vf(driver, 1, on_vlan(200, 2))
    c0 = lab.attach(switch, 0, "192.0.2.1")
    c1 = lab.attach(switch, 1, "192.0.2.2")
    assert not pings(c0, "192.0.2.2")
    set_vf(driver, 1, on_vlan(100, 2), VfAttr.VLAN)
    sh("ip", "-n", c1, "neigh", "flush", "all")
    assert pings(c0, "192.0.2.2")


def test_two_hosts_meet_on_a_shared_segment_and_not_across_segments(lab: Lab) -> None:
    host_a, driver_a = lab.host("a")
    host_b, driver_b = lab.host("b")
    set_vf(driver_a, 0, on_vlan(100, 1))
    set_vf(driver_b, 0, on_vlan(100, 2))
    set_vf(driver_b, 1, on_vlan(200, 3))
    c_a = lab.attach(host_a, 0, "192.0.2.1")
    lab.attach(host_b, 0, "192.0.2.2")
    lab.attach(host_b, 1, "192.0.2.3")
    assert pings(c_a, "192.0.2.2")
    assert not pings(c_a, "192.0.2.3")


def spoof_drops(netns: str) -> int:
    ruleset = json.loads(
        sh(
            "ip",
            "netns",
            "exec",
            netns,
            "nft",
            "-j",
            "list",
            "chain",
            "bridge",
            names.NFT_TABLE,
            "prerouting",
        )
    )
    for item in ruleset["nftables"]:
        for expr in item.get("rule", {}).get("expr", []):
            if "counter" in expr:
                return int(expr["counter"]["packets"])
    raise AssertionError("no spoofchk counter in the switch's nft chain")


def test_spoofchk_drops_frames_with_a_foreign_source_mac_and_off_lets_them_through(
    lab: Lab,
) -> None:
    switch, driver = lab.host("a")
    set_vf(driver, 0, on_vlan(0, 1))
    set_vf(driver, 1, on_vlan(0, 2))
    c0 = lab.attach(switch, 0, "192.0.2.1")
    c1 = lab.attach(switch, 1, "192.0.2.2")
    assert pings(c0, "192.0.2.2")
    sh("ip", "-n", c0, "link", "set", "eth1", "address", "02:00:00:00:66:66")
    sh("ip", "-n", c1, "neigh", "flush", "all")
    assert not pings(c0, "192.0.2.2")
    assert spoof_drops(switch.netns) > 0
    set_vf(driver, 0, VfSettings(mac=mac(1), spoofchk=False), VfAttr.SPOOFCHK)
    assert pings(c0, "192.0.2.2")


def test_link_state_disable_shows_no_carrier_in_the_container_and_enable_restores_it(
    lab: Lab,
) -> None:
    switch, driver = lab.host("a")
    c0 = lab.attach(switch, 0, None)
    set_vf(driver, 0, VfSettings(link_state=LinkState.DISABLE), VfAttr.LINK_STATE)
    assert "NO-CARRIER" in sh("ip", "-n", c0, "link", "show", "eth1")
    set_vf(driver, 0, VfSettings(link_state=LinkState.ENABLE), VfAttr.LINK_STATE)
    assert "NO-CARRIER" not in sh("ip", "-n", c0, "link", "show", "eth1")


def test_max_tx_rate_puts_a_tbf_of_that_rate_on_the_vf_and_zero_removes_it(lab: Lab) -> None:
    switch, driver = lab.host("a")
    limiter = names.rate_limiter(PF, 0)
    set_vf(driver, 0, VfSettings(max_tx_rate=100), VfAttr.RATE)
    assert "tbf 1: root refcnt 2 rate 100Mbit" in sh(
        "tc", "-n", switch.netns, "qdisc", "show", "dev", limiter
    ).replace(f"dev {limiter} ", "")
    set_vf(driver, 0, VfSettings(max_tx_rate=0), VfAttr.RATE)
    assert "tbf" not in sh("tc", "-n", switch.netns, "qdisc", "show")


def rx_packets(ns: str) -> int:
    (link,) = json.loads(sh("ip", "-n", ns, "-j", "-s", "link", "show", "eth1"))
    return int(link["stats64"]["rx"]["packets"])


def settled_rx_packets(ns: str) -> int:
    """The receive count once copies still in flight have landed (stable for 0.3 s)."""
    count = rx_packets(ns)
    for _ in range(10):
        time.sleep(0.3)
        now = rx_packets(ns)
        if now == count:
            return count
        count = now
    return count


def test_a_mirror_vf_sees_copies_of_the_mirrored_vfs_traffic_until_the_mirror_stops(
    lab: Lab,
) -> None:
    switch, driver = lab.host("a")
    set_vf(driver, 0, on_vlan(100, 1))
    set_vf(driver, 1, on_vlan(100, 2))
    set_vf(driver, 2, on_vlan(300, 3))  # alone on its segment: it sees only copies
    c0 = lab.attach(switch, 0, "192.0.2.1")
    lab.attach(switch, 1, "192.0.2.2")
    sink = lab.attach(switch, 2, None)
    driver.mirror(PF, 0, 2)
    before = rx_packets(sink)
    assert pings(c0, "192.0.2.2", count=5)
    assert rx_packets(sink) - before >= 10  # 5 requests out, 5 replies in
    driver.mirror(PF, 0, None)
    before = settled_rx_packets(sink)
    assert pings(c0, "192.0.2.2", count=5)
    assert rx_packets(sink) - before == 0


def switch_state(netns: str) -> tuple[str, ...]:
    # Operstate is left out: a new bridge turns from UNKNOWN to UP on its own, later.
    links = re.sub(r" state \w+", "", sh("ip", "-n", netns, "-o", "link", "show"))
    return (
        links,
        sh("ip", "netns", "exec", netns, "nft", "list", "ruleset"),
        sh("tc", "-n", netns, "qdisc", "show"),
        sh("tc", "-n", netns, "filter", "show", "dev", names.representor(PF, 1), "ingress"),
    )


def test_read_after_apply_is_what_was_applied_and_applying_twice_changes_nothing(lab: Lab) -> None:
    switch, driver = lab.host("a")
    wanted = VfSettings(
        mac=mac(7),
        vlan=42,
        qos=3,
        spoofchk=False,
        trust=True,
        max_tx_rate=250,
        link_state=LinkState.ENABLE,
    )
    set_vf(driver, 1, wanted)
    assert driver.read(PF) == {0: RESET, 1: wanted, 2: RESET, 3: RESET}
    before = switch_state(switch.netns)
    set_vf(driver, 1, wanted)
    assert switch_state(switch.netns) == before
    set_vf(driver, 1, RESET)
    assert driver.read(PF)[1] == RESET


def test_min_tx_rate_and_802_1ad_are_refused_and_the_rest_stays_applied(lab: Lab) -> None:
    _, driver = lab.host("a")
    wanted = VfSettings(mac=mac(1), vlan=10, vlan_proto="802.1ad", min_tx_rate=10, trust=True)
    refused = driver.apply(PF, 0, wanted, APPLY_ORDER)
    assert [(r.attr, r.reason.split(":")[0]) for r in refused] == [
        (VfAttr.VLAN, "EPROTONOSUPPORT"),
        (VfAttr.RATE, "EOPNOTSUPP"),
    ]
    assert driver.read(PF)[0] == VfSettings(mac=mac(1), trust=True)


def root_view() -> tuple[str, ...]:
    return (sh("ip", "netns", "list"), sh("ip", "-br", "link"), sh("nft", "list", "tables"))


def test_teardown_leaves_namespaces_links_and_nft_tables_as_they_were(lab: Lab) -> None:
    before = root_view()
    switch, driver = lab.host("a")
    set_vf(driver, 0, VfSettings(mac=mac(1), vlan=5, max_tx_rate=10))
    lab.attach(switch, 1, None)
    ensure(switch)  # again: changes nothing, and keeps the VF table
    assert driver.read(PF)[0] == VfSettings(mac=mac(1), vlan=5, max_tx_rate=10)
    lab.close()
    lab.switches.clear()
    lab.containers.clear()
    assert root_view() == before


def test_teardown_copes_with_a_switch_left_half_made(lab: Lab) -> None:
    before = root_view()
    switch, driver = lab.host("a")
    driver.close()
    sh("ip", "netns", "delete", switch.fabric)  # as if a crash happened mid-way
    teardown(switch)
    sh("ip", "netns", "add", switch.netns)  # a host namespace with nothing in it
    teardown(switch)
    lab.switches.clear()
    assert root_view() == before


def test_fewer_vfs_remove_the_extra_ones_from_the_switch(lab: Lab) -> None:
    switch, driver = lab.host("a", vfs=4)
    set_vf(driver, 3, VfSettings(mac=mac(3), max_tx_rate=10))
    ensure(HostSwitch(switch.host, (PfPorts(PF, PHYSNET, (f"{PF}v0", f"{PF}v1")),), switch.fabric))
    assert driver.read(PF) == {0: RESET, 1: RESET}
    assert "tbf" not in sh("tc", "-n", switch.netns, "qdisc", "show")


def test_a_vf_that_died_with_its_container_comes_back_released_when_the_switch_is_ensured(
    lab: Lab,
) -> None:
    switch, driver = lab.host("a")
    wanted = VfSettings(mac=mac(1), vlan=100, qos=5, trust=True, max_tx_rate=50)
    set_vf(driver, 1, wanted)
    container = lab.attach(switch, 1, None)
    lab.containers.remove(container)
    sh("ip", "netns", "delete", container)  # takes the VF's veth pair, representor and all
    rep = names.representor(PF, 1)
    for _ in range(100):  # the kernel frees a deleted namespace's links asynchronously
        if rep not in sh("ip", "-n", switch.netns, "-o", "link", "show"):
            break
        time.sleep(0.05)
    ensure(switch)
    assert driver.read(PF)[1] == RESET
    assert rep not in sh("ip", "netns", "exec", switch.netns, "nft", "list", "set", "bridge",
                         names.NFT_TABLE, "vf_mac")  # fmt: skip
    assert "tbf" not in sh("tc", "-n", switch.netns, "qdisc", "show")
    set_vf(driver, 1, wanted)
    assert driver.read(PF)[1] == wanted


def test_a_driver_whose_view_of_the_sets_is_stale_still_sets_what_was_asked(lab: Lab) -> None:
    switch, driver = lab.host("a")
    set_vf(driver, 0, VfSettings(mac=mac(1), vlan=100, qos=2))
    other = EswitchDriver(switch)  # another process's driver (a CNI call) changes the VF
    try:
        set_vf(other, 0, VfSettings(mac=mac(2), vlan=100, qos=3))
    finally:
        other.close()
    set_vf(driver, 0, VfSettings(mac=mac(3), vlan=100, qos=4))
    assert driver.read(PF)[0] == VfSettings(mac=mac(3), vlan=100, qos=4)


def test_many_vfs_go_in_one_batch_and_each_gets_its_own_outcome(lab: Lab) -> None:
    _, driver = lab.host("a")
    first = VfSettings(mac=mac(1), vlan=100, trust=True, max_tx_rate=10)
    qinq = VfSettings(mac=mac(2), vlan=200, vlan_proto="802.1ad")
    outcomes = driver.apply_many(
        [(PF, 0, first, APPLY_ORDER), (PF, 9, first, APPLY_ORDER), (PF, 2, qinq, APPLY_ORDER)]
    )
    assert outcomes[0] == ()
    assert str(outcomes[1]) == f"VF 9 of PF {PF} is not on the switch"
    assert [r.attr for r in outcomes[2]] == [VfAttr.VLAN]
    table = driver.read(PF)
    assert (table[0], table[1], table[2]) == (first, RESET, VfSettings(mac=mac(2)))

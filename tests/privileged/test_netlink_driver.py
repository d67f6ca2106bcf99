"""The netlink driver against a real kernel: a veth as a "PF" without VFs, in a throwaway
network namespace. The kernel's own answers, not a fake's, decide every assertion."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator

import pytest

from vfnet.agent.drivers.netlink import NetlinkDriver
from vfnet.errors import DriverError
from vfnet.network.vf_settings import APPLY_ORDER, VfAttr, VfSettings

pytestmark = pytest.mark.privileged


def ip(*argv: str) -> None:
    subprocess.run(["ip", *argv], check=True, capture_output=True)


@pytest.fixture
def netns() -> Iterator[str]:
    name = f"vfnet-nl-{uuid.uuid4().hex[:8]}"
    ip("netns", "add", name)
    try:
        ip("-n", name, "link", "add", "pf0", "type", "veth", "peer", "name", "pf0-peer")
        yield name
    finally:
        ip("netns", "del", name)


@pytest.fixture
def driver(netns: str) -> Iterator[NetlinkDriver]:
    with NetlinkDriver(netns=netns) as netlink:
        yield netlink


def test_a_netdev_without_vfs_reads_as_an_empty_vf_table(driver: NetlinkDriver):
    assert driver.read("pf0") == {}


def test_setting_vf_0_of_a_netdev_without_vfs_is_a_driver_error_with_the_kernel_s_answer(
    driver: NetlinkDriver,
):
    wanted = VfSettings(mac="02:00:00:00:00:01", vlan=100, trust=True)
    with pytest.raises(DriverError) as error:
        driver.apply("pf0", 0, wanted, APPLY_ORDER)
    # veth has no ndo_set_vf_*: the kernel answers EOPNOTSUPP to the first attribute.
    assert str(error.value) == (
        "PF pf0 has no VF 0 (no VFs); setting mac: EOPNOTSUPP: Operation not supported"
    )
    assert driver.refused("pf0") == {}


def test_an_802_1ad_vlan_reaches_the_kernel_and_gets_its_answer(driver: NetlinkDriver):
    with pytest.raises(DriverError, match="setting vlan: EOPNOTSUPP: Operation not supported"):
        driver.apply("pf0", 0, VfSettings(vlan=5, vlan_proto="802.1ad"), (VfAttr.VLAN,))


def test_a_missing_pf_is_a_driver_error_naming_it(driver: NetlinkDriver):
    with pytest.raises(DriverError, match="PF nosuchpf0: no such network interface"):
        driver.read("nosuchpf0")
    with pytest.raises(DriverError, match="PF nosuchpf0: no such network interface"):
        driver.apply("nosuchpf0", 0, VfSettings(), (VfAttr.TRUST,))


def test_a_missing_namespace_is_a_driver_error_naming_it():
    name = f"vfnet-nl-missing-{uuid.uuid4().hex[:8]}"
    with NetlinkDriver(netns=name) as driver, pytest.raises(DriverError, match=name):
        driver.read("lo")
    subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)

"""The netlink driver, sriov_numvfs and discovery against igb and igbvf in the QEMU guest."""

from __future__ import annotations

import errno
import os
import subprocess
import uuid
from dataclasses import replace

import pytest
from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from tests.hardware.igb import IgbPf, ip_vf_table, run
from vfnet.agent.drivers.base import Refusal
from vfnet.agent.drivers.netlink import NetlinkDriver
from vfnet.discovery.sysfs import SysfsReader
from vfnet.discovery.writer import KernelNumVfs
from vfnet.errors import DriverError, SriovNumVfsError
from vfnet.network.vf_settings import APPLY_ORDER, RESET, LinkState, VfAttr, VfSettings
from vfnet.pci.devices import DeviceType

pytestmark = pytest.mark.hardware

EOPNOTSUPP = "EOPNOTSUPP: Operation not supported"
EINVAL = "EINVAL: Invalid argument"
EPROTONOSUPPORT = "EPROTONOSUPPORT: Protocol not supported"
IGB_TAKES = tuple(attr for attr in APPLY_ORDER if attr is not VfAttr.LINK_STATE)


def test_igb_takes_seven_vfs_refuses_eight_and_a_shrink_that_skips_zero(spare_pf: IgbPf):
    writer = KernelNumVfs()
    with pytest.raises(SriovNumVfsError) as too_many:
        writer.set_num_vfs(spare_pf.address, 8)
    assert (too_many.value.errno_name, too_many.value.reason) == (
        "ERANGE",
        "more VFs than sriov_totalvfs allows (7)",
    )
    writer.set_num_vfs(spare_pf.address, 7)
    assert writer.read_num_vfs(spare_pf.address) == 7
    with pytest.raises(SriovNumVfsError) as shrink:
        writer.set_num_vfs(spare_pf.address, 2)
    assert shrink.value.errno_name == "EBUSY"
    writer.set_num_vfs(spare_pf.address, 0)
    assert writer.read_num_vfs(spare_pf.address) == 0


def test_discovery_finds_the_vfs_bound_to_igbvf_with_their_physfn_links(pf: IgbPf):
    devices = SysfsReader().read()
    parent = devices[pf.address]
    assert parent.dev_type is DeviceType.PF
    assert parent.driver == "igb"
    assert parent.sriov is not None
    assert (parent.sriov.total_vfs, parent.sriov.num_vfs) == (7, 4)
    vfs = devices.vfs_of(pf.address)
    assert [vf.vf_index for vf in vfs] == [0, 1, 2, 3]
    for vf in vfs:
        assert (vf.dev_type, vf.vendor_info, vf.driver) == (DeviceType.VF, "8086:10ca", "igbvf")
        assert vf.parent_addr == pf.address
        assert vf.ifname is not None
        physfn = os.path.realpath(f"/sys/bus/pci/devices/{vf.address}/physfn")
        assert os.path.basename(physfn) == str(pf.address)


def test_every_attribute_igb_supports_is_applied_and_read_back_as_ip_shows_it(
    pf: IgbPf, driver: NetlinkDriver
):
    wanted = VfSettings(
        mac="02:00:00:00:01:01", vlan=100, qos=3, spoofchk=False, trust=True, max_tx_rate=100
    )
    assert driver.apply(pf.ifname, 1, wanted, IGB_TAKES) == ()
    table = driver.read(pf.ifname)
    assert table[1] == wanted
    assert ip_vf_table(pf.ifname) == table

    assert driver.apply(pf.ifname, 1, RESET, IGB_TAKES) == ()
    assert driver.read(pf.ifname)[1] == RESET
    assert ip_vf_table(pf.ifname)[1] == RESET


def test_igb_refuses_link_state_and_min_rate_while_the_other_attributes_stay_applied(
    pf: IgbPf, driver: NetlinkDriver
):
    wanted = VfSettings(
        mac="02:00:00:00:01:02",
        vlan=200,
        spoofchk=False,
        trust=True,
        min_tx_rate=10,
        max_tx_rate=100,
        link_state=LinkState.DISABLE,
    )
    refusals = driver.apply(pf.ifname, 2, wanted, APPLY_ORDER)
    assert refusals == (Refusal(VfAttr.RATE, EINVAL), Refusal(VfAttr.LINK_STATE, EOPNOTSUPP))
    # Trust comes after link state in the kernel's order: one request per attribute
    # still sets it, where one combined request would have stopped before it.
    applied = replace(wanted, min_tx_rate=0, max_tx_rate=0, link_state=LinkState.AUTO)
    assert driver.read(pf.ifname)[2] == applied
    assert ip_vf_table(pf.ifname)[2] == applied
    assert driver.refused(pf.ifname) == {VfAttr.RATE: EINVAL, VfAttr.LINK_STATE: EOPNOTSUPP}

    assert driver.apply(pf.ifname, 2, replace(wanted, min_tx_rate=0), (VfAttr.RATE,)) == ()
    assert driver.refused(pf.ifname) == {VfAttr.LINK_STATE: EOPNOTSUPP}
    assert driver.apply(pf.ifname, 2, RESET, IGB_TAKES) == ()


def test_an_802_1ad_vlan_reaches_igb_and_is_refused_with_its_reason(
    pf: IgbPf, driver: NetlinkDriver
):
    # EPROTONOSUPPORT, not EINVAL: the kernel took the VLAN_LIST struct and igb refused
    # the protocol.
    qinq = VfSettings(vlan=300, vlan_proto="802.1ad")
    assert driver.apply(pf.ifname, 3, qinq, (VfAttr.VLAN,)) == (
        Refusal(VfAttr.VLAN, EPROTONOSUPPORT),
    )
    assert driver.read(pf.ifname)[3] == RESET


def test_pyroute2_s_own_vlan_list_is_two_bytes_short_and_refused_as_invalid(pf: IgbPf):
    # Why the driver packs its own ifla_vf_vlan_info: when this fails, pyroute2 is fixed.
    vlan_list = [{"vlan": 300, "qos": 0, "proto": 0x88A8}]
    with IPRoute() as ipr:
        (index,) = ipr.link_lookup(ifname=pf.ifname)
        with pytest.raises(NetlinkError) as refused:
            ipr.link("set", index=index, vf={"vf": 3, "vlan": vlan_list})
    assert refused.value.code == errno.EINVAL


def test_a_vf_past_numvfs_or_a_missing_pf_is_a_driver_error(pf: IgbPf, driver: NetlinkDriver):
    with pytest.raises(DriverError, match=f"PF {pf.ifname} has no VF 5 \\(4 VFs\\)"):
        driver.apply(pf.ifname, 5, RESET, (VfAttr.MAC,))
    with pytest.raises(DriverError, match="PF nosuchpf0: no such network interface"):
        driver.read("nosuchpf0")


def test_a_vf_used_in_a_namespace_is_moved_out_before_the_namespace_is_deleted(pf: IgbPf):
    vf = SysfsReader().read().vfs_of(pf.address)[0]
    assert vf.ifname is not None
    netns = f"vfnet-hw-{uuid.uuid4().hex[:8]}"
    run("ip", "netns", "add", netns)
    try:
        run("ip", "link", "set", "dev", vf.ifname, "netns", netns)
        run("ip", "-n", netns, "addr", "add", "192.0.2.1/24", "dev", vf.ifname)
        run("ip", "-n", netns, "link", "set", "dev", vf.ifname, "up")
        # Traffic makes the VF "used": deleting the namespace with it inside wedges rtnl.
        subprocess.run(
            ["ip", "netns", "exec", netns, "ping", "-c", "2", "-W", "1", "192.0.2.2"],
            capture_output=True,
            check=False,
        )
    finally:
        run("ip", "-n", netns, "link", "set", "dev", vf.ifname, "netns", "1")
        run("ip", "netns", "del", netns)
    assert vf.ifname in run("ip", "-o", "link", "show", "dev", vf.ifname)

"""The QEMU igb guest's PFs as fixtures: drivers loaded, links up, VFs created and removed.

These run only where emulated (or real) Intel 82576 PFs are present, i.e. inside the
guest that scripts/hardware-test boots; anywhere else every hardware test is skipped.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.hardware.igb import IGB_PF, SYS, IgbPf, carrier, netdevs, run, set_vfs, wait_for
from vfnet.agent.drivers.netlink import NetlinkDriver
from vfnet.discovery.sysfs import SysfsReader


@pytest.fixture(scope="session")
def igb_pfs() -> list[IgbPf]:
    found = [d.address for d in SysfsReader(SYS).read() if (d.vendor_id, d.product_id) == IGB_PF]
    if len(found) < 2:
        pytest.skip("needs two igb PFs (82576, 8086:10c9): run scripts/hardware-test")
    run("modprobe", "igb")
    run("modprobe", "igbvf")
    for address in found:
        wait_for(f"netdev of {address}", lambda a=address: bool(netdevs(a)))
    pfs = [IgbPf(address, netdevs(address)[0]) for address in found]
    for pf in pfs:
        run("ip", "link", "set", pf.ifname, "up")
    for pf in pfs:
        # igb takes max_tx_rate only while the PF has a carrier.
        wait_for(f"carrier on {pf.ifname}", lambda n=pf.ifname: carrier(n))
    return pfs


@pytest.fixture(scope="module")
def pf(igb_pfs: list[IgbPf]) -> Iterator[IgbPf]:
    """The first PF with 4 VFs; the VFs go away (and their settings with them) after."""
    first = igb_pfs[0]
    set_vfs(first, 4)
    # Enabling VFs closes and reopens the PF: max_tx_rate needs its link back (EINVAL before).
    wait_for(f"carrier on {first.ifname}", lambda: carrier(first.ifname))
    yield first
    set_vfs(first, 0)


@pytest.fixture(scope="module")
def spare_pf(igb_pfs: list[IgbPf]) -> Iterator[IgbPf]:
    """The second PF, without VFs before and after."""
    second = igb_pfs[1]
    set_vfs(second, 0)
    yield second
    set_vfs(second, 0)


@pytest.fixture
def driver() -> Iterator[NetlinkDriver]:
    with NetlinkDriver() as netlink:
        yield netlink

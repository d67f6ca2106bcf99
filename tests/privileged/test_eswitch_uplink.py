"""Link state auto on the emulated host: VFs follow their PF's link, and kernel errors
come out of the driver as DriverError."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from tests.privileged.test_eswitch import PF, Lab, mac, set_vf, sh
from vfnet.agent.drivers import eswitch_names as names
from vfnet.agent.drivers.eswitch import EswitchDriver
from vfnet.agent.drivers.eswitch_topology import HostSwitch
from vfnet.errors import DriverError
from vfnet.network.vf_settings import LinkState, VfAttr, VfSettings

pytestmark = pytest.mark.privileged


@pytest.fixture
def lab() -> Iterator[Lab]:
    made = Lab()
    try:
        yield made
    finally:
        made.close()
        # A test may have removed the fabric under the switch: teardown skips it then.
        sh("ip", "netns", "delete", made.fabric, check=False)


def no_carrier(ns: str) -> bool:
    """Whether eth1 in ``ns`` shows NO-CARRIER, as ``ip link`` prints it to an operator."""
    return "NO-CARRIER" in sh("ip", "-n", ns, "link", "show", "eth1")


def auto_and_enabled(lab: Lab) -> tuple[HostSwitch, EswitchDriver, str, str]:
    """A host with VF 0 at link_state auto and VF 1 at enable, each in a container."""
    switch, driver = lab.host("u", vfs=2)
    set_vf(driver, 0, VfSettings(mac=mac(1), link_state=LinkState.AUTO))
    set_vf(driver, 1, VfSettings(mac=mac(2), link_state=LinkState.ENABLE))
    return switch, driver, lab.attach(switch, 0, None), lab.attach(switch, 1, None)


def test_an_auto_vf_loses_carrier_with_its_pf_and_an_enabled_one_does_not(lab: Lab) -> None:
    switch, driver, auto, enabled = auto_and_enabled(lab)
    assert driver.follow_uplinks() == []
    sh("ip", "-n", switch.netns, "link", "set", PF, "down")
    assert driver.follow_uplinks() == [(PF, 0, False)]
    assert no_carrier(auto)
    assert not no_carrier(enabled)
    assert driver.read(PF)[0].link_state is LinkState.AUTO
    sh("ip", "-n", switch.netns, "link", "set", PF, "up")
    assert driver.follow_uplinks() == [(PF, 0, True)]
    assert not no_carrier(auto)
    assert not no_carrier(enabled)


def test_following_twice_changes_nothing_the_second_time(lab: Lab) -> None:
    switch, driver, _, _ = auto_and_enabled(lab)
    sh("ip", "-n", switch.netns, "link", "set", PF, "down")
    assert driver.follow_uplinks() == [(PF, 0, False)]
    assert driver.follow_uplinks() == []


def test_a_pulled_cable_takes_the_auto_vfs_link_down_too(lab: Lab) -> None:
    switch, driver, auto, _ = auto_and_enabled(lab)
    sh("ip", "-n", switch.netns, "link", "set", names.pf_peer(PF), "down")
    assert driver.follow_uplinks() == [(PF, 0, False)]
    assert no_carrier(auto)


def test_a_vf_set_to_enable_while_its_pf_is_down_stays_up(lab: Lab) -> None:
    switch, driver, auto, _ = auto_and_enabled(lab)
    sh("ip", "-n", switch.netns, "link", "set", PF, "down")
    driver.follow_uplinks()
    set_vf(driver, 0, VfSettings(mac=mac(1), link_state=LinkState.ENABLE), VfAttr.LINK_STATE)
    assert driver.follow_uplinks() == []
    assert not no_carrier(auto)


def test_a_fabric_namespace_removed_under_the_driver_gives_a_driver_error(lab: Lab) -> None:
    _, driver = lab.host("u", vfs=2)
    driver.read(PF)  # the driver holds its namespaces open from here on
    sh("ip", "netns", "delete", lab.fabric)
    # A new VLAN needs a new segment and its uplink into the (gone) fabric.
    with pytest.raises(DriverError, match=rf"PF {PF} VF 1: setting vlan: ENOENT"):
        driver.apply(PF, 1, VfSettings(vlan=300), (VfAttr.VLAN,))
    outcomes = driver.apply_many([(PF, 0, VfSettings(vlan=301), (VfAttr.VLAN,))])
    assert isinstance(outcomes[0], DriverError)
    assert "ENOENT" in str(outcomes[0])


def test_a_host_namespace_removed_under_the_driver_gives_a_driver_error(lab: Lab) -> None:
    switch, driver = lab.host("u", vfs=2)
    subprocess.run(["ip", "netns", "delete", switch.netns], check=True)
    with pytest.raises(DriverError, match="has no switch"):
        driver.follow_uplinks()
    with pytest.raises(DriverError, match="has no switch"):
        driver.read(PF)

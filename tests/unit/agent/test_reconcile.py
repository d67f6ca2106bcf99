"""A reconcile pass: read once, apply, read back, and report what the NIC really holds."""

from __future__ import annotations

import dataclasses

from vfnet.agent.drivers.memory import MemoryDriver
from vfnet.agent.plan import ChangeKind, PortReport, PortState, ReleaseReport
from vfnet.agent.reconcile import reconcile
from vfnet.network.vf_settings import RESET, LinkState, VfAttr

from .states import FULL, desired, layout, port_settings, vf_address

EOPNOTSUPP = "EOPNOTSUPP: Operation not supported"
EINVAL = "EINVAL: Invalid argument"
PFS = {"ens1f0": 4, "ens2f0": 4}
DEVICES = layout(PFS)
A, B, C = vf_address(0, 0), vf_address(0, 1), vf_address(1, 2)


def test_a_pass_configures_claimed_vfs_and_reports_their_ports_active():
    driver = MemoryDriver.with_pfs(PFS)
    want = desired({A: FULL, C: port_settings(7)}, claim_generation=3)
    result = reconcile(want, DEVICES, driver)
    assert driver.tables["ens1f0"][0] == FULL
    assert driver.tables["ens2f0"][2] == port_settings(7)
    assert set(result.ports) == {
        PortReport(f"port-{A}", A, 3, PortState.ACTIVE),
        PortReport(f"port-{C}", C, 3, PortState.ACTIVE),
    }
    assert result.generation == want.generation


def test_a_pass_reads_every_pf_once_and_reads_back_only_the_pfs_it_wrote():
    driver = MemoryDriver.with_pfs(PFS)
    reconcile(desired({A: FULL}), DEVICES, driver)
    assert driver.reads == {"ens1f0": 2, "ens2f0": 1}


def test_a_second_pass_writes_nothing_and_reports_the_same():
    driver = MemoryDriver.with_pfs(PFS)
    want = desired({A: FULL}, released={B: 2})
    driver.tables["ens1f0"][1] = port_settings(4)
    first = reconcile(want, DEVICES, driver)
    writes = driver.writes
    second = reconcile(want, DEVICES, driver)
    assert second.applied == ()
    assert driver.writes == writes
    assert (second.ports, second.releases) == (first.ports, first.releases)


def test_a_released_vf_is_reset_and_reported_verified_at_its_claim_generation():
    driver = MemoryDriver.with_pfs(PFS)
    driver.tables["ens1f0"][1] = port_settings(4)
    result = reconcile(desired(released={B: 6}), DEVICES, driver)
    assert driver.tables["ens1f0"][1] == RESET
    assert result.releases == (ReleaseReport(B, 6, verified=True),)


def test_a_refused_link_state_is_a_port_error_with_the_driver_s_reason():
    driver = MemoryDriver.with_pfs(PFS, refusals={"ens1f0": {VfAttr.LINK_STATE: EOPNOTSUPP}})
    (report,) = reconcile(desired({A: FULL}), DEVICES, driver).ports
    assert report.state is PortState.ERROR
    assert report.refused == (VfAttr.LINK_STATE,)
    assert f"link_state refused by ens1f0: {EOPNOTSUPP}" in report.reason
    assert driver.tables["ens1f0"][0] == dataclasses.replace(FULL, link_state=LinkState.AUTO)


def test_a_nic_refusing_min_tx_rate_leaves_the_port_in_error_with_the_rate_named():
    driver = MemoryDriver.with_pfs(PFS, refusals={"ens1f0": {VfAttr.RATE: EINVAL}})
    (report,) = reconcile(desired({A: FULL}), DEVICES, driver).ports
    assert (report.state, report.refused) == (PortState.ERROR, (VfAttr.RATE,))
    assert "rate refused by ens1f0: EINVAL" in report.reason


def test_a_port_asking_only_for_what_the_nic_takes_is_active_on_that_nic():
    driver = MemoryDriver.with_pfs(PFS, refusals={"ens1f0": {VfAttr.RATE: EINVAL}})
    unlimited = dataclasses.replace(FULL, min_tx_rate=0, max_tx_rate=0)
    (report,) = reconcile(desired({A: unlimited}), DEVICES, driver).ports
    assert report.state is PortState.ACTIVE


def test_a_release_the_nic_will_not_finish_is_reported_unverified_with_the_reason():
    driver = MemoryDriver.with_pfs(PFS, refusals={"ens1f0": {VfAttr.LINK_STATE: EOPNOTSUPP}})
    driver.tables["ens1f0"][1] = port_settings(4, link_state=LinkState.DISABLE)
    (report,) = reconcile(desired(released={B: 6}), DEVICES, driver).releases
    assert (report.verified, report.claim_generation) == (False, 6)
    assert "link_state refused by ens1f0" in report.reason
    assert driver.tables["ens1f0"][1] == dataclasses.replace(RESET, link_state=LinkState.DISABLE)


def test_a_write_the_nic_accepts_but_does_not_hold_is_reported_as_read_back():
    class Forgetful(MemoryDriver):
        """Takes the VLAN and drops it, as a NIC with a stale VF table might."""

        def apply(self, pf, vf, wanted, attrs):
            refusals = super().apply(pf, vf, wanted, attrs)
            self.tables[pf][vf] = dataclasses.replace(self.tables[pf][vf], vlan=0)
            return refusals

    driver = Forgetful.with_pfs(PFS)
    (report,) = reconcile(desired({A: FULL}), DEVICES, driver).ports
    assert report.state is PortState.ERROR
    assert "vlan reads back 0 qos 3 802.1Q, wanted 100 qos 3 802.1Q" in report.reason
    assert report.refused == ()


def test_a_missing_pf_is_an_error_on_its_ports_and_the_other_pfs_still_converge():
    driver = MemoryDriver.with_pfs({"ens2f0": 4})
    result = reconcile(desired({A: FULL, C: FULL}), DEVICES, driver)
    reports = {report.address: report for report in result.ports}
    assert reports[C].state is PortState.ACTIVE
    assert reports[A].state is PortState.ERROR
    assert "PF ens1f0 is missing (ens1f0: no such PF" in reports[A].reason
    assert "ens1f0" in result.unreadable


def test_a_vf_moved_away_by_someone_else_is_an_error_naming_it():
    driver = MemoryDriver.with_pfs({"ens1f0": 1, "ens2f0": 4})
    (report,) = reconcile(desired({B: FULL}), DEVICES, driver).ports
    assert report.state is PortState.ERROR
    assert f"{B}: VF 1 of ens1f0 is gone" in report.reason


def test_a_pf_that_vanishes_mid_pass_is_an_error_not_a_crash():
    class Vanishing(MemoryDriver):
        def apply(self, pf, vf, wanted, attrs):
            del self.tables[pf]
            return super().apply(pf, vf, wanted, attrs)

    driver = Vanishing.with_pfs(PFS)
    (report,) = reconcile(desired({A: FULL}), DEVICES, driver).ports
    assert report.state is PortState.ERROR
    assert "PF ens1f0 is missing" in report.reason


def test_a_vf_claimed_again_before_its_reset_keeps_its_new_owner_s_settings():
    driver = MemoryDriver.with_pfs(PFS)
    driver.tables["ens1f0"][1] = port_settings(1)
    result = reconcile(desired({B: port_settings(2)}, claim_generation=8), DEVICES, driver)
    assert [change.kind for change in result.applied] == [ChangeKind.CONFIGURE]
    assert driver.tables["ens1f0"][1] == port_settings(2)
    assert result.ports[0].claim_generation == 8


def test_vfs_the_agent_does_not_manage_are_neither_read_nor_written():
    driver = MemoryDriver.with_pfs({**PFS, "eno1": 2})
    driver.tables["eno1"][0] = FULL
    driver.tables["ens2f0"][3] = FULL
    managed = {address: where for address, where in DEVICES.items() if address != vf_address(1, 3)}
    reconcile(desired(), managed, driver)
    assert driver.tables["eno1"][0] == FULL
    assert driver.tables["ens2f0"][3] == FULL
    assert "eno1" not in driver.reads


def test_a_dirty_vf_nobody_released_is_reset_without_a_report():
    driver = MemoryDriver.with_pfs(PFS)
    driver.tables["ens2f0"][0] = FULL
    result = reconcile(desired(), DEVICES, driver)
    assert driver.tables["ens2f0"][0] == RESET
    assert (result.ports, result.releases) == ((), ())
    assert [change.kind for change in result.applied] == [ChangeKind.RESET]

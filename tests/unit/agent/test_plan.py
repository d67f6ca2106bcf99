"""plan(desired, actual): only differing attributes, resets only of unclaimed VFs, reports."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vfnet.agent.drivers.memory import MemoryDriver
from vfnet.agent.plan import (
    Change,
    ChangeKind,
    Plan,
    PortReport,
    PortState,
    ReleaseReport,
    VfLocation,
    locate,
    plan,
)
from vfnet.network.vf_settings import APPLY_ORDER, RESET, LinkState, VfAttr, VfSettings
from vfnet.pci.address import PciAddress
from vfnet.pci.devices import DeviceType, HostDevices, Netdev, PciDevice

from .states import FULL, desired, layout, port_settings, vf_address

PF = "ens1f0"
DEVICES = layout({PF: 4})
A, B, C, D = (vf_address(0, vf) for vf in range(4))


def _tables(**vfs: VfSettings) -> dict[str, dict[int, VfSettings]]:
    table = dict.fromkeys(range(4), RESET)
    table.update({int(index[1:]): settings for index, settings in vfs.items()})
    return {PF: table}


def test_a_claimed_vf_at_reset_is_configured_in_every_attribute():
    result = plan(desired({A: FULL}), _tables(), DEVICES)
    assert result == Plan(changes=(Change(ChangeKind.CONFIGURE, A, PF, 0, FULL, APPLY_ORDER),))


@pytest.mark.parametrize(
    ("current", "attrs"),
    [
        (dataclasses.replace(FULL, vlan=200), (VfAttr.VLAN,)),
        (dataclasses.replace(FULL, qos=0), (VfAttr.VLAN,)),
        (dataclasses.replace(FULL, vlan_proto="802.1ad"), (VfAttr.VLAN,)),
        (dataclasses.replace(FULL, min_tx_rate=0), (VfAttr.RATE,)),
        (
            dataclasses.replace(FULL, trust=False, mac="fa:16:3e:00:00:09"),
            (VfAttr.MAC, VfAttr.TRUST),
        ),
        (
            dataclasses.replace(FULL, link_state=LinkState.AUTO, spoofchk=True),
            (VfAttr.SPOOFCHK, VfAttr.LINK_STATE),
        ),
    ],
)
def test_only_the_differing_attributes_of_a_claimed_vf_are_written(current, attrs):
    result = plan(desired({A: FULL}), _tables(v0=current), DEVICES)
    assert [change.attrs for change in result.changes] == [attrs]


def test_a_claimed_vf_that_already_matches_is_reported_active_and_left_alone():
    result = plan(desired({A: FULL}), _tables(v0=FULL), DEVICES)
    assert result == Plan(ports=(PortReport(f"port-{A}", A, 1, PortState.ACTIVE),))


def test_a_released_vf_is_reset_in_only_its_dirty_attributes():
    dirty = dataclasses.replace(RESET, mac="fa:16:3e:00:00:07", vlan=12)
    result = plan(desired(released={B: 4}), _tables(v1=dirty), DEVICES)
    assert result == Plan(
        changes=(Change(ChangeKind.RESET, B, PF, 1, RESET, (VfAttr.MAC, VfAttr.VLAN)),)
    )


def test_a_released_vf_at_reset_is_reported_verified_with_its_claim_generation():
    result = plan(desired(released={B: 4}), _tables(), DEVICES)
    assert result == Plan(releases=(ReleaseReport(B, 4, verified=True),))


def test_a_dirty_vf_nobody_claimed_is_reset_without_a_report():
    result = plan(desired(), _tables(v2=FULL), DEVICES)
    assert [(c.kind, c.address) for c in result.changes] == [(ChangeKind.RESET, C)]
    assert result.ports == result.releases == ()


def test_a_vf_claimed_again_is_configured_for_its_new_owner_not_reset():
    old_owner = port_settings(1)
    new_owner = port_settings(2)
    result = plan(desired({B: new_owner}, claim_generation=5), _tables(v1=old_owner), DEVICES)
    assert [(c.kind, c.wanted) for c in result.changes] == [(ChangeKind.CONFIGURE, new_owner)]
    assert all(change.kind is not ChangeKind.RESET for change in result.changes)


def test_resets_come_before_configures_so_a_moving_mac_is_freed_first():
    result = plan(desired({A: FULL}, released={B: 1}), _tables(v1=FULL), DEVICES)
    assert [c.kind for c in result.changes] == [ChangeKind.RESET, ChangeKind.CONFIGURE]


def test_a_vf_outside_the_managed_devices_is_never_touched():
    managed = {A: DEVICES[A]}
    result = plan(desired(), _tables(v1=FULL, v2=FULL), managed)
    assert result == Plan()


@pytest.mark.parametrize(
    ("devices", "actual", "unreadable", "words"),
    [
        ({}, _tables(), {}, "not a VF this agent manages"),
        (
            DEVICES,
            {},
            {PF: "ens1f0: no such PF (ENODEV)"},
            "PF ens1f0 is missing (ens1f0: no such PF",
        ),
        (DEVICES, {}, {}, "PF ens1f0 is missing"),
        (DEVICES, {PF: {1: RESET}}, {}, "VF 0 of ens1f0 is gone (ens1f0 has 1 VFs)"),
    ],
)
def test_a_claimed_vf_moved_away_is_an_error_naming_it(devices, actual, unreadable, words):
    result = plan(desired({A: FULL}), actual, devices, unreadable=unreadable)
    (report,) = result.ports
    assert (report.state, report.address) == (PortState.ERROR, A)
    assert words in report.reason and str(A) in report.reason
    assert result.changes == ()


@pytest.mark.parametrize(
    ("devices", "actual", "words"),
    [
        ({}, _tables(), "not a VF this agent manages"),
        (DEVICES, {PF: {0: RESET}}, "VF 1 of ens1f0 is gone"),
    ],
)
def test_a_released_vf_that_is_gone_is_reported_unverified(devices, actual, words):
    (report,) = plan(desired(released={B: 3}), actual, devices).releases
    assert (report.address, report.claim_generation, report.verified) == (B, 3, False)
    assert words in report.reason


def test_devices_are_located_under_their_pf_netdev_by_vf_index():
    pf = PciAddress.parse("0000:3b:00.0")
    vf = PciAddress.parse("0000:3b:02.1")
    orphan = PciAddress.parse("0000:3c:02.0")
    host = HostDevices.of([
        PciDevice(pf, DeviceType.PF, "8086", "1572", netdevs=(Netdev("ens1f0"),)),
        PciDevice(vf, DeviceType.VF, "8086", "154c", parent_addr=pf, vf_index=1),
        PciDevice(orphan, DeviceType.VF, "8086", "154c", parent_addr=None, vf_index=0),
    ])  # fmt: skip
    assert locate(host) == {vf: VfLocation("ens1f0", 1)}


# Property: whatever the host holds and the server wants, one plan applied converges.
_SETTINGS = st.builds(
    VfSettings,
    mac=st.sampled_from(["00:00:00:00:00:00", "fa:16:3e:00:00:01", "fa:16:3e:00:00:02"]),
    vlan=st.sampled_from([0, 100, 4094]),
    qos=st.integers(0, 7),
    vlan_proto=st.sampled_from(["802.1Q", "802.1ad"]),
    spoofchk=st.booleans(),
    trust=st.booleans(),
    min_tx_rate=st.sampled_from([0, 100]),
    max_tx_rate=st.sampled_from([0, 1000]),
    link_state=st.sampled_from(list(LinkState)),
)


@st.composite
def _hosts(draw):
    counts = draw(st.lists(st.integers(1, 6), min_size=1, max_size=3))
    pfs = {f"ens{n}f0": count for n, count in enumerate(counts)}
    devices = layout(pfs)
    tables = {pf: {vf: draw(_SETTINGS) for vf in range(count)} for pf, count in pfs.items()}
    unmanaged = draw(st.sets(st.sampled_from(sorted(devices))))
    managed = {a: where for a, where in devices.items() if a not in unmanaged}
    roles = {a: draw(st.sampled_from(["claimed", "released", "idle"])) for a in devices}
    claimed = {
        a: draw(_SETTINGS.filter(lambda s: s.mac != RESET.mac))
        for a, r in roles.items()
        if r == "claimed"
    }
    released = {a: draw(st.integers(0, 9)) for a, r in roles.items() if r == "released"}
    return desired(claimed, released), tables, managed


@settings(max_examples=200, deadline=None)
@given(_hosts())
def test_a_plan_applied_once_converges_and_the_next_plan_is_empty(host):
    want, tables, managed = host
    driver = MemoryDriver(tables)
    for change in plan(want, driver.snapshot(), managed).changes:
        assert change.address in managed
        assert change.address not in want.claimed or change.kind is ChangeKind.CONFIGURE
        driver.apply(change.pf, change.vf, change.wanted, change.attrs)
    second = plan(want, driver.snapshot(), managed)
    assert second.changes == ()
    claimed_here = {a for a in want.claimed if a in managed}
    assert {r.address for r in second.ports if r.state is PortState.ACTIVE} == claimed_here
    assert all(r.verified for r in second.releases if r.address in managed)
    for address, (pf, vf) in layout({pf: len(t) for pf, t in tables.items()}).items():
        if address not in managed:
            assert driver.tables[pf][vf] == tables[pf][vf]
        elif address not in want.claimed:
            assert driver.tables[pf][vf] == RESET

"""An agent killed at any attribute write of a pass converges when it starts again.

The pass under test configures three ports (one VF fresh, one half configured, one
still holding a previous owner's settings) and releases three VFs, on two PFs that also
carry VFs the agent does not manage. For every write index k the driver dies before
write k; a fresh driver over the NIC state left behind then runs a pass of its own.
"""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest

from vfnet.agent.drivers.memory import DriverCrash, MemoryDriver
from vfnet.agent.plan import ChangeKind, PortState, plan
from vfnet.agent.reconcile import reconcile
from vfnet.network.vf_settings import RESET, LinkState

from .states import FULL, desired, layout, port_settings, vf_address

PFS = {"ens1f0": 6, "ens2f0": 6}
UNMANAGED = {vf_address(0, 5), vf_address(1, 5)}
DEVICES = {a: where for a, where in layout(PFS).items() if a not in UNMANAGED}
FRESH, HALF, RECLAIMED = vf_address(0, 0), vf_address(0, 1), vf_address(1, 0)
RELEASED = {vf_address(0, 2): 4, vf_address(1, 1): 2, vf_address(1, 2): 9}
WANT = desired(
    {FRESH: FULL, HALF: port_settings(11), RECLAIMED: port_settings(12)},
    released=RELEASED,
    claim_generation=5,
)


def _initial() -> dict:
    tables = {pf: dict.fromkeys(range(count), RESET) for pf, count in PFS.items()}
    tables["ens1f0"][1] = dataclasses.replace(port_settings(11), vlan=0, trust=False)
    tables["ens2f0"][0] = port_settings(3)  # the previous owner's
    tables["ens1f0"][2] = port_settings(20)
    tables["ens2f0"][1] = dataclasses.replace(RESET, mac="fa:16:3e:aa:00:01")
    tables["ens2f0"][2] = port_settings(21, link_state=LinkState.DISABLE)
    tables["ens1f0"][5] = FULL  # not the agent's: must keep what it holds
    tables["ens2f0"][5] = port_settings(30)
    return tables


def _expected() -> dict:
    expected = {pf: dict.fromkeys(range(count), RESET) for pf, count in PFS.items()}
    for address, claim in WANT.claimed.items():
        pf, vf = DEVICES[address]
        expected[pf][vf] = claim.settings
    initial = _initial()
    for address in UNMANAGED:
        pf, vf = layout(PFS)[address]
        expected[pf][vf] = initial[pf][vf]
    return expected


class _Recording(MemoryDriver):
    """Remembers every VF a reset was written to."""

    resets: list[tuple[str, int]]

    def apply(self, pf, vf, wanted, attrs):
        if wanted == RESET:
            self.resets.append((pf, vf))
        return super().apply(pf, vf, wanted, attrs)


def _driver(tables, crash_after=None) -> _Recording:
    driver = _Recording(tables, crash_after=crash_after)
    driver.resets = []
    return driver


def _writes_of_a_whole_pass() -> int:
    driver = _driver(_initial())
    reconcile(WANT, DEVICES, driver)
    return driver.writes


WRITES = _writes_of_a_whole_pass()


def _assert_converged(driver: _Recording) -> None:
    result = reconcile(WANT, DEVICES, driver)
    assert driver.tables == _expected()
    assert {r.address for r in result.ports if r.state is PortState.ACTIVE} == set(WANT.claimed)
    assert {(r.address, r.claim_generation) for r in result.releases if r.verified} == set(
        RELEASED.items()
    )
    claimed = {DEVICES[address] for address in WANT.claimed}
    assert not claimed & set(driver.resets), "a reset touched a claimed VF"
    assert reconcile(WANT, DEVICES, driver).applied == ()


def test_the_pass_under_test_configures_three_ports_and_resets_three_vfs():
    changes = plan(WANT, _initial(), DEVICES).changes
    kinds = Counter(change.kind for change in changes)
    assert kinds == {ChangeKind.CONFIGURE: 3, ChangeKind.RESET: 3}
    assert sum(len(change.attrs) for change in changes) == WRITES


@pytest.mark.parametrize("k", range(WRITES))
def test_a_crash_before_any_write_of_a_pass_converges_on_restart(k):
    crashed = _driver(_initial(), crash_after=k)
    with pytest.raises(DriverCrash):
        reconcile(WANT, DEVICES, crashed)
    assert crashed.writes == k
    _assert_converged(_driver(crashed.snapshot()))


def test_a_pass_that_is_not_interrupted_writes_exactly_the_counted_writes():
    driver = _driver(_initial(), crash_after=WRITES)
    _assert_converged(driver)


def test_crashing_again_while_recovering_still_converges():
    for k in range(0, WRITES, 3):
        first = _driver(_initial(), crash_after=k)
        with pytest.raises(DriverCrash):
            reconcile(WANT, DEVICES, first)
        remaining = WRITES - k
        for j in range(0, remaining, 2):
            second = _driver(first.snapshot(), crash_after=j)
            with pytest.raises(DriverCrash):
                reconcile(WANT, DEVICES, second)
            _assert_converged(_driver(second.snapshot()))

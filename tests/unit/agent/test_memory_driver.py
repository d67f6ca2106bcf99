"""The memory driver behaves as a kernel does where the agent can tell."""

from __future__ import annotations

import dataclasses

import pytest

from vfnet.agent.drivers.base import Refusal
from vfnet.agent.drivers.memory import DriverCrash, MemoryDriver
from vfnet.errors import DriverError
from vfnet.network.vf_settings import APPLY_ORDER, RESET, VfAttr

from .states import FULL

EOPNOTSUPP = "EOPNOTSUPP: Operation not supported"


def test_new_vfs_read_back_at_reset():
    assert MemoryDriver.with_pfs({"ens1f0": 3}).read("ens1f0") == dict.fromkeys(range(3), RESET)


def test_only_the_named_attributes_are_written():
    driver = MemoryDriver.with_pfs({"ens1f0": 1})
    assert driver.apply("ens1f0", 0, FULL, (VfAttr.MAC, VfAttr.RATE)) == ()
    assert driver.read("ens1f0")[0] == dataclasses.replace(
        RESET, mac=FULL.mac, min_tx_rate=FULL.min_tx_rate, max_tx_rate=FULL.max_tx_rate
    )


def test_a_refused_attribute_comes_back_and_the_others_stay_applied():
    driver = MemoryDriver.with_pfs(
        {"ens1f0": 1}, refusals={"ens1f0": {VfAttr.LINK_STATE: EOPNOTSUPP}}
    )
    refused = driver.apply("ens1f0", 0, FULL, APPLY_ORDER)
    assert refused == (Refusal(VfAttr.LINK_STATE, EOPNOTSUPP),)
    assert driver.read("ens1f0")[0] == dataclasses.replace(FULL, link_state=RESET.link_state)


def test_refusals_belong_to_one_pf():
    driver = MemoryDriver.with_pfs(
        {"ens1f0": 1, "ens2f0": 1}, refusals={"ens1f0": {VfAttr.RATE: EOPNOTSUPP}}
    )
    assert driver.apply("ens2f0", 0, FULL, APPLY_ORDER) == ()
    assert driver.read("ens2f0")[0] == FULL


@pytest.mark.parametrize(
    ("pf", "vf", "words"), [("ens9f0", 0, "no such PF"), ("ens1f0", 5, "no VF 5")]
)
def test_a_missing_pf_or_vf_is_a_driver_error(pf, vf, words):
    driver = MemoryDriver.with_pfs({"ens1f0": 2})
    with pytest.raises(DriverError, match=words):
        driver.apply(pf, vf, FULL, APPLY_ORDER)


def test_reading_a_missing_pf_is_a_driver_error():
    with pytest.raises(DriverError, match="ens9f0"):
        MemoryDriver().read("ens9f0")


def test_a_crash_lets_the_given_number_of_writes_through_and_stops_before_the_next():
    driver = MemoryDriver.with_pfs({"ens1f0": 1}, crash_after=2)
    with pytest.raises(DriverCrash):
        driver.apply("ens1f0", 0, FULL, APPLY_ORDER)
    assert driver.writes == 2
    assert driver.read("ens1f0")[0] == dataclasses.replace(
        RESET, mac=FULL.mac, vlan=FULL.vlan, qos=FULL.qos, vlan_proto=FULL.vlan_proto
    )


def test_reads_are_counted_per_pf_and_return_copies():
    driver = MemoryDriver.with_pfs({"ens1f0": 1})
    table = driver.read("ens1f0")
    driver.apply("ens1f0", 0, FULL, APPLY_ORDER)
    assert table[0] == RESET
    assert driver.reads == {"ens1f0": 1}


def test_vfs_added_after_discovery_start_at_reset_and_existing_ones_keep_their_settings():
    driver = MemoryDriver.with_pfs({"ens1f0": 1})
    driver.apply("ens1f0", 0, FULL, APPLY_ORDER)
    driver.add_vfs([("ens1f0", 0), ("ens1f0", 1), ("ens2f0", 0)])
    assert driver.read("ens1f0") == {0: FULL, 1: RESET}
    assert driver.read("ens2f0") == {0: RESET}

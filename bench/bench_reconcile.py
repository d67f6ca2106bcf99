"""Reconcile speed with the memory driver: the agent's own cost, without the kernel's.

Prints JSON lines with medians:
- ``configure_64``: all attributes of 64 VFs on one PF, from RESET: the plan and the
  driver calls (milliseconds of wall time; target <= 20 ms), and the whole pass with its
  reads and read-back;
- ``idle_pass``: one pass over an idle host of 8 PFs x 256 VFs, every VF already as
  desired (half claimed, half free): milliseconds of CPU (``time.process_time``; target
  <= 50 ms).
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable

from vfnet.agent.desired import ClaimedVf, DesiredState
from vfnet.agent.drivers.memory import MemoryDriver
from vfnet.agent.plan import VfLocation, plan
from vfnet.agent.reconcile import reconcile
from vfnet.network.vf_settings import RESET, LinkState, VfSettings
from vfnet.pci.address import PciAddress

ROUNDS = 50


def host(pfs: int, vfs: int) -> dict[PciAddress, VfLocation]:
    """VF addresses as an E810 lays them out: routing ids from the PF's plus an offset."""
    return {
        PciAddress.from_rid(0, (0x10 * (pf + 1) << 8) + 0x10 + vf): VfLocation(f"ens{pf}f0", vf)
        for pf in range(pfs)
        for vf in range(vfs)
    }


def port(index: int) -> VfSettings:
    """Every attribute away from RESET, so each VF takes six writes."""
    return VfSettings(
        mac=f"fa:16:3e:00:{index >> 8:02x}:{index & 0xFF:02x}",
        vlan=100 + index % 3000,
        qos=index % 8,
        spoofchk=False,
        trust=True,
        min_tx_rate=100,
        max_tx_rate=1000,
        link_state=LinkState.ENABLE,
    )


def desired_for(devices: dict[PciAddress, VfLocation], every: int = 1) -> DesiredState:
    claimed = {
        address: ClaimedVf(address, f"instance-{i}", 1, f"port-{i}", port(i))
        for i, address in enumerate(devices)
        if i % every == 0
    }
    return DesiredState("bench-host", 1, claimed, {})


def median_ms(run: Callable[[], float]) -> float:
    return round(statistics.median(run() for _ in range(ROUNDS)) * 1000, 3)


def configure_64() -> dict[str, object]:
    devices = host(1, 64)
    want = desired_for(devices)

    def plan_and_apply() -> float:
        driver = MemoryDriver.with_pfs({"ens0f0": 64})
        actual = {"ens0f0": driver.read("ens0f0")}
        start = time.perf_counter()
        for change in plan(want, actual, devices).changes:
            driver.apply(change.pf, change.vf, change.wanted, change.attrs)
        return time.perf_counter() - start

    def whole_pass() -> float:
        driver = MemoryDriver.with_pfs({"ens0f0": 64})
        start = time.perf_counter()
        reconcile(want, devices, driver)
        return time.perf_counter() - start

    return {
        "bench": "configure_64",
        "vfs": 64,
        "attribute_writes": 64 * 6,
        "plan_and_driver_calls_ms": median_ms(plan_and_apply),
        "whole_pass_ms": median_ms(whole_pass),
        "target_ms": 20,
    }


def idle_pass() -> dict[str, object]:
    devices = host(8, 256)
    want = desired_for(devices, every=2)
    tables = {f"ens{pf}f0": dict.fromkeys(range(256), RESET) for pf in range(8)}
    for address, claim in want.claimed.items():
        pf, vf = devices[address]
        tables[pf][vf] = claim.settings
    driver = MemoryDriver(tables)

    def one_pass() -> float:
        start = time.process_time()
        result = reconcile(want, devices, driver)
        spent = time.process_time() - start
        assert result.applied == (), "the host was meant to be idle"
        return spent

    return {
        "bench": "idle_pass",
        "pfs": 8,
        "vfs": 8 * 256,
        "claimed": len(want.claimed),
        "cpu_ms": median_ms(one_pass),
        "target_ms": 50,
    }


def main() -> None:
    for bench in (configure_64, idle_pass):
        print(json.dumps(bench()), flush=True)


if __name__ == "__main__":
    main()

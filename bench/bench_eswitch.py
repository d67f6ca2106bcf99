"""VF configuration speed on the emulated eswitch: every attribute of 64 VFs of one PF.

Target (issue 5): 64 VFs end to end in 150 ms. Printed for the driver's two ways in:
``apply`` once per VF (what the agent's reconcile calls) and ``apply_many`` for all 64;
``apply_*`` is the applying alone, ``pass_*`` a reconcile pass's share of the driver:
read the VF table, apply, read it back. The same run also configures 64 VFs the way
shell scripts do it, one ip/nft/tc process per VF and attribute, for comparison, and
prints ensure (building the switch) and the machine's load. Needs root; prints a skip
line without it.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import time
import uuid
from collections.abc import Callable
from typing import TypeVar

from vfnet.agent.drivers import eswitch_names as names
from vfnet.agent.drivers.eswitch import EswitchDriver
from vfnet.agent.drivers.eswitch_topology import HostSwitch, PfPorts, ensure, teardown
from vfnet.network.vf_settings import APPLY_ORDER, LinkState, VfSettings

T = TypeVar("T")
VFS = 64
RUNS = 5
TARGET_MS = 150.0
PF = "ens1f0"
PHYSNET = "physnet1"
TBF = ("tbf", "burst", "64kb", "latency", "50ms", "rate")


def wanted(vf: int) -> VfSettings:
    return VfSettings(
        mac=f"52:54:00:00:{vf // 256:02x}:{vf % 256:02x}",
        vlan=100 + vf % 4,
        qos=vf % 8,
        spoofchk=True,
        trust=vf % 2 == 0,
        max_tx_rate=100 + vf,
        link_state=LinkState.ENABLE,
    )


def new_switch(tag: str) -> HostSwitch:
    vfs = tuple(f"{PF}v{n}" for n in range(VFS))
    return HostSwitch(f"b{tag}", (PfPorts(PF, PHYSNET, vfs),), f"vfnet-bf{tag}")


def with_driver(switch: HostSwitch, batch: bool) -> tuple[float, float]:
    """(applying, the whole pass) in seconds, on a switch fresh from ensure."""
    driver = EswitchDriver(switch)
    try:
        driver.read(PF)  # opens the namespace handles, as a running agent has them
        start = time.perf_counter()
        before = driver.read(PF)
        assert len(before) == VFS
        applying = time.perf_counter()
        if batch:
            changes = [(PF, vf, wanted(vf), APPLY_ORDER) for vf in range(VFS)]
            assert all(outcome == () for outcome in driver.apply_many(changes))
        else:
            for vf in range(VFS):
                refused = driver.apply(PF, vf, wanted(vf), APPLY_ORDER)
                assert refused == (), refused
        applied = time.perf_counter()
        table = driver.read(PF)
        done = time.perf_counter()
        assert all(table[vf] == wanted(vf) for vf in range(VFS)), "read differs from applied"
        return applied - applying, done - start
    finally:
        driver.close()


def commands(switch: HostSwitch, vf: int) -> list[list[str]]:
    """What a script runs for one VF: one process per attribute step."""
    ns, w = switch.netns, wanted(vf)
    rep, ifb = names.representor(PF, vf), names.rate_limiter(PF, vf)
    nft = ["ip", "netns", "exec", ns, "nft", "add", "element", "bridge", names.NFT_TABLE]
    return [
        ["ip", "-n", ns, "link", "set", f"{PF}v{vf}", "address", w.mac],
        [*nft, "vf_mac", f"{{ {rep} . {w.mac} }}"],
        [*nft, "mac_assigned", f"{{ {rep} }}"],
        ["ip", "-n", ns, "link", "set", rep, "master", names.bridge(PHYSNET, w.vlan)],
        [*nft, "vlan_qos", f"{{ {rep} . {w.qos} }}"],
        ["tc", "-n", ns, "qdisc", "replace", "dev", ifb, "root", *TBF, f"{w.max_tx_rate}mbit"],
        [*nft, "spoofchk_on", f"{{ {rep} }}"],
        ["ip", "-n", ns, "link", "set", rep, "up"],
        [*nft, "trust_on", f"{{ {rep} }}"],
    ]


def with_processes(switch: HostSwitch) -> float:
    for vlan in range(100, 104):  # the segments exist, as the driver's first VFs make them
        EswitchDriver(switch).apply(PF, 0, VfSettings(vlan=vlan), (APPLY_ORDER[1],))
    start = time.perf_counter()
    for vf in range(VFS):
        for argv in commands(switch, vf):
            subprocess.run(argv, check=True, capture_output=True)
    return time.perf_counter() - start


def on_fresh_switch(run: Callable[[HostSwitch], T], builds: list[float]) -> T:
    switch = new_switch(uuid.uuid4().hex[:6])
    try:
        start = time.perf_counter()
        ensure(switch)
        builds.append(time.perf_counter() - start)
        return run(switch)
    finally:
        teardown(switch)


def measure_driver(batch: bool, builds: list[float]) -> None:
    runs = [on_fresh_switch(lambda s: with_driver(s, batch), builds) for _ in range(RUNS)]
    name = "apply_many" if batch else "apply"
    report(f"apply_{name}_driver", [applying for applying, _ in runs], None)
    report(f"pass_{name}_driver", [whole for _, whole in runs], TARGET_MS)


def report(what: str, seconds: list[float], target: float | None) -> None:
    ms = [s * 1000 for s in seconds]
    line: dict[str, object] = {
        "bench": "eswitch",
        "what": what,
        "vfs": VFS,
        "runs": len(ms),
        "median_ms": round(statistics.median(ms), 1),
        "min_ms": round(min(ms), 1),
        "max_ms": round(max(ms), 1),
    }
    if target is not None:
        line["target_ms"] = target
    with open("/proc/loadavg") as load:
        line["loadavg"] = load.read().split()[:3]
    print(json.dumps(line), flush=True)


def main() -> None:
    if os.geteuid() != 0:
        print(json.dumps({"bench": "eswitch", "skipped": "needs root"}))
        return
    builds: list[float] = []
    measure_driver(False, builds)
    measure_driver(True, builds)
    report("ensure_64_vfs", builds, None)
    times = [on_fresh_switch(with_processes, []) for _ in range(RUNS)]
    report("apply_process_per_attribute", times, None)


if __name__ == "__main__":
    main()

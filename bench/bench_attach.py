"""Attaching one VF to a container: attach, detach, and the share of the namespace move.

One emulated host's switch with one VF; per run a fresh container namespace, the VF
attached as eth0 with MAC, MTU, an IPv4 and an IPv6 address and a default route, then
detached home. The namespace moves are timed inside the same calls, so the share is
of the same runs. Also the CNI plugin end to end (ADD and DEL as processes), which is
what a runtime waits for. Needs root; prints a skip line without it.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from vfnet.agent.attach.containers import attach, detach
from vfnet.agent.attach.netns import Route
from vfnet.agent.drivers.eswitch_topology import HostSwitch, PfPorts, ensure, teardown
from vfnet.agent.drivers.netns_ops import PyrouteNamespaces
from vfnet.lab.hostspec import HostSpec
from vfnet.lab.sysfs import generate_host

RUNS = 21
PHYSNET = "physnet1"


class TimedMoves(PyrouteNamespaces):
    """The real NamespaceOps, adding up the time spent in namespace moves."""

    def __init__(self) -> None:
        super().__init__()
        self.moving = 0.0

    def move(self, ns: str | None, name: str, to_ns: str | None, new_name: str) -> None:
        start = time.perf_counter()
        try:
            super().move(ns, name, to_ns, new_name)
        finally:
            self.moving += time.perf_counter() - start


def line(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


def bench_library(switch: HostSwitch, vf: str, tag: str) -> None:
    ops = TimedMoves()
    attach_ms, detach_ms, move_share = [], [], []
    for run in range(RUNS):
        ns = f"vfnet-bc{tag}{run}"
        ops.create(ns)
        try:
            ops.moving = 0.0
            start = time.perf_counter()
            attach(
                ops, vf, switch.netns, ns, ifname="eth0", mac="52:54:00:00:00:42", mtu=1400,
                addresses=("192.0.2.10/24", "2001:db8::10/64"),
                routes=(Route("default", "192.0.2.1"),),
            )  # fmt: skip
            elapsed = time.perf_counter() - start
            attach_ms.append(elapsed * 1000)
            move_share.append(ops.moving / elapsed)
            start = time.perf_counter()
            detach(ops, vf, switch.netns, ns)
            detach_ms.append((time.perf_counter() - start) * 1000)
        finally:
            ops.delete(ns)
    ops.close()
    line(
        bench="attach_one_vf", runs=RUNS, median_ms=round(statistics.median(attach_ms), 2),
        min_ms=round(min(attach_ms), 2), max_ms=round(max(attach_ms), 2),
        namespace_move_share=round(statistics.median(move_share), 3),
    )  # fmt: skip
    line(bench="detach_one_vf", runs=RUNS, median_ms=round(statistics.median(detach_ms), 2))


def bench_cni(switch: HostSwitch, device_id: str, root: Path, tag: str) -> None:
    plugin = str(Path(sys.executable).parent / "vfnet-cni")
    conf = json.dumps({
        "cniVersion": "1.0.0", "name": "bench", "type": "vfnet-cni", "deviceID": device_id,
        "driver": "eswitch", "sysfsRoot": str(root / "sysfs"), "stateDir": str(root / "state"),
        "eswitch": {"host": switch.host, "physnets": {"ens1f0": PHYSNET},
                    "fabric": switch.fabric},
        "vlan": 100, "mac": "52:54:00:00:00:43",
    })  # fmt: skip
    add_ms, del_ms = [], []
    for run in range(RUNS):
        ns = f"vfnet-bk{tag}{run}"
        subprocess.run(["ip", "netns", "add", ns], check=True)
        env = {"CNI_CONTAINERID": f"c{run}", "CNI_NETNS": f"/run/netns/{ns}", "CNI_IFNAME": "net1"}
        try:
            for command, times in (("ADD", add_ms), ("DEL", del_ms)):
                start = time.perf_counter()
                done = subprocess.run(
                    [plugin], input=conf, env={**env, "CNI_COMMAND": command},
                    capture_output=True, text=True, check=False,
                )  # fmt: skip
                times.append((time.perf_counter() - start) * 1000)
                if done.returncode != 0:
                    raise SystemExit(f"vfnet-cni {command}: {done.stdout} {done.stderr}")
        finally:
            subprocess.run(["ip", "netns", "delete", ns], check=False)
    for name, times in (("cni_add_process", add_ms), ("cni_del_process", del_ms)):
        line(bench=name, runs=RUNS, median_ms=round(statistics.median(times), 2))


def main() -> None:
    if os.geteuid() != 0:
        line(bench="attach_one_vf", skipped="needs root (network namespaces)")
        return
    tag = uuid.uuid4().hex[:6]
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        devices = generate_host(HostSpec(nic="82576", pfs=1, vfs=2), root / "sysfs")
        (pf,) = devices.pfs()
        vfs = devices.vfs_of(pf.address)
        ports = PfPorts(pf.ifname or "", PHYSNET, tuple(vf.ifname or "" for vf in vfs))
        switch = HostSwitch(f"b{tag}", (ports,), f"vfnet-bf{tag}")
        ensure(switch)
        try:
            bench_library(switch, vfs[0].ifname or "", tag)
            bench_cni(switch, str(vfs[1].address), root, tag)
        finally:
            teardown(switch)


if __name__ == "__main__":
    main()

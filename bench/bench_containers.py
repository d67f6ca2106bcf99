"""A container's direct port, from the API call to its VF up with its address in its namespace.

Target (issue): median at most 100 ms, on a generated X710 host (2 PFs x 32 VFs) with the
eswitch driver, a real ``vfnet-server`` (SQLite) and a looping ``vfnet-agent``. Per run a
port made beforehand is given to a new container instance (``POST /v1/instances``); the
clock stops when ``eth0`` in ``vfnet-c-<id>`` is up with the port's address, seen by an
rtnetlink socket in that namespace subscribed to link and address events (opened once
the namespace exists, which is polled by its file every 0.5 ms). Also printed: when the
API answered, when the port read ACTIVE, and where the time went (medians, ms since the
API call): ``planned``, the agent had the new desired state and had read the VF tables
(its long poll woke); ``settings``, the VF's settings applied; ``namespace``, the
container's namespace appeared; ``attached``; ``reported``, its status posted. The
agent's steps come from its own log lines, stamped to the millisecond.

The namespace move is timed separately in the same run: after each container is up and
deleted again, one VF of a switch of the bench's own (same kernel, same moment, the
agent idle) is attached to a fresh namespace as the agent attaches, the move timed
inside it (``TimedMoves`` of bench_attach). Its median is printed beside the median
above, with its share of it. Needs root; prints a skip line without it.

    .venv/bin/python bench/bench_containers.py [--runs 21] [--interval 1.0]
"""

from __future__ import annotations

import argparse
import json
import os
import select
import socket
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any

from bench_attach import TimedMoves
from container_site import PREFIX, Site, loadavg, site, verify_all_back

from vfnet.agent.attach.containers import attach, detach
from vfnet.agent.drivers.eswitch_topology import HostSwitch, PfPorts, ensure, teardown
from vfnet.agent.drivers.netlink_socket import inside
from vfnet.agent.drivers.netns_ops import PyrouteNamespaces
from vfnet.errors import DriverError, NotFound
from vfnet.lab.hostspec import HostSpec
from vfnet.lab.sysfs import generate_host

RTMGRP_LINK = 0x1
RTMGRP_IPV4_IFADDR = 0x10
PATIENCE = 30.0  # seconds a run may take before the bench gives up
STEPS = ("api", "planned", "settings", "namespace", "attached", "up", "reported", "active")


def line(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


@contextmanager
def _events(ns: str) -> Iterator[socket.socket]:
    """An rtnetlink socket in ``ns`` that wakes on link and IPv4 address changes."""
    with inside(ns):
        events = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    try:
        events.bind((0, RTMGRP_LINK | RTMGRP_IPV4_IFADDR))
        events.setblocking(False)
        yield events
    finally:
        events.close()


def _is_up(ops: PyrouteNamespaces, ns: str, cidr: str) -> bool:
    eth0 = next((link for link in ops.links(ns) if link.name == "eth0"), None)
    return eth0 is not None and eth0.up and cidr in ops.addresses(ns, "eth0")


def wait_up(ns: str, cidr: str, deadline: float) -> tuple[float, float]:
    """When namespace ``ns`` appeared and when its eth0 was up with ``cidr`` (perf_counter)."""
    path = f"/run/netns/{ns}"
    while not os.path.exists(path):
        if time.perf_counter() > deadline:
            raise SystemExit(f"namespace {ns} not made within {PATIENCE:g}s")
        time.sleep(0.0005)
    appeared = time.perf_counter()
    ops = PyrouteNamespaces()
    try:
        while True:
            try:  # ``ip netns add`` makes the file, then mounts the namespace on it
                with _events(ns) as events:
                    while not _is_up(ops, ns, cidr):
                        if time.perf_counter() > deadline:
                            raise SystemExit(f"eth0 in {ns} not up with {cidr} in time")
                        if select.select([events], [], [], 0.005)[0]:
                            with suppress(BlockingIOError):
                                while events.recv(65536):
                                    pass
                    return appeared, time.perf_counter()
            except (DriverError, NotFound):
                if time.perf_counter() > deadline:
                    raise
                time.sleep(0.0005)
    finally:
        ops.close()  # a socket left in the namespace would keep it alive after its deletion


def _stamp(text: str) -> float:
    return datetime.strptime(text[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()


def agent_steps(log: Sequence[str], since: float, instance: str, port: str) -> dict[str, float]:
    """Wall-clock stamps of the agent's steps for this container, from its log lines: the
    desired state that brought it (the first change applied after ``since``), its VF's
    settings applied, its attachment, and the status report that followed."""
    found: dict[str, float] = {}
    for text in log:
        if ": applying " in text and "planned" not in found and _stamp(text) >= since - 0.001:
            found["planned"] = _stamp(text)
        elif f"port {port}: ACTIVE on" in text and "settings" not in found:
            found["settings"] = _stamp(text)
        elif f"to vfnet-c-{instance} as eth0" in text and "attached" not in found:
            found["attached"] = _stamp(text)
        elif "status: generation" in text and "attached" in found and "reported" not in found:
            found["reported"] = _stamp(text)
    return found


def one_run(made: Site) -> dict[str, float]:
    """One container made and deleted: its steps in ms since the API call."""
    port = made.port()
    cidr = f"{port['fixed_ips'][0]['ip_address']}/{PREFIX}"
    made.wait_agent_idle()
    wall, began = time.time(), time.perf_counter()
    instance = made.container(made.admin, port["id"])
    answered = time.perf_counter()
    ns = f"vfnet-c-{instance['id']}"
    appeared, up = wait_up(ns, cidr, began + PATIENCE)
    while made.admin.get_port(port["id"])["status"] != "ACTIVE":
        if time.perf_counter() > began + PATIENCE:
            raise SystemExit(f"port {port['id']} not ACTIVE in time")
        time.sleep(0.01)
    active = time.perf_counter()
    steps = {"api": answered, "namespace": appeared, "up": up, "active": active}
    ms = {k: (t - began) * 1000 for k, t in steps.items()}
    logged = agent_steps(made.agent_log.read_text().splitlines(), wall, instance["id"], port["id"])
    ms |= {k: (t - wall) * 1000 for k, t in logged.items()}
    made.admin.delete_instance(instance["id"])
    _wait_free(made, port["id"], ns, began + 2 * PATIENCE)
    made.admin.delete_port(port["id"])
    return ms


def _wait_free(made: Site, port_id: str, ns: str, deadline: float) -> None:
    """Until no VF is held and the container's namespace is gone: the next run starts clean."""
    while True:
        held = [d for d in made.admin.list_devices(host=made.host) if d["state"] != "available"]
        if not held and not os.path.exists(f"/run/netns/{ns}"):
            return
        if time.perf_counter() > deadline:
            raise SystemExit(f"the VF of port {port_id} not free in time: {held}")
        time.sleep(0.02)


class MoveTimer:
    """A one-VF switch of the bench's own: one attach as the agent does it, the move timed."""

    def __init__(self, folder: Path) -> None:
        self.tag = uuid.uuid4().hex[:6]
        devices = generate_host(HostSpec(nic="82576", pfs=1, vfs=1), folder / "move-sys")
        (pf,) = devices.pfs()
        self.vf = devices.vfs_of(pf.address)[0].ifname or ""
        ports = PfPorts(pf.ifname or "", "physnet1", (self.vf,))
        self.switch = HostSwitch(f"m{self.tag}", (ports,), f"vfnet-mf{self.tag}")
        self.ops = TimedMoves()
        self.runs = 0

    def __enter__(self) -> MoveTimer:
        ensure(self.switch)
        return self

    def __exit__(self, *exc: object) -> None:
        self.ops.close()
        teardown(self.switch)

    def move_ms(self) -> float:
        ns = f"vfnet-bm{self.tag}{self.runs}"
        self.runs += 1
        self.ops.create(ns)
        try:
            self.ops.moving = 0.0
            attach(self.ops, self.vf, self.switch.netns, ns, ifname="eth0",
                   mac="52:54:00:00:00:42", addresses=("192.0.2.10/24",))  # fmt: skip
            moved = self.ops.moving * 1000
            detach(self.ops, self.vf, self.switch.netns, ns)
        finally:
            self.ops.delete(ns)
        return moved


def _median(runs: Sequence[dict[str, float]], key: str) -> float | None:
    values = [run[key] for run in runs if key in run]
    return round(statistics.median(values), 1) if values else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--interval", type=float, default=1.0, help="vfnet-agent --interval")
    args = parser.parse_args()
    if os.geteuid() != 0:
        line(bench="container_direct_port_up", skipped="needs root (network namespaces)")
        return
    with tempfile.TemporaryDirectory(prefix="vfnet-bench-") as folder:
        root = Path(folder)
        with site(root, pfs=2, vfs=32, interval=args.interval) as made, MoveTimer(root) as mover:
            one_run(made)  # warm: the segment's bridge is made by the first port
            runs, moves = [], []
            for _ in range(args.runs):
                runs.append(one_run(made))
                moves.append(mover.move_ms())
            check = verify_all_back(made)
        up = statistics.median(run["up"] for run in runs)
        move = statistics.median(moves)
        line(
            bench="container_direct_port_up", host="x710-2x32", driver="eswitch",
            agent_interval_s=args.interval, runs=args.runs, median_ms=round(up, 1),
            p95_ms=round(sorted(r["up"] for r in runs)[int(0.95 * (len(runs) - 1))], 1),
            min_ms=round(min(r["up"] for r in runs), 1), target_ms=100.0,
            namespace_move_ms=round(move, 2), namespace_move_share=round(move / up, 3),
            namespace_move_measured="separately, same run: one VF of the bench's own switch",
            loadavg=loadavg(),
        )  # fmt: skip
        line(
            bench="container_direct_port_steps", unit="ms since the API call, medians",
            **{key: _median(runs, key) for key in STEPS},
        )  # fmt: skip
        line(bench="container_direct_port_check", **check)


if __name__ == "__main__":
    main()

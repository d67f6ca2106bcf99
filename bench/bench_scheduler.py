"""Scheduling figures: decisions per fleet size on a synthetic X710 fleet, as JSON lines.

Each host has 4 PFs x 64 VFs (8086:1572, VFs 8086:154c): the VFs of PF 0 and 1 are on
physnet1 (NUMA node 0 and 1), those of PF 2 and 3 on physnet2; free counts vary per
host. An instance with a 2-cell NUMA topology asks for 2 VFs on physnet1; each
decision's placement is consumed from the view, so counts change as it runs.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from functools import partial

from vfnet.inventory.pools import PoolKey
from vfnet.inventory.requests import PciRequest
from vfnet.scheduler.select import select_host
from vfnet.scheduler.view import FleetView

PHYSNETS = ("physnet1", "physnet1", "physnet2", "physnet2")
NUMA_CELLS = frozenset({0, 1})
VF_SPEC = {"physical_network": "physnet1", "remote_managed": "False"}


def host_pools(host: int, rng: random.Random) -> dict[PoolKey, int]:
    pools = {}
    for pf, physnet in enumerate(PHYSNETS):
        key = {
            "vendor_id": "8086",
            "product_id": "154c",
            "numa_node": str(pf % 2),
            "dev_type": "type-VF",
            "physical_network": physnet,
            "remote_managed": "false",
            "address": f"0000:{0x3B + host % 64:02x}:00.{pf}",
        }
        pools[PoolKey.of(key)] = rng.randint(0, 64)
    return pools


def build(hosts: int, rng: random.Random) -> FleetView:
    view = FleetView()
    for n in range(hosts):
        view.update_host(f"host-{n:05d}", host_pools(n, rng), numa_sockets={0: 0, 1: 1})
    return view


def ms(seconds: float) -> float:
    return round(seconds * 1000, 4)


def timed(action, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def decide(view: FleetView, requests: list[PciRequest], policy: str) -> None:
    placement = select_host(view, requests, NUMA_CELLS, policy=policy)
    view.consume(placement.host, placement.consumption())


def scan(view: FleetView, requests: list[PciRequest]) -> None:
    """Every host fitted exactly, as Nova's filter does: the figure the index avoids."""
    for host in view:
        host.matcher.plan(requests, host.counts(), NUMA_CELLS, host.numa_sockets)


def report(figure: str, hosts: int, value: float, **extra: object) -> None:
    print(
        json.dumps({"bench": "scheduler", "figure": figure, "hosts": hosts, "ms": value, **extra})
    )


def update_one(view: FleetView, hosts: int, rng: random.Random) -> None:
    view.update_host(f"host-{rng.randrange(hosts):05d}", host_pools(0, rng))


def bench_fleet(hosts: int, decisions: int) -> None:
    rng = random.Random(hosts)
    start = time.perf_counter()
    view = build(hosts, rng)
    report("build_view", hosts, ms(time.perf_counter() - start))
    report("update_host", hosts, ms(timed(partial(update_one, view, hosts, rng), 500)))
    pair = [PciRequest(count=2, specs=(VF_SPEC,))]
    ha_pair = [PciRequest(count=1, specs=(VF_SPEC,), pf_group="bond0") for _ in range(2)]
    if hosts <= 1000:
        report("scan_every_host", hosts, ms(timed(partial(scan, view, pair), 20)))
    for label, requests in (("2 VFs on physnet1", pair), ("HA pair, different PFs", ha_pair)):
        for policy in ("pack", "spread"):
            fresh = build(hosts, random.Random(hosts))  # the same fleet, full counts again
            figure = ms(timed(partial(decide, fresh, requests, policy), decisions))
            report("decision", hosts, figure, request=label, policy=policy, median_of=decisions)


def main(sizes: list[int], decisions: int = 1000) -> None:
    for hosts in sizes:
        bench_fleet(hosts, decisions)


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [100, 1000, 10000])

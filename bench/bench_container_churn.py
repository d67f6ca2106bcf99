"""50 containers created and deleted at once on one host, and every VF back at the end.

On a generated X710 host (2 PFs x 32 VFs) with the eswitch driver, a real ``vfnet-server``
(SQLite) and a looping ``vfnet-agent``: 50 threads, each with its own client and a port
made beforehand, start together; each creates a container instance with its port, waits
until the port reads ACTIVE, deletes the instance, and waits until its VF is free again
(``available`` at the claim it held, or claimed anew by someone else). One watcher lists
the network's ports and the host's VFs every ``POLL`` seconds for all of them, so 50
waiters cost the server two requests a poll, not a hundred; the times below are as fine
as that poll.

Prints the wall time, the medians and p95 of create -> ACTIVE and delete -> free per
instance and of the API calls themselves, and then the check that every VF is back:
available on the server, at reset in the switch (MAC 0, VLAN 0, spoofchk on, trust off,
rates 0, link auto), home under its own name, no namespace of ours left. Needs root;
prints a skip line without it.

    .venv/bin/python bench/bench_container_churn.py [--instances 50] [--interval 1.0]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from container_site import Site, loadavg, site, verify_all_back

from vfnet.client import Client

POLL = 0.1  # seconds between the watcher's lists
PATIENCE = 180.0  # seconds an instance may take to come and go before the bench gives up


class Watcher:
    """Lists the ports and VFs every ``POLL`` while anyone waits; wakes the waiters."""

    def __init__(self, made: Site) -> None:
        self.client = Client(made.url, made.token)
        self.made = made
        self.ports: dict[str, dict[str, Any]] = {}
        self.vfs: dict[str, dict[str, Any]] = {}
        self.changed = threading.Condition()
        self.stopped = False
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        while not self.stopped:
            ports = self.client.list_ports(network_id=self.made.network["id"])
            vfs = self.client.list_devices(host=self.made.host, dev_type="type-VF")
            with self.changed:
                self.ports = {p["id"]: p for p in ports}
                self.vfs = {d["address"]: d for d in vfs}
                self.changed.notify_all()
            time.sleep(POLL)

    def until(self, check: Callable[[], Any], deadline: float) -> Any:
        """The first truthy ``check()`` after a list; TimeoutError past ``deadline``."""
        with self.changed:
            while True:
                found = check()
                if found:
                    return found
                if time.monotonic() > deadline:
                    raise TimeoutError("not seen in time")
                self.changed.wait(POLL * 2)

    def stop(self) -> None:
        self.stopped = True
        self.thread.join()
        self.client.close()


@dataclass
class Churner:
    """One client: its instance made, seen ACTIVE, deleted, its VF seen free; timed."""

    made: Site
    watcher: Watcher
    port_id: str
    times: dict[str, float] = field(default_factory=dict)
    error: str | None = None

    def run(self, start: threading.Barrier) -> None:
        client = Client(self.made.url, self.made.token)
        start.wait()
        try:
            self._cycle(client)
        except Exception as error:  # counted and shown, the others go on
            self.error = f"{type(error).__name__}: {error}"
        finally:
            client.close()

    def _cycle(self, client: Client) -> None:
        deadline = time.monotonic() + PATIENCE
        began = time.monotonic()
        instance = self.made.container(client, self.port_id)
        self.times["create_api"] = time.monotonic() - began
        port = self.watcher.until(self._settled, deadline)
        self.times["active"] = time.monotonic() - began
        if port["status"] != "ACTIVE":
            raise RuntimeError(f"port {self.port_id} {port['status']}: {port.get('reason')}")
        slot = port["binding:profile"]["pci_slot"]
        claim = self.watcher.vfs[slot]["claim_generation"]
        deleting = time.monotonic()
        client.delete_instance(instance["id"])
        self.times["delete_api"] = time.monotonic() - deleting
        self.watcher.until(lambda: self._free(slot, claim), deadline)
        self.times["free"] = time.monotonic() - deleting

    def _settled(self) -> dict[str, Any] | None:
        port = self.watcher.ports.get(self.port_id)
        return port if port is not None and port["status"] in ("ACTIVE", "ERROR") else None

    def _free(self, slot: str, claim: int) -> bool:
        vf = self.watcher.vfs[slot]
        generation = int(vf["claim_generation"])
        return generation > claim or (vf["state"] == "available" and generation == claim)


def _spread(values: Sequence[float]) -> dict[str, float | None]:
    if not values:
        return {"median": None, "p95": None}
    ordered = sorted(values)
    return {
        "median": round(statistics.median(ordered) * 1000, 1),
        "p95": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 1),
    }


def churn(made: Site, count: int) -> dict[str, Any]:
    """``count`` churners at once: the figures of the run."""
    watcher = Watcher(made)
    churners = [Churner(made, watcher, made.port()["id"]) for _ in range(count)]
    start = threading.Barrier(count + 1)
    threads = [threading.Thread(target=c.run, args=(start,)) for c in churners]
    for thread in threads:
        thread.start()
    watcher.thread.start()
    made.wait_agent_idle()
    start.wait()
    began = time.monotonic()
    try:
        for thread in threads:
            thread.join()
    finally:
        wall = time.monotonic() - began
        watcher.stop()
    done = [c.times for c in churners if c.error is None]
    errors = sorted({c.error for c in churners if c.error is not None})
    return {
        "wall_s": round(wall, 2), "completed": len(done), "errors": errors,
        **{f"{key}_ms": _spread([t[key] for t in done])
           for key in ("active", "free", "create_api", "delete_api")},
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=50)
    parser.add_argument("--interval", type=float, default=1.0, help="vfnet-agent --interval")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print(json.dumps({"bench": "container_churn", "skipped": "needs root (namespaces)"}))
        return
    with (
        tempfile.TemporaryDirectory(prefix="vfnet-bench-") as folder,
        site(Path(folder), pfs=2, vfs=32, interval=args.interval) as made,
    ):
        figures = churn(made, args.instances)
        print(json.dumps({
            "bench": "container_churn", "host": "x710-2x32", "driver": "eswitch",
            "instances": args.instances, "agent_interval_s": args.interval,
            "poll_ms": POLL * 1000, **figures, "loadavg": loadavg(),
        }), flush=True)  # fmt: skip
        made.wait_agent_idle()
        print(json.dumps({"bench": "container_churn_check", **verify_all_back(made)}))


if __name__ == "__main__":
    main()

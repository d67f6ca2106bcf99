"""Port creation through the API: 8 clients creating ports on one network, on a real server.

Each run starts ``vfnet-server serve --workers N --no-access-log`` (N as deployed: 2 on
PostgreSQL, 1 on SQLite) on a fresh database, creates one VLAN network with a /16 subnet,
then lets the clients (threads, each with its own ``vfnet.client.Client`` and keep-alive
connection) create ``--ports`` ports between them, each getting a generated MAC and the
lowest free IP.
With ``--servers 2`` the clients spread over two servers sharing the database, as
servers on several machines would (PostgreSQL only).

Prints JSON lines: ports per second with latency percentiles, the CPU seconds the server
(all its workers) and the clients used, and the load average (the clients share the
machine's cores with the server); then the check, through ``list_ports``, that no IP and
no MAC was handed out twice. Runs on a SQLite file and on
PostgreSQL when reachable (``VFNET_TEST_POSTGRES``, else the local default).

    .venv/bin/python bench/bench_ports.py [--ports 2000] [--clients 8] [--servers 1 2]
        [--workers N]

With ``--profile DIR`` and py-spy on PATH, the (first) server is sampled while the
clients run, only in the thread holding the GIL, so the collapsed stacks written to
DIR show where the server's CPU goes (auth, FastAPI, pydantic, SQLAlchemy, commit).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

from databases import DEFAULT_POSTGRES, postgres_reachable, postgres_url, sqlite_url

from vfnet.client import Client
from vfnet.errors import VfnetError
from vfnet.lab.server import wait_until_answering

SERVER = str(Path(sys.executable).parent / "vfnet-server")
NETWORK = {
    "name": "bench-net",
    "provider:network_type": "vlan",
    "provider:physical_network": "physnet1",
    "provider:segmentation_id": 100,
}
# Server processes per server, as docs/api.md deploys them: one per core on PostgreSQL;
# one on SQLite, whose writers queue within a process but not across processes.
DEPLOYED_WORKERS = {"sqlite": 1, "postgresql": 2}
CIDR = "10.0.0.0/16"  # 65,533 addresses: room for any run of this benchmark


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def admin_token(database_url: str) -> str:
    """A token minted against the database (which also migrates it to head)."""
    done = subprocess.run(
        [SERVER, "token", "create", "--role", "admin", "--name", "bench", "--database-url",
         database_url],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


@contextmanager
def server(database_url: str, log: Path, options: Sequence[str]) -> Iterator[tuple[str, int]]:
    """A ``vfnet-server serve`` process on a free port; yields its URL and pid."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [SERVER, "serve", "--port", str(port), "--database-url", database_url, *options],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        _wait_until_up(url, process, log)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    try:
        wait_until_answering(url, 30, lambda: process.poll() is not None, log)
    except VfnetError as failed:
        raise SystemExit(f"{failed}:\n{log.read_text()[-2000:]}") from None


class Creator:
    """One client: creates its share of ports, one request at a time, timing each."""

    def __init__(self, url: str, token: str, network_id: str, count: int, name: str) -> None:
        self.client = Client(url, token)
        self.network_id, self.count, self.name = network_id, count, name
        self.latencies: list[float] = []
        self.errors: Counter[str] = Counter()

    def run(self, start: threading.Barrier) -> None:
        start.wait()
        for serial in range(self.count):
            body = {"name": f"{self.name}-{serial}", "network_id": self.network_id,
                    "binding:vnic_type": "direct"}  # fmt: skip
            began = time.perf_counter()
            try:
                self.client.create_port(body)
            except Exception as error:  # a failed creation is counted, not fatal
                self.errors[type(error).__name__] += 1
                continue
            self.latencies.append(time.perf_counter() - began)
        self.client.close()


@contextmanager
def sampled(pid: int, out: Path | None) -> Iterator[None]:
    """py-spy sampling ``pid`` (GIL holder only) into ``out`` while the block runs."""
    spy = shutil.which("py-spy")
    if out is None or spy is None:
        yield
        return
    command = [spy, "record", "--pid", str(pid), "--subprocesses", "--gil", "--nonblocking",
               "--rate", "200", "--format", "raw", "-o", str(out)]  # fmt: skip
    recorder = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1)  # attached before the first request
        yield
    finally:
        recorder.send_signal(2)
        recorder.wait()


def _stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (state is [0], ppid [1])."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """User and system CPU used so far by ``pid`` and its children (its worker processes)."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError):
                stats[int(entry.name)] = _stat(int(entry.name))
    family = {pid} | {child for child, fields in stats.items() if int(fields[1]) == pid}
    ticks = sum(int(stats[p][11]) + int(stats[p][12]) for p in family if p in stats)
    return ticks / os.sysconf("SC_CLK_TCK")


def run(
    backend: str,
    database_url: str,
    ports: int,
    clients: int,
    servers: int,
    workers: int,
    profile: Path | None = None,
) -> None:
    figures = {"bench": "ports", "backend": backend, "servers": servers, "workers": workers,
               "clients": clients, "client_mode": "threads"}  # fmt: skip
    options = ["--workers", str(workers), "--no-access-log"]
    token = admin_token(database_url)
    with tempfile.TemporaryDirectory() as folder, ExitStack() as stack:
        started = [
            stack.enter_context(server(database_url, Path(folder) / f"server-{n}.log", options))
            for n in range(servers)
        ]
        urls = [url for url, _ in started]
        with Client(urls[0], token) as admin:
            network = admin.create_network(NETWORK)
            admin.create_subnet({"name": "bench-sub", "network_id": network["id"], "cidr": CIDR})
        shares = [ports // clients + (1 if n < ports % clients else 0) for n in range(clients)]
        creators = [
            Creator(urls[n % servers], token, network["id"], share, f"c{n}")
            for n, share in enumerate(shares)
        ]
        out = None if profile is None else profile / f"ports-{backend}-{servers}.stacks"
        with sampled(started[0][1], out):
            elapsed, cpu = _race(creators, [pid for _, pid in started])
        latencies = sorted(x for c in creators for x in c.latencies)
        errors = sum((c.errors for c in creators), Counter[str]())
        print(json.dumps({**figures, **throughput(latencies, elapsed), "errors": dict(errors),
                          **cpu}))  # fmt: skip
        with Client(urls[0], token) as admin:
            listed = admin.list_ports(network_id=network["id"])
        print(json.dumps({**figures, **check(listed, len(latencies))}))


def _race(creators: Sequence[Creator], pids: Sequence[int]) -> tuple[float, dict[str, float]]:
    """Run the creators together: the seconds they took, the CPU seconds the servers and
    the clients used meanwhile, and the load average at the end."""
    start = threading.Barrier(len(creators) + 1)
    threads = [threading.Thread(target=c.run, args=(start,)) for c in creators]
    for thread in threads:
        thread.start()
    server_cpu = -sum(cpu_seconds(pid) for pid in pids)
    client_cpu = -time.process_time()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    server_cpu += sum(cpu_seconds(pid) for pid in pids)
    client_cpu += time.process_time()
    load = float(Path("/proc/loadavg").read_text().split()[0])
    cpu = {"server_cpu_s": round(server_cpu, 2), "client_cpu_s": round(client_cpu, 2)}
    return elapsed, {**cpu, "loadavg_1m": load}


def throughput(latencies: Sequence[float], elapsed: float) -> dict[str, object]:
    def pct(q: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000, 1)

    return {
        "ports": len(latencies),
        "seconds": round(elapsed, 2),
        "ports_per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": pct(0.50) if latencies else None,
        "p99_ms": pct(0.99) if latencies else None,
    }


def check(listed: Sequence[dict[str, object]], created: int) -> dict[str, object]:
    """Every created port listed once, no (subnet, IP) and no MAC held by two ports."""
    ips = Counter(
        (fixed["subnet_id"], fixed["ip_address"])
        for port in listed
        for fixed in port["fixed_ips"]  # type: ignore[attr-defined]
    )
    macs = Counter(port["mac_address"] for port in listed)
    duplicate_ips = sum(n - 1 for n in ips.values() if n > 1)
    duplicate_macs = sum(n - 1 for n in macs.values() if n > 1)
    return {
        "check": "no IP or MAC handed out twice",
        "created": created,
        "listed": len(listed),
        "duplicate_ips": duplicate_ips,
        "duplicate_macs": duplicate_macs,
        "ok": duplicate_ips == 0 and duplicate_macs == 0 and len(listed) == created,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ports", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--servers", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--workers", type=int, help="vfnet-server serve --workers (default: as deployed)"
    )
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--profile", type=Path, help="folder for py-spy's collapsed stacks")
    args = parser.parse_args()
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    if "sqlite" in args.backends:
        # SQLite has one writer at a time and no cross-process queue: one server only.
        with sqlite_url() as url:
            workers = args.workers or DEPLOYED_WORKERS["sqlite"]
            run("sqlite", url, args.ports, args.clients, 1, workers, args.profile)
    if "postgresql" not in args.backends:
        return
    base = os.environ.get("VFNET_TEST_POSTGRES") or DEFAULT_POSTGRES
    if not postgres_reachable(base):
        print(json.dumps({"bench": "ports", "backend": "postgresql", "skipped": base}))
        return
    for servers in args.servers:
        with postgres_url(base) as url:
            workers = args.workers or DEPLOYED_WORKERS["postgresql"]
            run("postgresql", url, args.ports, args.clients, servers, workers, args.profile)


if __name__ == "__main__":
    main()

"""``vfnet lab up``: a server and emulated hosts with their agents, left running in the background.

plan -> record -> generate hosts -> start the server -> mint tokens -> start agents ->
wait for every host's inventory. Each process and namespace is written to ``lab.json``
before it is made (a process's pid right after it starts), so ``vfnet lab down`` can
undo a lab that ``up`` did not finish.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from subprocess import Popen
from typing import Protocol

import httpx

from vfnet.client import Client
from vfnet.errors import ValidationError, VfnetError
from vfnet.lab.down import lab_down, release
from vfnet.lab.hosts import LabHostPlan, create_lab_hosts, plan_lab_hosts
from vfnet.lab.namespaces import netns_exists
from vfnet.lab.processes import installed_command, is_running, log_tail, spawn
from vfnet.lab.server import create_token, free_port, serve_argv, sqlite_url, wait_until_answering
from vfnet.lab.state import HostRecord, LabState, host_netns, load, save

DEFAULT_DIR = Path(".vfnet-lab")
SERVER_START_SECONDS = 30.0
REPORT_SECONDS = 90.0  # agents discover, register and report in well under a second each
PROGRESS_EVERY = 5.0
AGENT_INTERVAL = 2.0  # seconds; also what the agent's long poll waits at most
# CAP_NET_ADMIN (links, tc, nftables) and CAP_SYS_ADMIN (network namespaces): what the
# agent's eswitch driver checks for too.
_SWITCH_CAPS = (1 << 12) | (1 << 21)
_SYNTAX = {"device_spec": "Nova [pci] device_spec", "device_plugin": "Neutron + device plugin"}
_LAB_FILES = ("hosts", "vfnet.db", "vfnet.db-wal", "vfnet.db-shm", "server.log", "admin.token")


class Reporter(Protocol):
    def line(self, text: str) -> None: ...


@dataclass(frozen=True, slots=True)
class UpOptions:
    """What ``vfnet lab up`` was asked for; ``driver`` None picks by privilege."""

    lab_dir: Path = DEFAULT_DIR
    hosts: int = 2
    nic: str | None = None
    pfs: int | None = None
    vfs: int | None = None
    driver: str | None = None


def can_build_switches(status: Path = Path("/proc/self/status")) -> bool:
    """Whether this process holds the capabilities the agents' software switches need."""
    for line in status.read_text().splitlines():
        if line.startswith("CapEff:"):
            return int(line.split()[1], 16) & _SWITCH_CAPS == _SWITCH_CAPS
    return os.geteuid() == 0


def choose_driver(requested: str | None, capable: bool, out: Reporter) -> str:
    """The eswitch where switches can be built, else the memory driver, said in one line."""
    if requested == "eswitch" and not capable:
        raise ValidationError(
            "--driver", "eswitch needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN); use --driver memory"
        )
    if requested is not None:
        return requested
    if capable:
        return "eswitch"
    out.line("Not root: the agents use the memory driver (VF settings recorded, no packets).")
    return "memory"


def agent_argv(host: HostRecord, url: str, driver: str) -> list[str]:
    """A lab agent's command line. Its long poll lasts one interval and SIGTERM waits for
    it, so a short interval keeps ``down`` from having to SIGKILL."""
    return [installed_command("vfnet-agent"), "--config", host.config, "--server", url,
            "--token-file", host.token_file, "--driver", driver,
            "--interval", f"{AGENT_INTERVAL:g}",
            # VMs through libvirt's test driver: domains defined and started in the agent.
            "--libvirt-uri", "test:///default", "--domain-type", "qemu"]  # fmt: skip


def planned_state(
    lab_dir: Path, plan: Sequence[LabHostPlan], driver: str, made_dir: bool, port: int
) -> LabState:
    """The lab about to be made, every name fixed before anything exists."""
    base = lab_dir.resolve()
    hosts = tuple(
        HostRecord(name, str(base / "hosts" / name / "host.toml"),
                   str(base / "hosts" / name / "agent.token"),
                   str(base / "hosts" / name / "agent.log"))
        for name, _, _ in plan
    )  # fmt: skip
    return LabState(
        dir=str(base), driver=driver, url=f"http://127.0.0.1:{port}",
        database_url=sqlite_url(base), admin_token_file=str(base / "admin.token"),
        server_log=str(base / "server.log"), made_dir=made_dir, hosts=hosts,
        namespaces=tuple(host_netns(h.name) for h in hosts) if driver == "eswitch" else (),
        files=_LAB_FILES,
    )  # fmt: skip


def lab_up(options: UpOptions, out: Reporter) -> tuple[LabState, bool]:
    """Brings the lab up; the state and whether it was started now (False: already up)."""
    lab_dir = options.lab_dir
    existing = load(lab_dir)
    if existing is not None and existing.healthy():
        out.line(
            f"A lab is already up in {lab_dir} ({existing.url}); nothing changed "
            "(vfnet lab down first to start another)."
        )
        return existing, False
    plan = plan_lab_hosts(options.hosts, nic=options.nic, pfs=options.pfs, vfs=options.vfs)
    driver = choose_driver(options.driver, can_build_switches(), out)
    if existing is not None:
        out.line(f"The lab recorded in {lab_dir} is not running: removing what is left of it.")
        lab_down(lab_dir, out)
    if driver == "eswitch":
        _check_names_free([name for name, _, _ in plan])
    made_dir = not lab_dir.exists()
    lab_dir.mkdir(parents=True, exist_ok=True)
    state = planned_state(lab_dir, plan, driver, made_dir, free_port())
    save(state, lab_dir)
    try:
        return _start(state, plan, out), True
    except BaseException:
        out.line("Start failed: stopping what was started; logs stay until vfnet lab down.")
        release(load(lab_dir) or state, out, lab_dir)
        raise


def _check_names_free(hosts: Sequence[str]) -> None:
    if shutil.which("ip") is None:
        raise ValidationError("--driver", "eswitch needs the ip command (iproute2)")
    for name in hosts:
        if netns_exists(host_netns(name)):
            raise VfnetError(
                f"network namespace {host_netns(name)} exists and is not this lab's: another "
                "lab holds it (vfnet lab down --dir THERE) or remove it (ip netns delete)"
            )


def _start(state: LabState, plan: Sequence[LabHostPlan], out: Reporter) -> LabState:
    lab_dir = Path(state.dir)
    for (name, spec, syntax), made in zip(plan, create_lab_hosts(lab_dir, plan), strict=True):
        out.line(
            f"{name}: {spec.pfs} {spec.model.name} PFs, {spec.vfs} VFs each; "
            f"{_SYNTAX[syntax]} config {made.config_path}"
        )
    for suffix in ("", "-wal", "-shm"):
        (lab_dir / f"vfnet.db{suffix}").unlink(missing_ok=True)
    port = int(state.url.rsplit(":", 1)[1])
    record, server = spawn(serve_argv(port, state.database_url), Path(state.server_log))
    state = state.with_server(record)
    save(state, lab_dir)
    wait_until_answering(
        state.url, SERVER_START_SECONDS, lambda: server.poll() is not None, Path(state.server_log)
    )
    out.line(f"server: {state.url} (pid {record.pid}), SQLite {state.database_url}")
    admin_token = create_token(state.database_url, role="admin", name="lab-admin")
    _write_secret(Path(state.admin_token_file), admin_token)
    with Client(state.url, admin_token) as admin:
        for host in state.hosts:
            token = admin.create_token("agent", host=host.name, name=f"agent-{host.name}")
            _write_secret(Path(host.token_file), token["token"])
        agents: dict[str, Popen[bytes]] = {}
        for host in state.hosts:
            record, agents[host.name] = spawn(agent_argv(host, state.url, state.driver),
                                              Path(host.log))  # fmt: skip
            state = state.with_agent(host.name, record)
            save(state, lab_dir)
        _wait_for_reports(admin, state, agents, out)
    return state


def _write_secret(path: Path, text: str) -> None:
    path.touch(mode=0o600)
    path.write_text(text + "\n")


def _wait_for_reports(
    admin: Client, state: LabState, agents: dict[str, Popen[bytes]], out: Reporter
) -> None:
    """Until every host has reported (and, on the eswitch, built its switch namespace)."""
    pending = {host.name: host for host in state.hosts}
    out.line(f"Waiting for {len(pending)} agents ({state.driver} driver) to report inventory...")
    started = last_said = time.monotonic()
    while pending:
        check_alive(state, {name: agents[name] for name in pending})
        for name in sorted(set(pending) & _reported(admin, state)):
            if state.driver == "eswitch" and not netns_exists(host_netns(name)):
                continue
            devices = admin.list_devices(host=name)
            out.line(f"{name}: agent pid {agents[name].pid} reported {len(devices)} devices")
            del pending[name]
        now = time.monotonic()
        if pending and now - started > REPORT_SECONDS:
            logs = ", ".join(host.log for host in pending.values())
            raise VfnetError(f"{', '.join(pending)}: no report in {REPORT_SECONDS:g}s; see {logs}")
        if pending and now - last_said > PROGRESS_EVERY:
            out.line(f"  still waiting for {', '.join(sorted(pending))}")
            last_said = now
        if pending:
            time.sleep(0.2)


def check_alive(state: LabState, agents: dict[str, Popen[bytes]]) -> None:
    """Raises with the end of its log when an agent (or the server) has exited."""
    logs = {host.name: host.log for host in state.hosts}
    for name, process in agents.items():
        if process.poll() is not None:
            raise VfnetError(
                f"the agent of {name} exited with code {process.returncode}; "
                f"the end of {logs[name]}:\n{log_tail(logs[name])}"
            )
    if state.server is not None and not is_running(state.server):
        raise VfnetError(
            f"vfnet-server exited; the end of {state.server_log}:\n{log_tail(state.server_log)}"
        )


def _reported(admin: Client, state: LabState) -> set[str]:
    try:
        return {h["name"] for h in admin.list_hosts() if h.get("reported_at")}
    except httpx.TransportError as error:
        raise VfnetError(f"vfnet-server at {state.url} stopped answering: {error}") from None


def next_steps(state: LabState, lab_dir: Path) -> list[str]:
    """What to type next: the server for the CLI, a first command, and how to stop."""
    where = "" if lab_dir == DEFAULT_DIR else f" --dir {lab_dir}"
    return [
        f"The lab is up: {len(state.hosts)} hosts, {state.driver} driver, server {state.url}.",
        "Next:",
        f"  export VFNET_URL={state.url} VFNET_TOKEN=$(cat {state.admin_token_file})",
        "  vfnet network create --provider-network-type vlan "
        "--provider-physical-network physnet1 --provider-segment 100 net1",
        f"  vfnet lab status{where}",
        f"  vfnet lab down{where}",
    ]

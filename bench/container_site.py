"""One emulated host served by a real ``vfnet-server`` (SQLite) and a looping eswitch agent.

What the container benches share: a generated X710 host under a name of its own, its
physnet of its own (so instances are placed there and nowhere else), a ``vfnet-agent
--driver eswitch`` process building its switch, one VLAN network with a /24 subnet, and
the checks that every VF is back at the end: free on the server, reset in the switch,
home under its own name, and no container namespace of ours left. Everything made is
removed on the way out, failure or not: the agent stopped, the switch torn down, the
server stopped, the namespaces of our instances deleted.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vfnet.agent.drivers.eswitch import EswitchDriver
from vfnet.agent.drivers.eswitch_names import host_netns
from vfnet.agent.drivers.eswitch_topology import HostSwitch
from vfnet.agent.drivers.netns_ops import PyrouteNamespaces
from vfnet.client import Client
from vfnet.lab.hostspec import HostSpec
from vfnet.lab.processes import installed_command
from vfnet.lab.server import LabServer
from vfnet.lab.sysfs import generate_host
from vfnet.network.vf_settings import RESET

VLAN = 100
CIDR = "10.88.0.0/24"
PREFIX = 24
STARTUP = 60.0  # seconds the agent gets to build its switch and report its VFs

Json = dict[str, Any]


@dataclass
class Site:
    """The host, its agent's log, the network, and the instances made on it."""

    admin: Client
    url: str
    token: str  # the admin's
    host: str
    physnet: str
    network: Json
    config: Path
    agent_log: Path
    vfs: dict[str, tuple[str, ...]]  # PF netdev -> its VF netdevs at home, by VF index
    agent_pid: int
    instances: list[str] = field(default_factory=list)

    @property
    def switch_ns(self) -> str:
        return host_netns(self.host)

    def port(self) -> Json:
        """A fresh direct port on the network (the user's own, made before the instance)."""
        return self.admin.create_port(
            {"network_id": self.network["id"], "binding:vnic_type": "direct"}
        )

    def container(self, client: Client, port_id: str) -> Json:
        """A container instance with ``port_id``, through ``client``; remembered for cleanup."""
        made = client.create_instance(
            {"name": f"c-{uuid.uuid4().hex[:8]}", "kind": "container", "ports": [port_id]}
        )
        self.instances.append(made["id"])
        if made["host"] != self.host:
            raise SystemExit(f"instance placed on {made['host']}, not on {self.host}")
        return made

    def vf_count(self) -> int:
        return sum(len(names) for names in self.vfs.values())

    def wait_agent_idle(self, quiet: float = 0.3, patience: float = 30.0) -> None:
        """Until the agent used no CPU for ``quiet`` seconds: back in its long poll, so
        the next change finds it waiting, as on a quiet host."""
        deadline = time.monotonic() + patience
        before = _cpu_ticks(self.agent_pid)
        while time.monotonic() < deadline:
            time.sleep(quiet)
            now = _cpu_ticks(self.agent_pid)
            if now == before:
                return
            before = now
        raise SystemExit(f"vfnet-agent still busy after {patience:g}s")


def _cpu_ticks(pid: int) -> int:
    """User and system clock ticks used so far by process ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _agent_argv(config: Path, url: str, token: str, interval: float) -> list[str]:
    return [
        installed_command("vfnet-agent"), "--config", str(config), "--server", url,
        "--token", token, "--driver", "eswitch", "--interval", str(interval),
    ]  # fmt: skip


def _write_config(path: Path, host: str, root: Path, physnet: str, pfs: list[str]) -> None:
    mappings = ",".join(f"{physnet}:{pf}" for pf in pfs)
    path.write_text(
        f'[host]\nname = "{host}"\nsysfs_root = "{root}"\n\n'
        f'[sriov_nic]\nphysical_device_mappings = "{mappings}"\n'
    )


def _wait_for_vfs(admin: Client, host: str, count: int, agent: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP
    while time.monotonic() < deadline:
        if agent.poll() is not None:
            raise SystemExit("vfnet-agent exited at start; see its log")
        with suppress(Exception):  # the host is not registered until the agent's first pass
            if len(admin.list_devices(host=host, dev_type="type-VF", state="available")) == count:
                return
        time.sleep(0.2)
    raise SystemExit(f"host {host} did not report {count} available VFs within {STARTUP:g}s")


@contextmanager
def site(folder: Path, *, pfs: int, vfs: int, interval: float) -> Iterator[Site]:
    """The site in ``folder``, ready: every VF reported available, the network made."""
    lab = LabServer(folder)
    admin_token = lab.admin_token()
    with lab, Client(lab.url, admin_token) as admin:
        host = f"bench-{uuid.uuid4().hex[:8]}"
        physnet = f"p{uuid.uuid4().hex[:6]}"
        devices = generate_host(HostSpec(nic="x710", pfs=pfs, vfs=vfs), folder / "sys")
        names = {
            pf.ifname or "": tuple(vf.ifname or "" for vf in devices.vfs_of(pf.address))
            for pf in devices.pfs()
        }
        config = folder / "host.toml"
        _write_config(config, host, (folder / "sys").resolve(), physnet, sorted(names))
        token = admin.create_token("agent", host=host, name=host)["token"]
        log_path = folder / "agent.log"
        with log_path.open("wb") as log:
            agent = subprocess.Popen(
                _agent_argv(config, lab.url, token, interval), stdout=log, stderr=subprocess.STDOUT
            )
        made = Site(
            admin, lab.url, admin_token, host, physnet, {}, config, log_path, names, agent.pid
        )
        try:
            _wait_for_vfs(admin, host, made.vf_count(), agent)
            made.network = admin.create_network(
                {"name": host, "shared": True, "provider:network_type": "vlan",
                 "provider:physical_network": physnet, "provider:segmentation_id": VLAN}
            )  # fmt: skip
            admin.create_subnet({"network_id": made.network["id"], "cidr": CIDR})
            yield made
        finally:
            _clean(made, agent)


def _clean(made: Site, agent: subprocess.Popen[bytes]) -> None:
    agent.terminate()
    try:
        agent.wait(timeout=15)
    except subprocess.TimeoutExpired:
        agent.kill()
        agent.wait()
    for instance in made.instances:
        subprocess.run(["ip", "netns", "del", f"vfnet-c-{instance}"], capture_output=True)
    teardown = [installed_command("vfnet-agent"), "--config", str(made.config), "--teardown"]
    subprocess.run(teardown, capture_output=True, timeout=120, check=False)


def netns_list() -> set[str]:
    done = subprocess.run(["ip", "-j", "netns", "list"], capture_output=True, text=True)
    return {ns["name"] for ns in json.loads(done.stdout or "[]")}


def verify_all_back(made: Site) -> Json:
    """Every VF free on the server, at reset in the switch, home by its own name with no
    alias left, and no namespace of our instances left: what each check found."""
    devices = [d for d in made.admin.list_devices(host=made.host) if d["dev_type"] == "type-VF"]
    not_free = sorted(d["address"] for d in devices if d["state"] != "available")
    driver = EswitchDriver(HostSwitch(made.host, ()))
    try:
        dirty = [
            f"{pf} vf {vf}"
            for pf in made.vfs
            for vf, settings in driver.read(pf).items()
            if settings != RESET
        ]
    finally:
        driver.close()
    ops = PyrouteNamespaces()
    try:
        home = {link.name: link for link in ops.links(made.switch_ns)}
    finally:
        ops.close()
    wanted = [name for names in made.vfs.values() for name in names]
    away = sorted(name for name in wanted if name not in home)
    aliased = sorted(name for name in wanted if name in home and home[name].alias)
    left = sorted({f"vfnet-c-{i}" for i in made.instances} & netns_list())
    return {
        "vfs": len(wanted), "not_available": not_free, "not_reset": dirty,
        "not_home": away, "alias_left": aliased, "namespaces_left": left,
        "ok": len(devices) == len(wanted) and not (not_free or dirty or away or aliased or left),
    }  # fmt: skip


def loadavg() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]

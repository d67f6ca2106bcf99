"""The running lab as the demo sees it: the server through an admin client, each host's VF
tables through its agent's ``--show-vfs``, containers through their namespaces.

Everything the demo makes is named here (``made``), so the release step can delete all
of it, and waits say what they wait for every few seconds.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from vfnet.client import Client
from vfnet.errors import VfnetError
from vfnet.lab.demo_outcome import Reporter
from vfnet.lab.processes import installed_command
from vfnet.lab.state import CONTAINER_PREFIX, HostRecord, LabState

Json = dict[str, Any]
T = TypeVar("T")

WAIT_SECONDS = 60.0
PROGRESS_EVERY = 5.0
POLL = 0.2
_VF_LINE = re.compile(r"^\s+vf (\d+) ")


@dataclass(frozen=True, slots=True)
class VfTables:
    """What ``vfnet-agent --show-vfs`` printed, and its VF lines by PF address and index."""

    text: str

    def lines(self) -> dict[tuple[str, int], str]:
        found, pf = {}, ""
        for line in self.text.splitlines():
            if "parentbus pci parentdev" in line:
                pf = line.split()[-1]
            elif match := _VF_LINE.match(line):
                found[(pf, int(match.group(1)))] = line.strip()
        return found

    def line(self, pf: str, vf: int) -> str:
        return str(self.lines().get((pf, vf), ""))


@dataclass(frozen=True, slots=True)
class VfPlace:
    """Where a port's VF is: its host, its PF's PCI address and its index there."""

    host: str
    pf: str
    vf: int


@dataclass
class Made:
    """What the demo created, by name, in the order it must be deleted."""

    instances: dict[str, Json] = field(default_factory=dict)
    ports: dict[str, Json] = field(default_factory=dict)
    networks: dict[str, Json] = field(default_factory=dict)
    qos_policies: dict[str, Json] = field(default_factory=dict)
    flavors: list[str] = field(default_factory=list)


@dataclass
class DemoLab:
    state: LabState
    admin: Client
    out: Reporter
    made: Made = field(default_factory=Made)

    @property
    def packets(self) -> bool:
        """Whether real packets flow: only through the eswitch's software switches."""
        return self.state.driver == "eswitch"

    def host(self, name: str) -> HostRecord:
        return next(h for h in self.state.hosts if h.name == name)

    def wait(
        self, what: str, probe: Callable[[], T | None], seconds: float = WAIT_SECONDS
    ) -> T | None:
        """``probe``'s first answer that is not None, or None after ``seconds``; a
        progress line every few seconds meanwhile."""
        started = said = time.monotonic()
        while True:
            found = probe()
            now = time.monotonic()
            if found is not None or now - started > seconds:
                return found
            if now - said > PROGRESS_EVERY:
                self.out.line(f"  ... still waiting for {what} ({now - started:.0f} s)")
                said = now
            time.sleep(POLL)

    # -- the server ---------------------------------------------------------------------
    def network(self, name: str, kind: str, physnet: str, cidr: str, **extra: Any) -> Json:
        body = {
            "name": name,
            "provider:network_type": kind,
            "provider:physical_network": physnet,
            **extra,
        }
        made = self.admin.create_network(body)
        self.made.networks[name] = made
        if cidr:
            self.admin.create_subnet({"network_id": made["id"], "name": f"{name}-v4", "cidr": cidr})
        return made

    def port(self, name: str, network: str, **fields: Any) -> Json:
        body = {"name": name, "network_id": self.made.networks[network]["id"], **fields}
        made = self.admin.create_port({"binding:vnic_type": "direct", **body})
        self.made.ports[name] = made
        return made

    def instance(self, name: str, kind: str, ports: Sequence[str], **fields: Any) -> Json:
        body = {
            "name": name,
            "kind": kind,
            "ports": [self.made.ports[p]["id"] for p in ports],
            **fields,
        }
        made = self.admin.create_instance(body)
        self.made.instances[name] = made
        return made

    def wait_active(self, names: Sequence[str]) -> dict[str, Json]:
        """Each instance as it ended: ACTIVE, ERROR, or still BUILD after the wait."""
        ids = {name: self.made.instances[name]["id"] for name in names}
        seen: dict[str, Json] = {}

        def settled() -> bool | None:
            for name, id_ in ids.items():
                if seen.get(name, {}).get("state") not in ("ACTIVE", "ERROR"):
                    seen[name] = self.admin.get_instance(id_)
            done = all(seen[n]["state"] in ("ACTIVE", "ERROR") for n in names)
            return True if done else None

        self.wait(f"{', '.join(names)} to go ACTIVE", settled)
        self.made.instances.update(seen)
        return seen

    def vf_of(self, port: str) -> VfPlace | None:
        """Where the port's VF is now, as the server has it (None: not bound)."""
        found = self.admin.get_port(self.made.ports[port]["id"])
        host, slot = found.get("binding:host_id"), found.get("binding:profile", {}).get("pci_slot")
        if not host or not slot:
            return None
        device = next(d for d in self.admin.list_devices(host=host) if d["address"] == slot)
        return VfPlace(host, device["parent_addr"], device["vf_index"])

    # -- the hosts ----------------------------------------------------------------------
    def vf_tables(self, host: str, pfs: Sequence[str] = ()) -> VfTables:
        """The host's VF tables as its agent's driver reads them (``--show-vfs``)."""
        argv = ["--show-vfs", "--driver", self.state.driver]
        for pf in pfs:
            argv += ["--pf", pf]
        return VfTables(self._agent(host, argv))

    def vm_devices(self, host: str) -> str:
        """The devices of the domains the host's agent defines for its VMs (``--show-vms``)."""
        return self._agent(host, ["--show-vms"])

    def _agent(self, host: str, argv: list[str]) -> str:
        record = self.host(host)
        command = [installed_command("vfnet-agent"), *argv, "--config", record.config,
                   "--server", self.state.url, "--token-file", record.token_file]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            raise VfnetError(f"vfnet-agent {argv[0]} on {host}: {done.stderr.strip()}")
        return done.stdout

    def agent_log(self, host: str) -> str:
        return Path(self.host(host).log).read_text(errors="replace")

    def netns(self, instance: str) -> str:
        return f"{CONTAINER_PREFIX}{self.made.instances[instance]['id']}"

    def ping(self, instance: str, address: str, count: int = 1) -> bool:
        """Whether the container reaches ``address`` (every request answered)."""
        argv = [
            "ip",
            "netns",
            "exec",
            self.netns(instance),
            "ping",
            "-n",
            "-q",
            "-c",
            str(count),
            "-i",
            "0.2",
            "-W",
            "1",
            address,
        ]
        return subprocess.run(argv, capture_output=True, check=False, timeout=30).returncode == 0

    def rx_packets(self, instance: str, ifname: str = "eth0") -> int:
        argv = ["ip", "-n", self.netns(instance), "-s", "-j", "link", "show", "dev", ifname]
        done = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=30)
        return int(json.loads(done.stdout)[0]["stats64"]["rx"]["packets"])


def first_ip(port: Json) -> str:
    return str(port["fixed_ips"][0]["ip_address"]) if port["fixed_ips"] else ""

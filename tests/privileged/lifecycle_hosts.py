"""Emulated hosts with looping eswitch agents on one real vfnet-server, as an operator runs them.

Each host is generated under a name of its own with two X710 PFs, its config written
as an operator writes it (``[sriov_nic]`` mappings, ``[num_vfs]``, ``[bridges]``), and a
``vfnet-agent --driver eswitch`` looping on it. Every host shares the machine's fabric,
so hosts given one physnet are joined on it, as two servers cabled to one switch are.
What a user of a container sees is read with ``ip`` in its namespace, ``vfnet-c-<id>``.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.functional.agent.processes import PATIENCE, Host, Running, agent_command, make_host
from vfnet.agent.drivers.eswitch_names import bridge, representor
from vfnet.client import Client
from vfnet.lab.server import LabServer

PFS = ("ens1f0", "ens1f1")
ZERO_MAC = "00:00:00:00:00:00"


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=check)


def ip_json(*argv: str) -> list[dict[str, Any]]:
    done = sh("ip", "-j", *argv, check=False)
    return json.loads(done.stdout or "[]") if done.returncode == 0 else []


def netns(instance: Mapping[str, Any]) -> str:
    return f"vfnet-c-{instance['id']}"


def interface(instance: Mapping[str, Any], ifname: str) -> dict[str, Any] | None:
    """``ifname`` in the instance's namespace as ``ip -d -j addr`` shows it, or None."""
    shown = ip_json("-n", netns(instance), "-d", "addr", "show", "dev", ifname)
    return shown[0] if shown else None


def inet(shown: Mapping[str, Any] | None) -> list[str]:
    """The IPv4 addresses of an interface shown by :func:`interface`, as ``a.b.c.d/len``."""
    if shown is None:
        return []
    return [f"{a['local']}/{a['prefixlen']}" for a in shown["addr_info"] if a["family"] == "inet"]


def ip_of(port: Mapping[str, Any]) -> str:
    return str(port["fixed_ips"][0]["ip_address"])


def addressed(instance: Mapping[str, Any], ifname: str, port: Mapping[str, Any]) -> bool:
    """Whether ``ifname`` in the instance is there with the port's IPv4 address, and only it."""
    return [cidr.partition("/")[0] for cidr in inet(interface(instance, ifname))] == [ip_of(port)]


def pings(instance: Mapping[str, Any], address: str, *via: str) -> bool:
    """Whether the instance reaches ``address`` (out of interface ``via`` when given)."""
    device = ["-I", via[0]] if via else []
    argv = ["ip", "netns", "exec", netns(instance), "ping", "-c", "1", "-W", "1", *device, address]
    return subprocess.run(argv, capture_output=True, check=False).returncode == 0


@dataclass
class Station:
    """One emulated host: its generated sysfs and config, and its looping agent."""

    host: Host
    agent: Running
    mappings: Mapping[str, str]  # PF -> physnet

    @property
    def name(self) -> str:
        return self.host.name

    @property
    def switch_ns(self) -> str:
        return f"vfnet-{self.host.name}"

    def vf_netdev(self, slot: str) -> str:
        """The VF's netdev name at home, as the host's sysfs names it."""
        [name] = os.listdir(self.host.device_dir(slot) / "net")
        return name

    def pf_of(self, slot: str) -> str:
        """The PF netdev a VF belongs to, by its ``physfn`` link in sysfs."""
        [name] = os.listdir(self.host.device_dir(slot) / "physfn" / "net")
        return name

    def vf_index(self, slot: str) -> int:
        """The VF's number on its PF, from the PF's ``virtfnN`` link to it in sysfs."""
        pf_dir = self.host.device_dir(slot) / "physfn"
        [link] = [x for x in pf_dir.iterdir() if x.name.startswith("virtfn") and x.resolve()
                  == self.host.device_dir(slot)]  # fmt: skip
        return int(link.name.removeprefix("virtfn"))

    def at_home(self, slot: str) -> dict[str, Any] | None:
        """The VF's netdev in the switch's namespace under its own name, or None."""
        shown = ip_json("-n", self.switch_ns, "link", "show", "dev", self.vf_netdev(slot))
        return shown[0] if shown else None

    def state(self, slot: str) -> str:
        return str(self.host.devices()[slot]["state"])

    def busy(self, slot: str) -> bool:
        """Whether the server holds the VF for an owner (claimed, or allocated once built)."""
        return self.state(slot) in ("claimed", "allocated")

    def home_and_reset(self, slot: str) -> bool:
        """The VF's netdev back in its switch's namespace under its own name with no alias
        of ours left, its representor on the untagged segment, its MAC zero."""
        home = self.at_home(slot)
        if home is None or "ifalias" in home:
            return False
        rep = representor(self.pf_of(slot), self.vf_index(slot))
        [shown] = ip_json("-n", self.switch_ns, "link", "show", "dev", rep)
        untagged = shown.get("master") == bridge(self.mappings[self.pf_of(slot)], 0)
        return untagged and f"link/ether {ZERO_MAC}" in self.vf_line(slot)

    def vf_line(self, slot: str) -> str:
        """The VF's line in ``vfnet-agent --show-vfs`` for its PF, as an operator reads it."""
        command = [*agent_command(), "--config", str(self.host.config), "--driver", "eswitch",
                   "--show-vfs", "--pf", self.pf_of(slot)]  # fmt: skip
        shown = [line.strip() for line in sh(*command).stdout.splitlines()]
        return next(line for line in shown if line.startswith(f"vf {self.vf_index(slot)} "))


def write_config(
    host: Host, mappings: Mapping[str, str], num_vfs: Mapping[str, int], bridges: Mapping[str, str]
) -> None:
    """The host's config file: PF -> physnet mappings, VFs per PF, physnet -> bridge."""
    pairs = ",".join(f"{physnet}:{pf}" for pf, physnet in mappings.items())
    lines = [
        "[host]", f'name = "{host.name}"', f'sysfs_root = "{host.root}"', "",
        "[sriov_nic]", f'physical_device_mappings = "{pairs}"', "",
        "[num_vfs]", *(f'"{pf}" = {n}' for pf, n in num_vfs.items()), "",
    ]  # fmt: skip
    if bridges:
        lines += ["[bridges]", *(f'"{physnet}" = "{br}"' for physnet, br in bridges.items())]
    staged = host.config.with_suffix(".new")
    staged.write_text("\n".join(lines) + "\n")
    os.replace(staged, host.config)


@dataclass
class Lab:
    """The hosts, networks and container instances of one test, and their removal."""

    server: LabServer
    admin: Client
    where: Path
    stations: list[Station] = field(default_factory=list)
    instances: list[str] = field(default_factory=list)

    def station(
        self,
        mappings: Mapping[str, str],
        num_vfs: Mapping[str, int],
        bridges: Mapping[str, str] | None = None,
    ) -> Station:
        """A host whose agent runs and has reported every VF it was asked for."""
        place = self.where / f"host{len(self.stations)}"
        place.mkdir()
        host = make_host(self.server, self.admin, place, prefix="lc")
        write_config(host, mappings, num_vfs, bridges or {})
        made = Station(host, Running(host, place / "agent.log", driver="eswitch"), mappings)
        self.stations.append(made)
        self.until(lambda: len(host.devices()) == sum(num_vfs.values()))
        return made

    def network(self, physnet: str, cidr: str, vlan: int | None = None) -> dict[str, Any]:
        """A shared network with one subnet: VLAN ``vlan`` on the physnet, or flat."""
        segment: dict[str, Any] = {"provider:network_type": "flat"}
        if vlan is not None:
            segment = {"provider:network_type": "vlan", "provider:segmentation_id": vlan}
        made = self.admin.create_network(
            {"name": f"n-{uuid.uuid4().hex[:6]}", "shared": True,
             "provider:physical_network": physnet, **segment}
        )  # fmt: skip
        self.admin.create_subnet({"network_id": made["id"], "cidr": cidr})
        return made

    def port(self, network: Mapping[str, Any]) -> dict[str, Any]:
        return self.admin.create_port({"network_id": network["id"], "binding:vnic_type": "direct"})

    def container(self, on: Station | None = None, **body: Any) -> dict[str, Any]:
        """A container instance (``ports``, ``networks``, ``ha_groups``...), on ``on`` when
        named; it must be placed there."""
        request = {"name": f"c-{uuid.uuid4().hex[:6]}", "kind": "container", **body}
        if on is not None:
            request["host"] = on.name
        made = self.admin.create_instance(request)
        assert made["state"] in ("BUILD", "ACTIVE"), made  # ACTIVE at once: normal ports only
        self.instances.append(made["id"])
        assert on is None or made["host"] == on.name, made
        return made

    def instance(self, made: Mapping[str, Any]) -> dict[str, Any]:
        return self.admin.get_instance(made["id"])

    def ports(self, made: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The instance's ports in interface order, as the API shows them now."""
        return [self.admin.get_port(p["id"]) for p in self.instance(made)["ports"]]

    def active(self, *made: Mapping[str, Any]) -> None:
        """Waits until every instance given is ACTIVE."""
        self.until(lambda: all(self.instance(m)["state"] == "ACTIVE" for m in made))

    def migrate(self, made: Mapping[str, Any], to: Station) -> dict[str, Any]:
        """A live migration to ``to``: the instance as the server answers when it is over."""
        try:
            return self.admin.migrate_instance(made["id"], host=to.name, live=True, wait=PATIENCE)
        except httpx.TimeoutException:
            pytest.fail(f"the migration did not end within {PATIENCE:g}s\n{self.logs()}")

    def until(self, check: Callable[[], bool]) -> None:
        """Waits (bounded) for what ``check`` looks at; fails with every agent's log."""
        deadline = time.monotonic() + PATIENCE
        while not check():
            if time.monotonic() > deadline:
                pytest.fail(f"not seen within {PATIENCE:g}s\n{self.logs()}")
            time.sleep(0.1)

    def logs(self) -> str:
        return "\n".join(f"--- agent of {s.name}:\n{s.agent.log()}" for s in self.stations)

    def close(self) -> list[str]:
        """Stops the agents and removes what they built; the logs of agents that did not
        stop cleanly."""
        codes = [(s, s.agent.stop()) for s in self.stations]
        failed = [f"agent of {s.name} exited {code}:\n{s.agent.log()}" for s, code in codes if code]
        for instance in self.instances:
            sh("ip", "netns", "del", f"vfnet-c-{instance}", check=False)
        for station in self.stations:
            command = [*agent_command(), "--config", str(station.host.config), "--teardown"]
            subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        return failed

"""``lab.json``: everything a running lab made, written before it is made.

``vfnet lab down`` works from this file alone, so it can clean up after ``up`` crashed
half way, after ``kill -9`` of every lab process, or after a reboot: a namespace or
file named here may or may not exist yet, a process may or may not still run.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from vfnet.errors import ConfigError
from vfnet.lab.processes import ProcessRecord, is_running

STATE_FILE = "lab.json"
VERSION = 1

# The agent's names for an emulated host's switch namespace (vfnet.agent.drivers.
# eswitch_names) and a vfnet container's namespace (vfnet.agent.attach.own): the lab
# removes them but cannot import the agent.
NETNS_PREFIX = "vfnet-"
CONTAINER_PREFIX = "vfnet-c-"


def host_netns(host: str) -> str:
    return f"{NETNS_PREFIX}{host}"


@dataclass(frozen=True, slots=True)
class HostRecord:
    """One emulated host: its config, its agent's token file, log and process."""

    name: str
    config: str
    token_file: str
    log: str
    agent: ProcessRecord | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "config": self.config, "token_file": self.token_file,
                "log": self.log, "agent": self.agent.to_json() if self.agent else None}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HostRecord:
        agent = ProcessRecord.from_json(data["agent"]) if data.get("agent") else None
        return cls(data["name"], data["config"], data["token_file"], data["log"], agent)


@dataclass(frozen=True, slots=True)
class LabState:
    """A lab: its folder, server, hosts, driver, and every path and namespace it made.

    ``namespaces`` are the switch namespaces the agents build (eswitch only); the fabric
    namespace their uplinks meet in is shared by every emulated host on the machine, and
    the agent's teardown removes it with the last host using it. ``files`` are relative
    to ``dir``. ``containers`` are
    the namespaces of the lab's container instances, written down by ``down`` before it
    stops the server that knows them, so a ``down`` cut short can finish without it.
    """

    dir: str
    driver: str
    url: str
    database_url: str
    admin_token_file: str
    server_log: str
    made_dir: bool
    hosts: tuple[HostRecord, ...]
    namespaces: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    server: ProcessRecord | None = None
    containers: tuple[str, ...] = ()

    @property
    def processes(self) -> list[ProcessRecord]:
        """Agents first, the server last: the order they are stopped in."""
        found = [host.agent for host in self.hosts if host.agent is not None]
        return found + ([self.server] if self.server is not None else [])

    def healthy(self) -> bool:
        """The server and every agent run: the lab is up as ``up`` left it."""
        return (
            self.server is not None
            and all(host.agent is not None for host in self.hosts)
            and all(is_running(p) for p in self.processes)
        )

    def with_server(self, server: ProcessRecord) -> LabState:
        return replace(self, server=server)

    def with_agent(self, name: str, agent: ProcessRecord) -> LabState:
        hosts = tuple(replace(h, agent=agent) if h.name == name else h for h in self.hosts)
        return replace(self, hosts=hosts)

    def with_containers(self, containers: tuple[str, ...]) -> LabState:
        return replace(self, containers=tuple(sorted(set(self.containers) | set(containers))))

    def to_json(self) -> str:
        data = {
            "version": VERSION, "dir": self.dir, "driver": self.driver, "url": self.url,
            "database_url": self.database_url, "admin_token_file": self.admin_token_file,
            "server_log": self.server_log, "made_dir": self.made_dir,
            "hosts": [host.to_json() for host in self.hosts],
            "namespaces": list(self.namespaces),
            "files": list(self.files), "containers": list(self.containers),
            "server": self.server.to_json() if self.server else None,
        }  # fmt: skip
        return json.dumps(data, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str = STATE_FILE) -> LabState:
        try:
            data = json.loads(text)
            if data.get("version") != VERSION:
                raise ConfigError(source, "version", f"{data.get('version')!r}, not {VERSION}")
            return cls(
                dir=data["dir"], driver=data["driver"], url=data["url"],
                database_url=data["database_url"], admin_token_file=data["admin_token_file"],
                server_log=data["server_log"], made_dir=bool(data["made_dir"]),
                hosts=tuple(HostRecord.from_json(h) for h in data["hosts"]),
                namespaces=tuple(data["namespaces"]),
                files=tuple(data["files"]), containers=tuple(data.get("containers", ())),
                server=ProcessRecord.from_json(data["server"]) if data["server"] else None,
            )  # fmt: skip
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise ConfigError(source, None, f"not a lab state file ({error!r})") from None


def state_path(lab_dir: Path) -> Path:
    return lab_dir / STATE_FILE


def save(state: LabState, lab_dir: Path) -> None:
    """Written aside and renamed, so a crash never leaves half a file for ``down``."""
    path = state_path(lab_dir)
    staged = path.with_suffix(".json.new")
    staged.write_text(state.to_json())
    os.replace(staged, path)


def load(lab_dir: Path) -> LabState | None:
    """The lab recorded in ``lab_dir``, or None when there is none."""
    path = state_path(lab_dir)
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    return LabState.from_json(text, str(path))

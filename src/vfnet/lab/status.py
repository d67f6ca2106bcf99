"""``vfnet lab status``: is each of the lab's processes alive, and what each host reported."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from vfnet.client import Client
from vfnet.errors import VfnetError
from vfnet.lab.namespaces import netns_exists
from vfnet.lab.processes import is_running
from vfnet.lab.state import LabState, host_netns, load

Json = dict[str, Any]


def lab_status(lab_dir: Path) -> Json:
    """The lab as it is now; raises when ``lab_dir`` holds no lab.

    Devices come from the server when it answers; a host it does not know yet, or a
    server that is down, shows None rather than a guess.
    """
    state = load(lab_dir)
    if state is None:
        raise VfnetError(f"no lab in {lab_dir} (start one: vfnet lab up --dir {lab_dir})")
    server_alive = state.server is not None and is_running(state.server)
    reported = _reported(state) if server_alive else {}
    hosts = []
    for host in state.hosts:
        netns = host_netns(host.name) if state.driver == "eswitch" else None
        hosts.append(
            {
                "host": host.name,
                "agent_pid": host.agent.pid if host.agent else None,
                "alive": host.agent is not None and is_running(host.agent),
                "driver": state.driver,
                "devices": reported.get(host.name),
                "netns": netns,
                "netns_exists": netns_exists(netns) if netns else None,
                "log": host.log,
            }
        )
    return {
        "dir": state.dir,
        "url": state.url,
        "server_pid": state.server.pid if state.server else None,
        "server_alive": server_alive,
        "admin_token_file": state.admin_token_file,
        "driver": state.driver,
        "healthy": state.healthy(),
        "hosts": hosts,
    }


def _reported(state: LabState) -> dict[str, int]:
    """Devices per host as the server lists them; empty when it cannot be asked."""
    try:
        token = Path(state.admin_token_file).read_text().strip()
        with Client(state.url, token, timeout=10) as admin:
            return {
                host["name"]: len(admin.list_devices(host=host["name"]))
                for host in admin.list_hosts()
                if host.get("reported_at")
            }
    except (OSError, VfnetError, httpx.HTTPError):
        return {}

"""``vfnet lab demo``: emulated hosts, a real server and real reports, walked step by step."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from vfnet.client import Client
from vfnet.client.reports import inventory_report
from vfnet.config import load_host_config
from vfnet.discovery.sysfs import SysfsReader
from vfnet.errors import NoValidHost
from vfnet.lab.hosts import LabHost, create_lab_hosts
from vfnet.lab.server import LabServer

HA_PORTS = (
    {"id": "port-a", "vnic_type": "direct", "physnet": "physnet1", "pf_group": "ha"},
    {"id": "port-b", "vnic_type": "direct", "physnet": "physnet1", "pf_group": "ha"},
)


class Reporter(Protocol):
    """Where the demo's words go: the CLI prints them."""

    def step(self, title: str, explanation: str) -> None: ...
    def host(self, host: LabHost) -> None: ...
    def table(self, rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None: ...
    def line(self, text: str) -> None: ...


@dataclass
class Outcome:
    """Every check the demo made, in order; the demo passed when all of them held."""

    checks: list[tuple[str, bool]] = field(default_factory=list)

    def check(self, what: str, held: bool) -> bool:
        self.checks.append((what, held))
        return held

    @property
    def passed(self) -> bool:
        return all(held for _, held in self.checks)


def run_demo(lab_dir: Path, out: Reporter) -> Outcome:
    lab_dir.mkdir(parents=True, exist_ok=True)
    outcome = Outcome()
    out.step(
        "1. Emulated hosts",
        "Each host is a generated sysfs tree, file for file what the kernel shows for the NIC "
        "model. Its host config selects VFs: host-1 with Nova [pci] device_spec entries, "
        "host-2 with Neutron physical_device_mappings and a device-plugin resourceList.",
    )
    hosts = create_lab_hosts(lab_dir)
    for host in hosts:
        out.host(host)
    server = LabServer(lab_dir)
    server.reset_database()
    with server:
        out.step(
            "2. Control plane", f"vfnet-server on {server.url}, SQLite at {server.database_url}."
        )
        with Client(server.url, server.admin_token()) as admin:
            _report_hosts(admin, server.url, hosts, out, outcome)
            before = _free_by_pool(admin)
            _place_ha_pair(admin, out, outcome)
            _refuse_unknown_physnet(admin, out, outcome)
            out.step("6. Release", "Deleting the placement frees its VFs and their PFs again.")
            admin.delete_placement("vm-1")
            outcome.check("every pool is back to its free count", _free_by_pool(admin) == before)
            _show_pools(admin, out)
    return outcome


def _report_hosts(
    admin: Client, url: str, hosts: Sequence[LabHost], out: Reporter, outcome: Outcome
) -> None:
    out.step(
        "3. Agents report inventory",
        "Each host's agent token may speak only for its own host. The report carries the "
        "selected devices with their tags; the server pools them as Nova does.",
    )
    for host in hosts:
        config = load_host_config(host.config_path)
        selected = config.select(SysfsReader(config.sysfs_root).read())
        physnets = sorted({s.physical_network for s in selected if s.physical_network})
        token = admin.create_token("agent", host=host.name, name=f"agent-{host.name}")["token"]
        with Client(url, token) as agent:
            agent.register_host(host.name, physnets=physnets)
            agent.report_inventory(host.name, 1, inventory_report(selected))
        out.line(f"{host.name}: reported {len(selected)} devices on {', '.join(physnets)}")
    reported = {device["host"] for device in admin.list_devices()}
    outcome.check("both hosts reported devices", reported == {h.name for h in hosts})
    _show_pools(admin, out)


def _place_ha_pair(admin: Client, out: Reporter, outcome: Outcome) -> None:
    out.step(
        "4. An HA pair of direct ports",
        "Two direct ports on physnet1 in one PF anti-affinity group: the scheduler must give "
        "them VFs of two different PFs, so the guest can bond them and survive a PF failure.",
    )
    placed = admin.create_placement("vm-1", ports=list(HA_PORTS))
    devices = {d["address"]: d for d in admin.list_devices(host=placed["host"])}
    rows = [
        {"request": d["request_id"], "vf": d["address"], "pf": devices[d["address"]]["parent_addr"]}
        for d in placed["devices"]
    ]
    out.line(f"vm-1 placed on {placed['host']}:")
    out.table(rows, ["request", "vf", "pf"])
    outcome.check("the HA pair got two VFs", len(rows) == 2)
    outcome.check("the HA pair's VFs sit on different PFs", len({r["pf"] for r in rows}) == 2)


def _refuse_unknown_physnet(admin: Client, out: Reporter, outcome: Outcome) -> None:
    out.step(
        "5. A request no host can serve",
        "A port on a physical network no host has is refused with the reason, not a "
        "'check the logs'.",
    )
    port = {"id": "port-c", "vnic_type": "direct", "physnet": "physnet9"}
    try:
        admin.create_placement("vm-2", ports=[port])
    except NoValidHost as refused:
        out.line(f"refused: {refused}")
        outcome.check("an impossible request is refused with a reason", "physnet9" in str(refused))
    else:
        outcome.check("an impossible request is refused with a reason", False)


def _free_by_pool(admin: Client) -> dict[tuple[str, str | None], int]:
    return {(p["host"], p["parent_addr"]): p["free"] for p in admin.list_pools()}


def _show_pools(admin: Client, out: Reporter) -> None:
    rows = [{**pool, "resource": pool["tags"].get("resource_name")} for pool in admin.list_pools()]
    out.table(rows, ["host", "dev_type", "physnet", "parent_addr", "resource", "free", "total"])

"""``vfnet lab``: the whole system on emulated hosts, without SR-IOV hardware."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import click

from vfnet.cli.arguments import examples
from vfnet.cli.output import Column, render_json, render_table
from vfnet.errors import VfnetError
from vfnet.lab.demo import DEFAULT_DIR as DEMO_DIR
from vfnet.lab.demo import DemoOptions, run_demo
from vfnet.lab.down import lab_down
from vfnet.lab.nics import NIC_MODELS
from vfnet.lab.status import lab_status
from vfnet.lab.up import DEFAULT_DIR, UpOptions, lab_up, next_steps

WIDTH = 88


class PrintedReport:
    """The demo's words, printed as they come."""

    def step(self, title: str, explanation: str) -> None:
        click.echo("")
        click.secho(f"== {title}", bold=True)
        click.echo(textwrap.fill(explanation, WIDTH))

    def line(self, text: str) -> None:
        click.echo(text)

    def block(self, text: str) -> None:
        click.echo(textwrap.indent(text, "  "))


HOST_COLUMNS = (
    "host", Column("agent_pid", "AGENT PID"), "alive", "driver", "devices", "netns",
)  # fmt: skip


class Lines:
    """Progress of ``up`` and ``down``, one line each."""

    def line(self, text: str) -> None:
        click.echo(text)


@click.group(epilog=examples("vfnet lab up", "vfnet lab status", "vfnet lab down"))
def lab() -> None:
    """Run vfnet on emulated SR-IOV hosts: generated sysfs trees and a real server."""


def _dir_option(command: Any) -> Any:
    return click.option(
        "--dir", "lab_dir", type=click.Path(file_okay=False, path_type=Path),
        default=DEFAULT_DIR, show_default=True,
        help="The lab's folder: hosts, database, logs, tokens and lab.json.",
    )(command)  # fmt: skip


@lab.command(
    epilog=examples(
        "vfnet lab up",
        "vfnet lab up --hosts 3 --nic e810 --pfs 2 --vfs 8",
        "vfnet lab up --driver memory --dir /tmp/lab",
    )
)
@_dir_option
@click.option(
    "--hosts",
    type=click.IntRange(min=2),
    default=2,
    show_default=True,
    help="Emulated hosts, each with its own agent.",
)
@click.option(
    "--nic",
    type=click.Choice(sorted(NIC_MODELS)),
    help="NIC model of every host [default: host-1 x710, host-2 cx6dx, alternating].",
)
@click.option("--pfs", type=click.IntRange(min=1), help="PFs per host [default: 2].")
@click.option(
    "--vfs",
    type=click.IntRange(min=1),
    help="VFs per PF [default: 8 on host-1, 4 on host-2, alternating].",
)
@click.option(
    "--driver",
    type=click.Choice(["eswitch", "memory"]),
    help="How agents apply VF settings [default: eswitch as root, else memory].",
)
def up(
    lab_dir: Path, hosts: int, nic: str | None, pfs: int | None, vfs: int | None,
    driver: str | None,
) -> None:  # fmt: skip
    """Start a server and emulated hosts with their agents, in the background.

    Each host gets a generated sysfs tree and a host config (host-1 in Nova's
    device_spec syntax, host-2 in Neutron's and the device plugin's), its PFs on
    physnet1 or physnet2. As root each agent builds the host's software switch, and
    hosts' ports on one segment reach each other; otherwise agents use the memory driver.
    """
    options = UpOptions(lab_dir=lab_dir, hosts=hosts, nic=nic, pfs=pfs, vfs=vfs, driver=driver)
    state, started = lab_up(options, Lines())
    if started:
        click.echo("")
        for text in next_steps(state, lab_dir):
            click.echo(text)


@lab.command(epilog=examples("vfnet lab down", "vfnet lab down --dir /tmp/lab"))
@_dir_option
def down(lab_dir: Path) -> None:
    """Stop the lab and remove every process, namespace and file it made, nothing else.

    Works after a crash too (lab.json says what was made); running it again does nothing.
    """
    lab_down(lab_dir, Lines())


def _host_row(host: dict[str, Any]) -> dict[str, Any]:
    missing = host["netns"] and not host["netns_exists"]
    return {**host, "netns": f"{host['netns']} (missing)" if missing else host["netns"]}


@lab.command(epilog=examples("vfnet lab status", "vfnet lab status --json"))
@_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def status(lab_dir: Path, as_json: bool) -> None:
    """Show the server, each host's agent (pid, alive), driver and devices reported.

    Exits 1 when a process of the lab is not running.
    """
    found = lab_status(lab_dir)
    if as_json:
        click.echo(render_json(found))
    else:
        server = "running" if found["server_alive"] else "NOT RUNNING"
        click.echo(f"server {found['url']} (pid {found['server_pid']}): {server}")
        click.echo(f"admin token: {found['admin_token_file']}")
        click.echo(render_table([_host_row(h) for h in found["hosts"]], HOST_COLUMNS))
    if not found["healthy"]:
        raise VfnetError(f"the lab in {lab_dir} is not healthy: vfnet lab down, then up")


@lab.command(epilog=examples("vfnet lab demo", "vfnet lab demo --driver memory --dir /tmp/demo"))
@click.option("--dir", "lab_dir", type=click.Path(file_okay=False, path_type=Path),
              default=DEMO_DIR, show_default=True,
              help="The demo's own lab folder, made afresh and removed at the end.")  # fmt: skip
@click.option(
    "--driver",
    type=click.Choice(["eswitch", "memory"]),
    help="How agents apply VF settings [default: eswitch as root, else memory].",
)
def demo(lab_dir: Path, driver: str | None) -> None:
    """Walk the main flows on a lab of its own, explaining each step; exit 1 if any failed.

    Networks, ports, containers on two hosts pinging over their VFs, a VM, trust, QoS,
    mirroring, live migration and release, with the hosts' VF tables before and after.
    The lab is taken down at the end, also after a failure or Ctrl-C.
    """
    outcome = run_demo(DemoOptions(lab_dir=lab_dir, driver=driver), PrintedReport())
    click.echo("")
    click.secho("== Summary", bold=True)
    for text in outcome.summary():
        click.echo(text)
    if not outcome.passed:
        raise VfnetError("some checks failed; see above")

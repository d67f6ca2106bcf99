"""``vfnet lab``: the whole system on emulated hosts, without SR-IOV hardware."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from vfnet.cli.commands.hosts import inspection, render_inspection
from vfnet.cli.output import render_table
from vfnet.config import load_host_config
from vfnet.errors import VfnetError
from vfnet.inventory.pools import build_pools
from vfnet.lab.demo import run_demo
from vfnet.lab.hosts import LabHost

WIDTH = 88


class PrintedReport:
    """The demo's words, printed as they come."""

    def step(self, title: str, explanation: str) -> None:
        click.echo("")
        click.secho(f"== {title}", bold=True)
        click.echo(textwrap.fill(explanation, WIDTH))

    def host(self, host: LabHost) -> None:
        config = load_host_config(host.config_path)
        selected = config.select(host.devices)
        report = inspection(host.sysfs_root, config, host.devices, selected, build_pools(selected))
        click.echo("")
        click.secho(f"-- {host.name} ({host.config_path})", bold=True)
        click.echo(render_inspection(report))

    def table(self, rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
        click.echo(render_table(rows, columns))

    def line(self, text: str) -> None:
        click.echo(text)


@click.group(epilog="Example: vfnet lab demo --dir ./lab")
def lab() -> None:
    """Run vfnet on emulated SR-IOV hosts: generated sysfs trees and a real server."""


@lab.command(epilog="Example: vfnet lab demo --dir ./lab")
@click.option("--dir", "lab_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("lab"), show_default=True,
              help="Folder for the lab's hosts, database and server log.")  # fmt: skip
def demo(lab_dir: Path) -> None:
    """Walk the main flow on two emulated hosts, explaining each step; exit 1 if any failed."""
    outcome = run_demo(lab_dir, PrintedReport())
    click.echo("")
    click.secho("== Summary", bold=True)
    for what, held in outcome.checks:
        click.echo(f"  [{'ok' if held else 'FAILED'}] {what}")
    if not outcome.passed:
        raise VfnetError("some steps did not behave; see above")
    click.echo(f"All {len(outcome.checks)} checks held. The lab is in {lab_dir}/.")

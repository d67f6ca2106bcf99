"""``vfnet host``: hosts as the server tracks them, and what an admin overrides about them;
generating an emulated host's sysfs tree, and inspecting what a local one offers."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from vfnet.cli.arguments import examples, json_option
from vfnet.cli.commands.host_devices import render_server_view, server_view
from vfnet.cli.commands.host_sysfs import census, inspection, render_inspection
from vfnet.cli.connection import TOKEN_ENV, URL_ENV, api_command, connected
from vfnet.cli.failures import BadInput, CommandFailed
from vfnet.cli.output import echo_object, echo_rows, render_json
from vfnet.client import Client
from vfnet.config import load_host_config
from vfnet.discovery.sysfs import SysfsReader
from vfnet.errors import NotFound
from vfnet.inventory.pools import build_pools

log = logging.getLogger(__name__)

__all__ = ["census", "host", "inspection", "render_inspection"]

HOST_COLUMNS = ("name", "physnets", "manages_vfs", "reported_at", "problems", "refused")


@click.group(
    epilog=examples("vfnet host inspect compute-1", "vfnet host inspect --sysfs ./host-1/sys")
)
def host() -> None:
    """Hosts and their PCI devices: as the server tracks them, emulated, or read locally."""


def known_host(client: Client, name: str) -> dict[str, Any]:
    """The host ``name`` as the server has it; a name it does not know is one clear line."""
    try:
        return client.get_host(name)
    except NotFound:
        raise CommandFailed(
            f"host {name!r} is not known to the server at {client.base_url}"
        ) from None


@host.command("list", epilog=examples("vfnet host list", "vfnet host list --json"))
@json_option
@api_command
def list_(client: Client, as_json: bool) -> None:
    """List the hosts whose agents registered (admin)."""
    echo_rows(client.list_hosts(), HOST_COLUMNS, as_json, row=_host_row)


@host.command(epilog=examples("vfnet host show compute-1"))
@click.argument("name")
@json_option
@api_command
def show(client: Client, name: str, as_json: bool) -> None:
    """Show one host: physnets, bridges, problems, refused VF attributes per PF (admin)."""
    echo_object(known_host(client, name), as_json)


def _host_row(found: Mapping[str, Any]) -> dict[str, Any]:
    refused = found.get("refused") or {}
    return {**found, "refused": [f"{pf}: {','.join(attrs)}" for pf, attrs in refused.items()]}


@host.command(
    "forget-refused",
    epilog=examples(
        "vfnet host forget-refused compute-1 --pf 0000:3b:00.0",
        "vfnet host forget-refused compute-1",
    ),
)
@click.argument("name")
@click.option("--pf", metavar="ADDRESS", help="Only this PF [default: every PF of the host].")
@json_option
@api_command
def forget_refused(client: Client, name: str, pf: str | None, as_json: bool) -> None:
    """Forget the VF attributes a host's PFs refused (after new NIC firmware), so ports
    that need them may be placed there again (admin)."""
    known_host(client, name)
    after = client.forget_refused(name, pf)
    if as_json:
        click.echo(render_json(after))
        return
    left = after.get("refused") or {}
    still = "; ".join(f"{p} {', '.join(a)}" for p, a in left.items()) or "nothing"
    click.echo(f"host {name}: forgot what {pf or 'every PF'} refused; still refused: {still}")


@host.command(
    epilog=examples("vfnet host release compute-1 0000:3b:02.1 --force"),
)
@click.argument("name")
@click.argument("address")
@click.option("--force", is_flag=True,
              help="Free it without its agent's verified reset: only if that agent is dead "
                   "or cannot reset the VF.")  # fmt: skip
@json_option
@api_command
def release(client: Client, name: str, address: str, force: bool, as_json: bool) -> None:
    """Free a VF stuck releasing on a host whose agent cannot verify its reset (admin)."""
    if not force:
        raise BadInput(
            f"{address} is freed when the agent of {name} resets it and reports the reset "
            "verified; pass --force only if that agent is dead or cannot reset it "
            "(the VF may keep its last owner's settings)"
        )
    known_host(client, name)
    freed = client.release_device(name, address, force=True)
    if as_json:
        click.echo(render_json(freed))
    else:
        click.echo(f"host {name}: {freed['address']} is {freed['state']}, freed without its reset")


@host.command(
    epilog="Example: vfnet host generate --nic x710 --pfs 2 --vfs 8 --numa 2 --out ./host-1/sys"
)
@click.option("--nic", required=True, help="NIC model: 82576 (igb), x710 (i40e), e810, cx6dx...")
@click.option("--pfs", type=click.IntRange(min=1), required=True, help="Number of PFs.")
@click.option("--vfs", type=click.IntRange(min=0), required=True, help="VFs enabled per PF.")
@click.option("--numa", type=click.IntRange(min=1), default=1, show_default=True,
              help="NUMA nodes the PFs are spread over.")  # fmt: skip
@click.option("--vdpa", is_flag=True, help="Put a vhost-vdpa device on every VF.")
@click.option("--switchdev", is_flag=True, help="Switchdev mode: one representor per VF.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Directory that plays /sys for the emulated host.")  # fmt: skip
def generate(
    nic: str, pfs: int, vfs: int, numa: int, vdpa: bool, switchdev: bool, out: Path
) -> None:
    """Write the sysfs tree of an emulated host with SR-IOV NICs."""
    # The generator is only needed here; the other commands start without it.
    from vfnet.lab.sysfs import HostSpec, generate_host

    spec = HostSpec(nic=nic, pfs=pfs, vfs=vfs, numa_nodes=numa, vdpa=vdpa, switchdev=switchdev)
    devices = generate_host(spec, out)
    click.echo(f"wrote {out}")
    click.echo(f"{spec.model.name} ({spec.model.pf_driver}): {census(devices)}")


@host.command(
    epilog=examples(
        "vfnet host inspect compute-1",
        "vfnet host inspect compute-1 --json",
        "vfnet host inspect",
        "vfnet host inspect --sysfs ./host-1/sys --config host.toml --json",
    )
)
@click.argument("name", required=False)
@click.option("--sysfs", "sysfs_root", type=click.Path(file_okay=False, path_type=Path),
              help="sysfs root to read [default: the config's sysfs_root, else /sys]")  # fmt: skip
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Host config file (TOML) that selects, tags and pools devices.")  # fmt: skip
@click.option("--url", envvar=URL_ENV, show_envvar=True, metavar="URL",
              help="The vfnet server, for NAME.")  # fmt: skip
@click.option("--token", envvar=TOKEN_ENV, show_envvar=True, metavar="TOKEN",
              help="An API token, for NAME.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print JSON (stable keys) instead of text.")
def inspect(
    name: str | None,
    sysfs_root: Path | None,
    config_path: Path | None,
    url: str | None,
    token: str | None,
    as_json: bool,
) -> None:
    """Show a host's PFs and VFs: with NAME as the server tracks them (state, owner, port,
    refused attributes); without, as this machine's sysfs and config offer them."""
    if name is not None:
        if sysfs_root is not None or config_path is not None:
            raise click.UsageError("NAME asks the server; --sysfs and --config read locally")
        with connected(url, token) as client:
            view = server_view(
                known_host(client, name),
                client.list_host_devices(name),
                client.list_ports(host=name),
            )
        click.echo(render_json(view) if as_json else render_server_view(view))
        return
    config = load_host_config(config_path) if config_path is not None else None
    root = sysfs_root or (config.sysfs_root if config is not None else Path("/sys"))
    devices = SysfsReader(root).read()
    log.info("discovered %d PCI functions under %s", len(devices), root)
    selected = config.select(devices) if config is not None else []
    pools = build_pools(selected)
    log.info("selected %d devices into %d pools", len(selected), len(pools))
    report = inspection(root, config, devices, selected, pools)
    click.echo(render_json(report) if as_json else render_inspection(report))

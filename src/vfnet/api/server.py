"""The ``vfnet-server`` command: serve the API, and mint tokens against the database."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from vfnet.api.settings import ONE_MIB, ApiSettings
from vfnet.errors import ConfigError, VfnetError
from vfnet.network.macs import DEFAULT_BASE_MAC, MacBase
from vfnet.pci.alias import Alias, parse_aliases
from vfnet.store import Store

if TYPE_CHECKING:
    from fastapi import FastAPI

DEFAULT_PORT = 8775
# How ``serve`` hands the checked settings to its worker processes (uvicorn imports
# the app by name in each one).
WORKER_DATABASE_URL = "VFNET_SERVE_DATABASE_URL"
WORKER_CONFIG = "VFNET_SERVE_CONFIG"
_SECTIONS = {
    "server": ("max_body_bytes", "placement_attempts", "migration_timeout"),
    "pci": ("alias",),
    "network": ("base_mac",),
}


def load_settings(path: Path | None) -> ApiSettings:
    """Settings from a TOML file: ``[server]`` limits, ``[pci] alias`` (Nova's JSON entries)
    and ``[network] base_mac`` (Neutron's).

    Raises:
        ConfigError: the file is unreadable, not TOML, or has an unknown or bad entry.
    """
    if path is None:
        return ApiSettings()
    source = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(source, None, f"cannot read: {err.strerror}") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(source, None, f"not valid TOML: {err}") from None
    for section, table in data.items():
        known = _SECTIONS.get(section)
        if known is None or not isinstance(table, Mapping):
            raise ConfigError(source, section, f"unknown section; expected {sorted(_SECTIONS)}")
        for key in table:
            if key not in known:
                raise ConfigError(f"{source} [{section}]", key, f"unknown key; expected {known}")
    server = data.get("server", {})
    return ApiSettings(
        max_body_bytes=_positive(server, "max_body_bytes", ONE_MIB, source),
        aliases=_aliases(data.get("pci", {}).get("alias", [])),
        placement_attempts=_positive(server, "placement_attempts", 3, source),
        migration_timeout=_positive(server, "migration_timeout", 60, source),
        base_mac=_base_mac(data.get("network", {}).get("base_mac", DEFAULT_BASE_MAC), source),
    )


def _positive(table: Mapping[str, Any], key: str, default: int, source: str) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{source} [server]", key, f"must be a whole number >= 1, not {value!r}")
    return value


def _base_mac(value: Any, source: str) -> MacBase:
    entry = f"{source} [network]"
    if not isinstance(value, str):
        raise ConfigError(entry, "base_mac", f"must be a MAC, not {value!r}")
    try:
        return MacBase.parse(value)
    except ConfigError as err:
        raise ConfigError(entry, "base_mac", err.reason) from None


def _aliases(entries: Any) -> Mapping[str, Alias]:
    # Nova's option is multi-valued; one entry may also be given as a plain string.
    return parse_aliases([entries] if isinstance(entries, str) else list(entries))


@click.group()
def main() -> None:
    """The vfnet API server."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, help="Port to listen on.")
@click.option("--database-url", envvar="VFNET_DATABASE_URL", help="sqlite:/// or postgresql://")
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False), help="TOML file.")
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(min=1),
    help="Server processes sharing the port (each uses one core).",
)  # fmt: skip
@click.option(
    "--access-log/--no-access-log", default=True, show_default=True,
    help="Log one line per request.",
)  # fmt: skip
def serve(
    host: str,
    port: int,
    database_url: str | None,
    config: Path | None,
    workers: int,
    access_log: bool,
) -> None:
    """Serve the API (migrating the database to the current schema first)."""
    import uvicorn

    try:
        load_settings(config)
        Store.open(database_url).close()
    except VfnetError as err:
        raise click.ClickException(str(err)) from None
    # Each worker process builds its own app (and connection pool) from these; its
    # migration step then finds the schema at head and changes nothing.
    os.environ[WORKER_DATABASE_URL] = database_url or ""
    os.environ[WORKER_CONFIG] = "" if config is None else str(config)
    uvicorn.run(
        f"{__name__}:{worker_app.__name__}",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=access_log,
        log_level="info",
    )


def worker_app() -> FastAPI:
    """The app of one server process, from what ``serve`` checked and migrated."""
    from vfnet.api.app import create_app

    config = os.environ.get(WORKER_CONFIG) or None
    settings = load_settings(None if config is None else Path(config))
    store = Store.open(os.environ.get(WORKER_DATABASE_URL) or None)
    inline = store.engine.dialect.name == "sqlite"
    return create_app(store, replace(settings, inline_port_creation=inline))


@main.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@click.option("--role", type=click.Choice(["admin", "member", "agent"]), required=True)
@click.option("--project", help="The project a member token acts in.")
@click.option("--host", "host_name", help="The host an agent token acts for.")
@click.option("--name", help="A label to recognise the token by.")
@click.option("--database-url", envvar="VFNET_DATABASE_URL", help="sqlite:/// or postgresql://")
def create_token(
    role: str,
    project: str | None,
    host_name: str | None,
    name: str | None,
    database_url: str | None,
) -> None:
    """Create a token and print it: it is shown this once and stored only hashed."""
    label = name or f"{role}-{host_name or project or 'token'}"
    try:
        store = Store.open(database_url)
        try:
            plaintext, _ = store.create_token(role, project=project, host=host_name, name=label)
        finally:
            store.close()
    except VfnetError as err:
        raise click.ClickException(str(err)) from None
    click.echo(plaintext)

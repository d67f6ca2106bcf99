"""``vfnet-agent``: one per host; discovers, creates VFs, reports inventory and health."""

from __future__ import annotations

import importlib
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import NoReturn, cast

import click

from vfnet.agent.drivers.base import VfDriver
from vfnet.agent.loop import Agent, serve
from vfnet.agent.settings import DRIVERS, AgentSettings, agent_settings
from vfnet.client import Client
from vfnet.errors import ConfigError, ValidationError

log = logging.getLogger("vfnet.agent")

CONFIG_ERROR = 2
# --driver NAME -> the module and class that implement it.
DRIVER_CLASSES = {
    "memory": ("vfnet.agent.drivers.memory", "MemoryDriver"),
    "eswitch": ("vfnet.agent.drivers.eswitch", "EswitchDriver"),
    "netlink": ("vfnet.agent.drivers.netlink", "NetlinkDriver"),
}


def load_driver(name: str) -> VfDriver | None:
    """The VF driver called ``name``, or None (logged) when it cannot be made on this host.

    Discovery, VF creation and reports need no driver, so an agent without one still
    serves its host's inventory; only VF settings wait for it.
    """
    module_name, class_name = DRIVER_CLASSES[name]
    try:
        driver_class = getattr(importlib.import_module(module_name), class_name)
        return cast(VfDriver, driver_class())
    except (ImportError, AttributeError, TypeError, OSError) as error:
        log.warning("driver %s: unavailable (%s); VF settings are not applied", name, error)
        return None


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(path_type=Path),
    help="The host config file (TOML).",
)
@click.option("--server", envvar="VFNET_URL", help="The vfnet API, e.g. http://vfnet:8080.")
@click.option("--token", envvar="VFNET_AGENT_TOKEN", help="This host's agent token.")
@click.option(
    "--token-file", type=click.Path(path_type=Path), help="A file holding the token (first line)."
)
@click.option("--host", default=None, help="Host name [default: the config's, else hostname].")
@click.option(
    "--driver",
    type=click.Choice(DRIVERS),
    default="netlink",
    show_default=True,
    help="How VF settings are applied.",
)
@click.option(
    "--interval", type=float, default=10.0, show_default=True, help="Seconds between passes."
)
@click.option("--once", is_flag=True, help="One pass, then exit (1 if it found problems).")
@click.option("-v", "--verbose", is_flag=True, help="Log idle passes too.")
def main(
    config_path: Path,
    server: str | None,
    token: str | None,
    token_file: Path | None,
    host: str | None,
    driver: str,
    interval: float,
    once: bool,
    verbose: bool,
) -> None:
    """Discover this host's SR-IOV devices, create VFs and report them to the vfnet server."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # One line per request would drown the pipeline's own lines.
    logging.getLogger("httpx").setLevel(logging.DEBUG if verbose else logging.WARNING)
    try:
        settings = agent_settings(
            config_path=config_path, server_url=server, token=token, token_file=token_file,
            host=host, driver=driver, interval=interval, once=once,
        )  # fmt: skip
    except ValidationError as error:
        _fail(str(error))
    sys.exit(run(settings))


def run(settings: AgentSettings) -> int:
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        log.info("stopping on signal %d", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    with Client(settings.server_url, settings.token) as client:
        agent = Agent(settings, client)
        try:
            agent.start()
        except ConfigError as error:
            _fail(str(error))
        agent.driver = load_driver(settings.driver)
        return serve(agent, interval=settings.interval, once=settings.once, stop=stop.wait)


def _fail(message: str) -> NoReturn:
    click.echo(f"vfnet-agent: {message}", err=True)
    sys.exit(CONFIG_ERROR)


if __name__ == "__main__":
    main()

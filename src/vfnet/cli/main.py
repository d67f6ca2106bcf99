"""The ``vfnet`` command: the group, its resource commands, and how errors reach the user."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import click

from vfnet import __version__
from vfnet.cli.commands import COMMANDS
from vfnet.cli.failures import BadInput, CommandFailed
from vfnet.errors import ConfigError, InvalidPciAddress, ValidationError, VfnetError

_USAGE_ERRORS = (ConfigError, InvalidPciAddress, ValidationError)


class VfnetGroup(click.Group):
    """Turns domain errors and OS errors into one line and an exit code, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except _USAGE_ERRORS as error:
            raise BadInput(str(error)) from error
        except VfnetError as error:
            raise CommandFailed(str(error)) from error
        except OSError as error:
            where = f"{error.filename}: " if error.filename else ""
            raise CommandFailed(f"{where}{error.strerror or error}") from error


@click.group(
    cls=VfnetGroup,
    epilog="Example: vfnet host inspect --sysfs ./lab/host-1/sys --config host.toml",
)
@click.version_option(__version__, prog_name="vfnet")
@click.option("-v", "--verbose", is_flag=True, help="Log warnings and progress to stderr.")
def cli(verbose: bool) -> None:
    """vfnet: SR-IOV Virtual Functions for virtual machines and containers."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.ERROR,
        format="%(levelname)s %(name)s: %(message)s",
    )


for _command in COMMANDS:
    cli.add_command(_command)


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="vfnet")

"""The ``vfnet`` command: the group, its resource commands, and how errors reach the user."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from typing import Any

import click

from vfnet import __version__
from vfnet.cli.commands import COMMANDS
from vfnet.errors import ConfigError, InvalidPciAddress, ValidationError, VfnetError

# Exit codes: click's own for usage (2); the same for a bad config or value the user
# can fix by changing what they typed; 1 for everything that went wrong on the way.
EXIT_FAILURE = 1
EXIT_USAGE = 2
_USAGE_ERRORS = (ConfigError, InvalidPciAddress, ValidationError)


class CommandFailed(click.ClickException):
    """A domain error shown as one line on stderr."""

    exit_code = EXIT_FAILURE

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", file=file or sys.stderr)


class BadInput(CommandFailed):
    """A bad config file or value: the user fixes what they gave, as for a usage error."""

    exit_code = EXIT_USAGE


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

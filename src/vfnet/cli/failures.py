"""How a command fails in front of the user: one line on stderr and an exit code."""

from __future__ import annotations

import sys
from typing import Any

import click

# Exit codes: click's own for usage (2); the same for a bad config or value the user
# can fix by changing what they typed; 1 for everything that went wrong on the way.
EXIT_FAILURE = 1
EXIT_USAGE = 2


class CommandFailed(click.ClickException):
    """A domain error shown as one line on stderr."""

    exit_code = EXIT_FAILURE

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", file=file or sys.stderr)


class BadInput(CommandFailed):
    """A bad config file or value: the user fixes what they gave, as for a usage error."""

    exit_code = EXIT_USAGE

"""The CLI's resource commands, one module per resource (``host`` in ``hosts.py``)."""

from __future__ import annotations

import click

from vfnet.cli.commands.hosts import host

COMMANDS: tuple[click.Command, ...] = (host,)

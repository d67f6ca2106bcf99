"""The CLI's resource commands, one module per resource (``host`` in ``hosts.py``)."""

from __future__ import annotations

import click

from vfnet.cli.commands.hosts import host
from vfnet.cli.commands.lab import lab

COMMANDS: tuple[click.Command, ...] = (host, lab)

"""The CLI's resource commands, one module per resource (``host`` in ``hosts.py``)."""

from __future__ import annotations

import click

from vfnet.cli.commands.hosts import host
from vfnet.cli.commands.instances import instance
from vfnet.cli.commands.lab import lab
from vfnet.cli.commands.networks import network
from vfnet.cli.commands.ports import port
from vfnet.cli.commands.qos import qos
from vfnet.cli.commands.subnets import subnet

COMMANDS: tuple[click.Command, ...] = (host, lab, network, subnet, port, qos, instance)

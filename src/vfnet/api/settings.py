"""Settings of the API server, passed to ``create_app`` (never read from globals)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from vfnet.network.macs import MacBase
from vfnet.pci.alias import Alias

ONE_MIB = 1 << 20


@dataclass(frozen=True, slots=True)
class ApiSettings:
    #: Bodies larger than this are refused with 413 before parsing. 1 MiB holds an
    #: inventory report of several thousand VFs.
    max_body_bytes: int = ONE_MIB
    #: The server's PCI aliases by name (``vfnet.pci.alias.parse_aliases``), served by
    #: GET /v1/aliases and used to turn flavors into PCI requests.
    aliases: Mapping[str, Alias] = field(default_factory=dict)
    #: How many candidate hosts a placement tries when a claim loses a race
    #: (StaleGeneration) before giving up with 409.
    placement_attempts: int = 3
    #: The leading octets of generated port MACs (Neutron's ``base_mac``).
    base_mac: MacBase = field(default_factory=MacBase.parse)
    #: Create ports on the event loop's own thread instead of a worker thread. Right for
    #: SQLite (``vfnet-server serve`` sets it there): its writers run one at a time and
    #: commit without a round trip, so handing each to a thread and back costs more
    #: than the write. Wrong for a database across a socket, whose round trips would
    #: stall every other request of the process.
    inline_port_creation: bool = False
    #: Seconds a migration waits for the agents of both hosts, in all, before it rolls
    #: the instance back to its source.
    migration_timeout: float = 60.0

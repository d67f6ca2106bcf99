"""The Store's methods for host agents: the desired state they read, the status they report.

Also what an admin overrides in their stead: the VF attributes a host's PFs refused,
forgotten after a NIC firmware change, and a VF stuck releasing, freed without the
agent's verification when the agent is dead or cannot reset it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Set
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

import sqlalchemy as sa

from vfnet.errors import InvalidDeviceState, NotFound
from vfnet.inventory.states import DeviceState
from vfnet.network.binding import BINDING_FAILED
from vfnet.pci.address import PciAddress
from vfnet.store import desired, devices, hosts, ports
from vfnet.store.desired import DesiredInputs
from vfnet.store.inventory import HostInventories
from vfnet.store.records import DeviceRecord, HostRecord, PortRecord
from vfnet.store.tables import hosts as hosts_table
from vfnet.store.tables import ports as ports_table

ERROR = "ERROR"

log = logging.getLogger(__name__)


class AgentStore:
    """Mixed into ``Store``; relies on its ``_read`` and ``_write`` transactions."""

    if TYPE_CHECKING:
        inventories: HostInventories

        def _read(self) -> AbstractContextManager[sa.Connection]: ...
        def _write(self) -> AbstractContextManager[sa.Connection]: ...

    def desired_generation(self, host: str) -> int:
        """The version of the host's desired state (NotFound for an unknown host)."""
        with self._read() as conn:
            return desired.generation(conn, host)

    def status_generation(self, host: str) -> int:
        """The newest desired generation the host's agent has reported its status for
        (0: none yet; NotFound for an unknown host)."""
        with self._read() as conn:
            value = conn.execute(
                sa.select(hosts_table.c.status_generation).where(hosts_table.c.name == host)
            ).scalar()
        if value is None:
            raise NotFound("host", host)
        return int(value)

    def set_status_generation(self, host: str, generation: int) -> None:
        """Record that the host's agent reported its status for ``generation`` (never
        moves back: a late report about an older generation leaves it)."""
        with self._write() as conn:
            conn.execute(
                hosts_table.update()
                .where(hosts_table.c.name == host, hosts_table.c.status_generation < generation)
                .values(status_generation=generation)
            )

    def desired_inputs(self, host: str) -> DesiredInputs:
        """What the host's desired state is built from, under the generation read first."""
        with self._read() as conn:
            return desired.inputs(conn, host)

    def verify_resets(self, host: str, reported: Mapping[PciAddress, int]) -> list[PciAddress]:
        """Free the host's releasing devices whose reset was verified at their current
        claim generation (``reported``: address -> claim generation); those freed."""
        return self.inventories.verify_resets(host, reported)

    def set_reported_status(
        self, port_id: str, *, host: str, status: str, reason: str | None
    ) -> PortRecord | None:
        """The status an agent reported for a port bound on its ``host``; None (nothing
        written) when the port is not, or no longer, bound there."""
        with self._write() as conn:
            done = conn.execute(
                ports_table.update()
                .where(
                    ports_table.c.id == port_id,
                    ports_table.c.host == host,
                    ports_table.c.vif_type != BINDING_FAILED,
                )
                .values(status=status, status_reason=reason if status == ERROR else None)
            )
            if done.rowcount == 0:
                return None
            return ports.get(conn, port_id)

    def record_refused(self, host: str, found: Mapping[str, Iterable[str]]) -> bool:
        """Add to what the host's PFs refused (``found``: PF address -> VF attributes);
        kept across reports. False when nothing was new."""
        with self._write() as conn:
            return hosts.add_refused(conn, host, found)

    def forget_refused(self, host: str, pf: str | None = None) -> HostRecord:
        """Clear what ``pf`` (None: every PF) of the host refused, e.g. after new NIC
        firmware; NotFound when ``pf`` has nothing recorded."""
        with self._write() as conn:
            dropped = hosts.forget_refused(conn, host, pf)
            if pf is not None and not dropped:
                raise NotFound("refused attributes of PF", f"{host}/{pf}")
            return hosts.get(conn, host)

    def force_release(self, host: str, address: PciAddress) -> DeviceRecord:
        """Free a VF stuck releasing without its agent's verified reset (an admin's call
        when that agent is dead or cannot reset it); the host's problems say so."""
        with self._read() as conn:
            hosts.generation(conn, host)  # NotFound for an unknown host first
            device = devices.get_record(conn, host, address)
        problem = (
            f"{address} freed by an admin without a verified reset (claim generation "
            f"{device.claim_generation}): its VF may keep the last owner's settings"
        )
        freed = []
        if device.state == DeviceState.RELEASING.value:
            reset = {device.address: device.claim_generation}
            freed = self.inventories.verify_resets(host, reset, problem=problem)
        with self._read() as conn:
            device = devices.get_record(conn, host, address)
        if not freed:
            raise InvalidDeviceState(
                f"device {address} of host {host} is {device.state}, not releasing: only a "
                "VF waiting for its agent to verify its reset can be released by force"
            )
        log.warning("host %s: %s", host, problem)
        return device


def bump_for_port_change(conn: sa.Connection, record: PortRecord, changed: Set[str]) -> None:
    """A bound port's change reaches its host's desired state unless only names changed."""
    if record.host is not None and not changed <= desired.NOT_DESIRED:
        desired.bump(conn, [record.host])

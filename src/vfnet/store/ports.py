"""Ports: created in one transaction with their MAC and fixed IPs, read, and deleted.

Updates and binding writes are in ``port_updates``.
"""

from __future__ import annotations

from collections.abc import Container, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from vfnet.errors import NotFound
from vfnet.network.macs import MacBase, RandomSource, check_mac_free, generate_mac
from vfnet.network.networks import ADMIN_ROLE, Network
from vfnet.network.ports import Port, PortRequest, PortStatus, validate_port
from vfnet.store import fixed_ips, networks, qos, subnets
from vfnet.store.records import UNBOUND, FixedIp, FixedIpRequest, PortRecord
from vfnet.store.tables import ports

KIND = "port"
_MAC_USED = sa.select(ports.c.id).where(
    ports.c.network_id == sa.bindparam("network"), ports.c.mac_address == sa.bindparam("mac")
)
_INSERT = ports.insert()
# Inserts nothing, and returns no id, when a unique key (the network's MAC) is taken.
# Both dialects say it the same way, but SQLAlchemy builds it per dialect.
_INSERT_IF_MAC_FREE = {
    "postgresql": postgresql.insert(ports).on_conflict_do_nothing().returning(ports.c.id),
    "sqlite": sqlite.insert(ports).on_conflict_do_nothing().returning(ports.c.id),
}


class MacsInUse:
    """The MACs of one network's ports, asked one at a time (the unique key backs it)."""

    def __init__(self, conn: sa.Connection, network_id: str) -> None:
        self._conn = conn
        self._network_id = network_id

    def __contains__(self, mac: object) -> bool:
        found = self._conn.execute(_MAC_USED, {"network": self._network_id, "mac": mac})
        return found.first() is not None


def create(
    conn: sa.Connection,
    request: PortRequest,
    *,
    port_id: str,
    project_id: str | None,
    role: str,
    mac_address: str | None,
    requested_ips: Sequence[FixedIpRequest] | None,
    base_mac: MacBase,
    random: RandomSource,
    now: datetime,
) -> PortRecord:
    """Insert the port ``request`` describes, with its MAC and fixed IPs; NotFound when the
    network is missing, or is neither shared nor ``project_id``'s and ``role`` no admin.

    The MAC is first inserted unchecked, if no port of the network has it: a generated
    one almost never clashes, and one statement then does what a look-up and an insert
    would. On a clash, the MAC is chosen again (or the given one refused) the long way.
    """
    network, on_network = subnets.with_network(conn, request.network_id)
    if role != ADMIN_ROLE and not (network.shared or network.project_id == project_id):
        # Another project's private network is as missing to a member as no network.
        raise NotFound(networks.KIND, network.id)
    target = mirror_target(conn, request.mirror_to)
    qos.require(conn, request.qos_policy_id)

    def choose(used: Container[str]) -> str:
        if mac_address is not None:
            return check_mac_free(mac_address, used)
        return generate_mac(base_mac, used, random)

    port = validate_port(
        replace(request, id=port_id),
        network,
        role=role,
        mac_address=choose(()),
        mirror_target=target,
    )
    values = _row(port, project_id, now)
    if conn.execute(_INSERT_IF_MAC_FREE[conn.dialect.name], values).first() is None:
        values["mac_address"] = choose(MacsInUse(conn, network.id))
        conn.execute(_INSERT, values)
    held = fixed_ips.allocate(conn, network.id, port_id, requested_ips, on_network)
    return record(values, held)


def mirror_target(conn: sa.Connection, target_id: str | None) -> tuple[Port, Network] | None:
    """The port ``mirror_to`` names, with its network; NotFound when there is none."""
    if target_id is None:
        return None
    target = get(conn, target_id)
    return target.to_port(), networks.model(conn, target.network_id)


def get(conn: sa.Connection, port_id: str) -> PortRecord:
    row = conn.execute(sa.select(ports).where(ports.c.id == port_id)).first()
    if row is None:
        raise NotFound(KIND, port_id)
    return record(row._mapping, fixed_ips.of_ports(conn, [port_id]).get(port_id, ()))


def list_all(
    conn: sa.Connection,
    *,
    network_id: str | None,
    project_id: str | None,
    host: str | None,
) -> list[PortRecord]:
    query = sa.select(ports).order_by(ports.c.created_at, ports.c.id)
    for column, wanted in (
        (ports.c.network_id, network_id),
        (ports.c.project_id, project_id),
        (ports.c.host, host),
    ):
        if wanted is not None:
            query = query.where(column == wanted)
    rows = conn.execute(query).all()
    held = fixed_ips.of_ports(conn, [row.id for row in rows])
    return [record(row._mapping, held.get(row.id, ())) for row in rows]


def delete(conn: sa.Connection, port_id: str) -> PortRecord:
    """Delete the port, giving its addresses back; the deleted port is returned (its
    binding tells the caller which claim to release)."""
    port = get(conn, port_id)
    fixed_ips.release(conn, port_id, port.network_id)
    conn.execute(ports.delete().where(ports.c.id == port_id))
    return port


def _row(port: Port, project_id: str | None, now: datetime) -> dict[str, object]:
    return {
        "id": port.id,
        "name": port.name,
        "network_id": port.network_id,
        "project_id": project_id,
        "mac_address": port.mac_address,
        "vnic_type": port.vnic_type.value,
        "admin_state_up": port.admin_state_up,
        "port_security_enabled": port.port_security_enabled,
        "propagate_uplink_status": port.propagate_uplink_status,
        "profile": dict(port.profile),
        "mirror_to": port.mirror_to,
        "qos_policy_id": port.qos_policy_id,
        "device_id": "",
        "status": PortStatus.DOWN.value,
        "host": None,
        "vif_type": UNBOUND,
        "vif_details": {},
        "failure_reason": None,
        "status_reason": None,
        "claim_owner": None,
        "created_at": now,
    }


def record(row: Mapping[Any, Any], held: tuple[FixedIp, ...]) -> PortRecord:
    """The record of a port row (or of the values just inserted) with its fixed IPs."""
    return PortRecord(
        fixed_ips=held,
        profile=dict(row["profile"]),
        vif_details=dict(row["vif_details"]),
        **{name: row[name] for name in _PLAIN},
    )


_PLAIN = (
    "id", "name", "network_id", "project_id", "mac_address", "vnic_type", "admin_state_up",
    "port_security_enabled", "propagate_uplink_status", "mirror_to", "qos_policy_id",
    "device_id", "status", "status_reason", "host", "vif_type", "failure_reason", "claim_owner",
    "created_at",
)  # fmt: skip

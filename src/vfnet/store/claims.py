"""Claim rows: which owner holds which device of which host, claimed or allocated."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

import sqlalchemy as sa

from vfnet.errors import NotFound
from vfnet.pci.address import PciAddress
from vfnet.store.records import ClaimedDevice, ClaimRecord
from vfnet.store.tables import claims, devices, hosts

CLAIMED = "claimed"
ALLOCATED = "allocated"


def add(conn: sa.Connection, host: str, owner: str, requested: Mapping[PciAddress, str]) -> None:
    """Insert one row per newly claimed device (``requested``: address -> request id)."""
    now = datetime.now(UTC)
    rows = [
        {
            "host": host,
            "address": str(address),
            "owner": owner,
            "request_id": request_id,
            "status": CLAIMED,
            "created_at": now,
        }
        for address, request_id in requested.items()
    ]
    if rows:
        conn.execute(claims.insert(), rows)


def mark_allocated(conn: sa.Connection, host: str, owner: str) -> None:
    conn.execute(
        claims.update()
        .where(claims.c.host == host, claims.c.owner == owner)
        .values(status=ALLOCATED)
    )


def remove(conn: sa.Connection, host: str, owner: str) -> None:
    conn.execute(claims.delete().where(claims.c.host == host, claims.c.owner == owner))


def change_owner(conn: sa.Connection, host: str, owner: str, new_owner: str) -> None:
    conn.execute(
        claims.update()
        .where(claims.c.host == host, claims.c.owner == owner)
        .values(owner=new_owner)
    )


def split_off(
    conn: sa.Connection, host: str, owner: str, address: PciAddress, new_owner: str
) -> None:
    """Hand one device of ``owner`` to ``new_owner``, states unchanged (a port detached
    from an instance takes its device out of the instance's claim, to release it alone).

    Only the device's own row names an owner: relatives a claim blocks have none.
    The caller bumps the host's generation in the same transaction, so no inventory
    loaded before this write is used after it.

    Raises:
        NotFound: ``owner`` holds no device at ``address`` on ``host``.
    """
    done = conn.execute(
        claims.update()
        .where(claims.c.host == host, claims.c.address == str(address), claims.c.owner == owner)
        .values(owner=new_owner)
    )
    if done.rowcount == 0:
        raise NotFound("claim", f"{owner} {address}")
    conn.execute(
        devices.update()
        .where(devices.c.host == host, devices.c.address == str(address))
        .values(owner=new_owner)
    )


def hosts_of(conn: sa.Connection, owner: str) -> list[str]:
    query = sa.select(claims.c.host).where(claims.c.owner == owner).distinct()
    return sorted(conn.execute(query).scalars())


def of_owner(conn: sa.Connection, owner: str, host: str | None = None) -> list[ClaimRecord]:
    """The owner's claims, one record per host, with each host's current generation."""
    query = (
        sa.select(claims, hosts.c.generation)
        .join(hosts, hosts.c.name == claims.c.host)
        .where(claims.c.owner == owner)
        .order_by(claims.c.host, claims.c.address)
    )
    if host is not None:
        query = query.where(claims.c.host == host)
    by_host: dict[str, tuple[int, list[ClaimedDevice]]] = {}
    for row in conn.execute(query):
        _, held = by_host.setdefault(row.host, (row.generation, []))
        held.append(ClaimedDevice(PciAddress.parse(row.address), row.request_id, row.status))
    return [
        ClaimRecord(owner, name, tuple(held), generation)
        for name, (generation, held) in by_host.items()
    ]


def record(owner: str, host: str, generation: int, held: Iterable[ClaimedDevice]) -> ClaimRecord:
    return ClaimRecord(owner, host, tuple(sorted(held, key=lambda d: d.address)), generation)

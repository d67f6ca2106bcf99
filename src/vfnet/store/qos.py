"""QoS policies: named rule sets, shared or per project, refused for deletion while used."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa

from vfnet.errors import InUse, NotFound, ValidationError
from vfnet.network.qos import QosPolicy, QosRule, validate_policy
from vfnet.store.records import QosPolicyRecord
from vfnet.store.tables import networks, ports, qos_policies

KIND = "qos_policy"


def create(
    conn: sa.Connection,
    policy: QosPolicy,
    *,
    policy_id: str,
    name: str,
    project_id: str,
    shared: bool,
    now: datetime,
) -> QosPolicyRecord:
    checked = validate_policy(policy_id, policy.rules)
    record = QosPolicyRecord(policy_id, name, project_id, shared, checked.rules, now)
    conn.execute(
        qos_policies.insert().values(
            id=policy_id,
            name=name,
            project_id=project_id,
            shared=shared,
            rules=_rules_json(checked.rules),
            created_at=now,
        )
    )
    return record


def get(conn: sa.Connection, policy_id: str) -> QosPolicyRecord:
    row = conn.execute(sa.select(qos_policies).where(qos_policies.c.id == policy_id)).first()
    if row is None:
        raise NotFound(KIND, policy_id)
    return _record(row)


def require(conn: sa.Connection, policy_id: str | None) -> None:
    """NotFound unless ``policy_id`` (when given) names a policy."""
    if policy_id is None:
        return
    found = conn.execute(sa.select(qos_policies.c.id).where(qos_policies.c.id == policy_id))
    if found.first() is None:
        raise NotFound(KIND, policy_id)


def list_all(conn: sa.Connection, *, project_id: str | None) -> list[QosPolicyRecord]:
    """Every policy (``project_id`` None), else the project's own and the shared ones."""
    query = sa.select(qos_policies).order_by(qos_policies.c.created_at, qos_policies.c.id)
    if project_id is not None:
        query = query.where(sa.or_(qos_policies.c.project_id == project_id, qos_policies.c.shared))
    return [_record(row) for row in conn.execute(query)]


def update(
    conn: sa.Connection,
    policy_id: str,
    *,
    name: str | None,
    rules: Iterable[QosRule] | None,
    shared: bool | None,
) -> QosPolicyRecord:
    values: dict[str, object] = {}
    if name is not None:
        values["name"] = name
    if shared is not None:
        values["shared"] = shared
    if rules is not None:
        values["rules"] = _rules_json(validate_policy(policy_id, rules).rules)
    if values:
        changed = conn.execute(
            qos_policies.update().where(qos_policies.c.id == policy_id).values(values)
        )
        if changed.rowcount == 0:
            raise NotFound(KIND, policy_id)
    return get(conn, policy_id)


def delete(conn: sa.Connection, policy_id: str) -> None:
    """Refused while a network or a port uses the policy (a foreign key backs the check)."""
    get(conn, policy_id)
    users = [
        (what, count)
        for what, table in (("network", networks), ("port", ports))
        if (count := _count(conn, table, policy_id))
    ]
    if users:
        used_by = " and ".join(f"{count} {what}{'s' if count > 1 else ''}" for what, count in users)
        raise InUse(f"QoS policy {policy_id!r} is used by {used_by}; detach it first")
    conn.execute(qos_policies.delete().where(qos_policies.c.id == policy_id))


def _count(conn: sa.Connection, table: sa.Table, policy_id: str) -> int:
    query = sa.select(sa.func.count()).select_from(table).where(table.c.qos_policy_id == policy_id)
    return int(conn.execute(query).scalar_one())


def _rules_json(rules: Iterable[QosRule]) -> list[dict[str, object]]:
    return [{"type": r.type, "kbps": r.kbps, "direction": r.direction} for r in rules]


def _rules(stored: object) -> tuple[QosRule, ...]:
    if not isinstance(stored, list):
        raise ValidationError("rules", f"stored rules are not a list: {stored!r}")
    return tuple(QosRule(item["type"], int(item["kbps"]), item["direction"]) for item in stored)


def _record(row: sa.Row[tuple[object, ...]]) -> QosPolicyRecord:
    return QosPolicyRecord(
        id=row.id,
        name=row.name,
        project_id=row.project_id,
        shared=row.shared,
        rules=_rules(row.rules),
        created_at=row.created_at,
    )

"""Changing a port: user updates field by field, the outcome of a bind, an agent's status."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from vfnet.errors import NotFound, ValidationError
from vfnet.network.binding import unbound_profile
from vfnet.network.macs import check_mac_free
from vfnet.network.ports import (
    DEVICE_KEYS,
    PROFILE,
    PortStatus,
    check_mirror_to,
    check_port_update,
    check_profile,
    check_security_groups,
)
from vfnet.network.vnic_types import FIELD as VNIC_TYPE
from vfnet.network.vnic_types import parse_vnic_type
from vfnet.store import networks, qos
from vfnet.store.ports import KIND, MacsInUse, get, mirror_target
from vfnet.store.records import UNBOUND, PortRecord
from vfnet.store.tables import ports

# What an agent may report; ERROR is a port whose VF could not be applied.
STATUSES = frozenset({*PortStatus, "ERROR"})

_Setter = Callable[[sa.Connection, PortRecord, Any, str], dict[str, object]]


def update(
    conn: sa.Connection, port_id: str, changes: Mapping[str, object], *, role: str
) -> PortRecord:
    """Apply the user's ``changes``; a bound port keeps its vnic type, MAC and network."""
    current = get(conn, port_id)
    check_port_update(current.to_port(), changes, bound=current.bound)
    values: dict[str, object] = {}
    for name, value in changes.items():
        setter = _SETTERS.get(name)
        if setter is None:
            updatable = ", ".join(sorted(_SETTERS))
            raise ValidationError(name, f"cannot be updated; a port's {updatable} can")
        values.update(setter(conn, current, value, role))
    return _write(conn, port_id, values)


def set_binding(
    conn: sa.Connection,
    port_id: str,
    *,
    host: str,
    vif_type: str,
    vif_details: Mapping[str, object],
    profile: Mapping[str, object],
    status: str,
    failure_reason: str | None,
    claim_owner: str | None,
    mac_address: str | None = None,
) -> PortRecord:
    """Write the outcome of binding on ``host`` (a Binding or a BindingFailed)."""
    current = get(conn, port_id)
    values: dict[str, object] = {
        "host": host,
        "vif_type": vif_type,
        "vif_details": dict(vif_details),
        "profile": dict(profile),
        "status": _status(status),
        "failure_reason": failure_reason,
        "claim_owner": claim_owner,
    }
    if mac_address is not None and mac_address != current.mac_address:
        values["mac_address"] = check_mac_free(mac_address, MacsInUse(conn, current.network_id))
    return _write(conn, port_id, values)


def clear_binding(conn: sa.Connection, port_id: str) -> PortRecord:
    """Unbound: no host, no device keys in the profile, DOWN."""
    current = get(conn, port_id)
    values: dict[str, object] = {
        "host": None,
        "vif_type": UNBOUND,
        "vif_details": {},
        "profile": unbound_profile(current.profile),
        "status": PortStatus.DOWN.value,
        "failure_reason": None,
        "claim_owner": None,
    }
    return _write(conn, port_id, values)


def set_status(conn: sa.Connection, port_id: str, status: str) -> PortRecord:
    return _write(conn, port_id, {"status": _status(status)})


def _write(conn: sa.Connection, port_id: str, values: Mapping[str, object]) -> PortRecord:
    if values:
        done = conn.execute(ports.update().where(ports.c.id == port_id).values(dict(values)))
        if done.rowcount == 0:
            raise NotFound(KIND, port_id)
    return get(conn, port_id)


def _status(status: str) -> str:
    if status not in STATUSES:
        raise ValidationError("status", f"unknown port status {status!r}; use {sorted(STATUSES)}")
    return status


def _text(column: str) -> _Setter:
    def setter(
        conn: sa.Connection, current: PortRecord, value: Any, role: str
    ) -> dict[str, object]:
        if not isinstance(value, str):
            raise ValidationError(column, f"must be a string, not {value!r}")
        return {column: value}

    return setter


def _flag(column: str) -> _Setter:
    def setter(
        conn: sa.Connection, current: PortRecord, value: Any, role: str
    ) -> dict[str, object]:
        if not isinstance(value, bool):
            raise ValidationError(column, f"must be true or false, not {value!r}")
        return {column: value}

    return setter


def _profile(conn: sa.Connection, current: PortRecord, value: Any, role: str) -> dict[str, object]:
    """The user's keys replaced; the device keys of a bound port kept."""
    if not isinstance(value, Mapping):
        raise ValidationError(PROFILE, f"must be an object, not {value!r}")
    device = {key: item for key, item in current.profile.items() if key in DEVICE_KEYS}
    return {"profile": {**device, **check_profile(value, role)}}


def _qos_policy(
    conn: sa.Connection, current: PortRecord, value: Any, role: str
) -> dict[str, object]:
    qos.require(conn, value)
    return {"qos_policy_id": value}


def _mirror_to(
    conn: sa.Connection, current: PortRecord, value: Any, role: str
) -> dict[str, object]:
    target = mirror_target(conn, value)
    if target is not None:
        port = replace(current.to_port(), mirror_to=value)
        check_mirror_to(port, networks.model(conn, current.network_id), *target)
    return {"mirror_to": value}


def _vnic_type(
    conn: sa.Connection, current: PortRecord, value: Any, role: str
) -> dict[str, object]:
    return {"vnic_type": parse_vnic_type(value).value}


def _mac(conn: sa.Connection, current: PortRecord, value: Any, role: str) -> dict[str, object]:
    if value == current.mac_address:
        return {}
    return {"mac_address": check_mac_free(str(value), MacsInUse(conn, current.network_id))}


def _network(conn: sa.Connection, current: PortRecord, value: Any, role: str) -> dict[str, object]:
    if value != current.network_id:
        raise ValidationError("network_id", "a port cannot move to another network")
    return {}


def _security_groups(
    conn: sa.Connection, current: PortRecord, value: Any, role: str
) -> dict[str, object]:
    check_security_groups(parse_vnic_type(current.vnic_type), list(value or ()))
    return {}


_SETTERS: Mapping[str, _Setter] = {
    "name": _text("name"),
    "device_id": _text("device_id"),
    "admin_state_up": _flag("admin_state_up"),
    "port_security_enabled": _flag("port_security_enabled"),
    "propagate_uplink_status": _flag("propagate_uplink_status"),
    PROFILE: _profile,
    "qos_policy_id": _qos_policy,
    "mirror_to": _mirror_to,
    VNIC_TYPE: _vnic_type,
    "mac_address": _mac,
    "network_id": _network,
    "security_groups": _security_groups,
}

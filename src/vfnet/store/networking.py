"""The Store's networking methods: networks, subnets, ports and QoS policies.

Every write is one transaction. The domain checks run first and raise the domain's
errors; unique keys (segment, MAC per network, address per subnet) and foreign keys
back them against writers racing in other transactions or servers. A write that trips
one is run again from the start, where the check then sees the winner's row and raises
the precise error (``Conflict`` naming the field, ``InUse``, ``NotFound``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from random import SystemRandom
from typing import TYPE_CHECKING, TypeVar

import sqlalchemy as sa

from vfnet.errors import Conflict
from vfnet.network.macs import MacBase, RandomSource
from vfnet.network.networks import Network
from vfnet.network.ports import PortRequest
from vfnet.network.qos import QosPolicy, QosRule
from vfnet.network.subnets import SubnetRequest
from vfnet.store import agents, desired, networks, port_updates, ports, qos, subnets
from vfnet.store.engine import lost_a_race
from vfnet.store.records import (
    FixedIpRequest,
    NetworkRecord,
    PortRecord,
    QosPolicyRecord,
    SubnetRecord,
)

T = TypeVar("T")
# A write that lost a race is run again this many times in all before giving up.
RACE_ATTEMPTS = 3
# PostgreSQL's deadlock_detected and serialization_failure: the transaction may simply rerun.
_RERUNNABLE = frozenset({"40P01", "40001"})


def _new_id() -> str:
    return str(uuid.uuid4())


class NetworkingStore:
    """Mixed into ``Store``; relies on its ``_read`` and ``_write`` transactions."""

    if TYPE_CHECKING:

        def _read(self) -> AbstractContextManager[sa.Connection]: ...
        def _write(self) -> AbstractContextManager[sa.Connection]: ...

    def _rerun_on_race(self, what: str, attempt: Callable[[sa.Connection], T]) -> T:
        for remaining in range(RACE_ATTEMPTS - 1, -1, -1):
            try:
                with self._write() as conn:
                    return attempt(conn)
            except sa.exc.IntegrityError as error:
                if not lost_a_race(error):
                    raise
                if remaining == 0:
                    raise Conflict(
                        f"{what}: changed by another request at the same time; try again"
                    ) from error
            except sa.exc.OperationalError as error:
                if getattr(error.orig, "sqlstate", None) not in _RERUNNABLE or remaining == 0:
                    raise
        raise AssertionError("unreachable: the last attempt returns or raises")

    # networks
    def create_network(self, network: Network) -> NetworkRecord:
        """Conflict (``provider:segmentation_id``) when the segment is taken."""
        network_id, now = _new_id(), datetime.now(UTC)
        return self._rerun_on_race(
            "provider:segmentation_id",
            lambda conn: networks.create(conn, network, network_id=network_id, now=now),
        )

    def get_network(self, network_id: str) -> NetworkRecord:
        with self._read() as conn:
            return networks.get(conn, network_id)

    def list_networks(self, *, project_id: str | None = None) -> list[NetworkRecord]:
        """Every network (None), else the project's own and the shared ones."""
        with self._read() as conn:
            return networks.list_all(conn, project_id=project_id)

    def update_network(self, network_id: str, **changes: object) -> NetworkRecord:
        """``name``, ``admin_state_up``, ``shared``, ``qos_policy_id``."""

        def attempt(conn: sa.Connection) -> NetworkRecord:
            record = networks.update(conn, network_id, changes)
            if {"admin_state_up", "qos_policy_id"} & changes.keys():
                desired.bump_for_network(conn, network_id)
            return record

        return self._rerun_on_race("qos_policy_id", attempt)

    def delete_network(self, network_id: str) -> None:
        """InUse while it has ports; its subnets go with it."""
        self._rerun_on_race("network", lambda conn: networks.delete(conn, network_id))

    # subnets
    def create_subnet(self, request: SubnetRequest, *, project_id: str) -> SubnetRecord:
        subnet_id, now = _new_id(), datetime.now(UTC)
        with self._write() as conn:
            return subnets.create(
                conn, request, subnet_id=subnet_id, project_id=project_id, now=now
            )

    def get_subnet(self, subnet_id: str) -> SubnetRecord:
        with self._read() as conn:
            return subnets.get(conn, subnet_id)

    def list_subnets(self, *, network_id: str | None = None) -> list[SubnetRecord]:
        with self._read() as conn:
            return subnets.list_all(conn, network_id=network_id)

    def update_subnet(self, subnet_id: str, **changes: object) -> SubnetRecord:
        """``name``, ``gateway_ip`` (an address outside the pools, or None)."""
        with self._write() as conn:
            return subnets.update(conn, subnet_id, changes)

    def delete_subnet(self, subnet_id: str) -> None:
        """InUse while ports hold addresses of it."""
        self._rerun_on_race("subnet", lambda conn: subnets.delete(conn, subnet_id))

    # ports
    def create_port(
        self,
        request: PortRequest,
        *,
        project_id: str | None,
        role: str,
        mac_address: str | None = None,
        fixed_ips: Sequence[FixedIpRequest] | None = None,
        base_mac: MacBase | None = None,
        random: RandomSource | None = None,
    ) -> PortRecord:
        """One transaction: the port, its MAC (given, or generated from ``base_mac``) and its
        fixed IPs (``fixed_ips``, or None: the lowest free address of the network's first
        subnet of each IP version; ``[]``: none)."""
        port_id, now = _new_id(), datetime.now(UTC)
        base = base_mac or MacBase.parse()
        source = random or SystemRandom()
        return self._rerun_on_race(
            "port",
            lambda conn: ports.create(
                conn,
                request,
                port_id=port_id,
                project_id=project_id,
                role=role,
                mac_address=mac_address,
                requested_ips=fixed_ips,
                base_mac=base,
                random=source,
                now=now,
            ),
        )

    def get_port(self, port_id: str) -> PortRecord:
        with self._read() as conn:
            return ports.get(conn, port_id)

    def list_ports(
        self,
        *,
        network_id: str | None = None,
        project_id: str | None = None,
        host: str | None = None,
    ) -> list[PortRecord]:
        with self._read() as conn:
            return ports.list_all(conn, network_id=network_id, project_id=project_id, host=host)

    def delete_port(self, port_id: str) -> PortRecord:
        """Delete the port and give its addresses back; returns it as it was (its
        ``claim_owner`` names the claim to release)."""

        def attempt(conn: sa.Connection) -> PortRecord:
            deleted = ports.delete(conn, port_id)
            desired.bump(conn, [deleted.host])
            return deleted

        return self._rerun_on_race("port", attempt)

    def update_port(self, port_id: str, changes: Mapping[str, object], *, role: str) -> PortRecord:

        def attempt(conn: sa.Connection) -> PortRecord:
            record = port_updates.update(conn, port_id, changes, role=role)
            agents.bump_for_port_change(conn, record, changes.keys())
            return record

        return self._rerun_on_race("port", attempt)

    def set_port_binding(
        self,
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
        """Write the outcome of a bind (``mac_address``: a whole PF's own MAC)."""

        def attempt(conn: sa.Connection) -> PortRecord:
            record = port_updates.set_binding(
                conn,
                port_id,
                host=host,
                vif_type=vif_type,
                vif_details=vif_details,
                profile=profile,
                status=status,
                failure_reason=failure_reason,
                claim_owner=claim_owner,
                mac_address=mac_address,
            )
            desired.bump(conn, [host])
            return record

        return self._rerun_on_race("mac_address", attempt)

    def clear_port_binding(self, port_id: str) -> PortRecord:
        with self._write() as conn:
            was_on = ports.get(conn, port_id).host
            desired.bump(conn, [was_on])
            return port_updates.clear_binding(conn, port_id)

    def set_port_status(self, port_id: str, status: str) -> PortRecord:
        with self._write() as conn:
            return port_updates.set_status(conn, port_id, status)

    # QoS policies
    def create_qos_policy(
        self, policy: QosPolicy, *, name: str, project_id: str, shared: bool = False
    ) -> QosPolicyRecord:
        """The policy's rules under a new id (``policy.id`` is not used)."""
        policy_id, now = _new_id(), datetime.now(UTC)
        with self._write() as conn:
            return qos.create(
                conn,
                policy,
                policy_id=policy_id,
                name=name,
                project_id=project_id,
                shared=shared,
                now=now,
            )

    def get_qos_policy(self, policy_id: str) -> QosPolicyRecord:
        with self._read() as conn:
            return qos.get(conn, policy_id)

    def list_qos_policies(self, *, project_id: str | None = None) -> list[QosPolicyRecord]:
        with self._read() as conn:
            return qos.list_all(conn, project_id=project_id)

    def update_qos_policy(
        self,
        policy_id: str,
        *,
        name: str | None = None,
        rules: Iterable[QosRule] | None = None,
        shared: bool | None = None,
    ) -> QosPolicyRecord:
        with self._write() as conn:
            record = qos.update(conn, policy_id, name=name, rules=rules, shared=shared)
            if rules is not None:
                desired.bump_for_policy(conn, policy_id)
            return record

    def delete_qos_policy(self, policy_id: str) -> None:
        """InUse while a network or a port uses it."""
        self._rerun_on_race("qos_policy", lambda conn: qos.delete(conn, policy_id))

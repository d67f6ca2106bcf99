"""The schema as SQLAlchemy Core tables: what queries are written against.

The schema itself is made only by the Alembic migrations (``migrations/versions``);
a functional test checks that the migrated database matches these declarations.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

metadata = sa.MetaData()


class Timestamp(sa.TypeDecorator[datetime]):
    """A UTC timestamp that comes back timezone-aware on SQLite too (which drops the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)


tokens = sa.Table(
    "tokens",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("project", sa.String(255), nullable=True),
    sa.Column("host", sa.String(255), nullable=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("created_at", Timestamp(), nullable=False),
)

hosts = sa.Table(
    "hosts",
    metadata,
    sa.Column("name", sa.String(255), primary_key=True),
    # Bumped by every write to the host's inventory; claims compare-and-set it.
    sa.Column("generation", sa.Integer, nullable=False),
    # The agent's own counter: a report older than the last one applied is ignored.
    sa.Column("report_generation", sa.Integer, nullable=False),
    sa.Column("numa_sockets", sa.JSON, nullable=False),
    sa.Column("physnets", sa.JSON, nullable=False),
    sa.Column("bridges", sa.JSON, nullable=False),
    sa.Column("created_at", Timestamp(), nullable=False),
    sa.Column("reported_at", Timestamp(), nullable=True),
    # Stamped from host_change_counter whenever the host's free devices or declared
    # facts can change: a scheduler's view reloads only hosts stamped after its last look.
    sa.Column("changed_seq", sa.BigInteger, nullable=False, server_default="0"),
    # Its agent resets released VFs and reports the reset read back: until then a
    # released VF is releasing, not free.
    sa.Column("manages_vfs", sa.Boolean, nullable=False, server_default=sa.false()),
    # The version of the host's desired state: bumped by every change that can alter it,
    # so an agent long-polling it wakes exactly when there is something to do.
    sa.Column("desired_generation", sa.BigInteger, nullable=False, server_default="0"),
    # What the agent could not do with the host (num_vfs refused, a PF missing).
    sa.Column("problems", sa.JSON, nullable=True),
    # PF address -> the VF attributes its NIC refused, as the agent last reported them.
    sa.Column("refused", sa.JSON, nullable=True),
    # The newest desired generation its agent has reported its status for.
    sa.Column("status_generation", sa.BigInteger, nullable=False, server_default="0"),
    sa.Index("ix_hosts_changed_seq", "changed_seq"),
)

# One row: the last changed_seq handed out. Updating it takes a row lock held to
# commit, so stamps become visible in the order they were handed out.
host_change_counter = sa.Table(
    "host_change_counter",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
)

devices = sa.Table(
    "devices",
    metadata,
    sa.Column(
        "host", sa.String(255), sa.ForeignKey("hosts.name", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("address", sa.String(16), primary_key=True),
    sa.Column("dev_type", sa.String(16), nullable=False),
    sa.Column("vendor_id", sa.String(4), nullable=False),
    sa.Column("product_id", sa.String(4), nullable=False),
    sa.Column("numa_node", sa.Integer, nullable=True),
    sa.Column("parent_addr", sa.String(16), nullable=True),
    sa.Column("vf_index", sa.Integer, nullable=True),
    sa.Column("driver", sa.String(64), nullable=True),
    sa.Column("ifname", sa.String(64), nullable=True),
    sa.Column("mac", sa.String(17), nullable=True),
    sa.Column("physnet", sa.String(255), nullable=True),
    sa.Column("tags", sa.JSON, nullable=False),
    sa.Column("resource_name", sa.String(255), nullable=True),
    sa.Column("healthy", sa.Boolean, nullable=False),
    sa.Column("health_reasons", sa.JSON, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("owner", sa.String(255), nullable=True),
    sa.Column("request_id", sa.String(255), nullable=True),
    # Gone from the latest report while claimed or allocated: kept until released.
    sa.Column("vanished", sa.Boolean, nullable=False),
    # Bumped by every claim: a report about a reset names the claim it ended, so a late
    # one never frees a device already claimed again.
    sa.Column("claim_generation", sa.Integer, nullable=False, server_default="0"),
    sa.Index("ix_devices_state", "state"),
    sa.Index("ix_devices_physnet", "physnet"),
)

# One row per claimed device: the primary key makes a double booking impossible
# even if everything above it were wrong.
claims = sa.Table(
    "claims",
    metadata,
    sa.Column("host", sa.String(255), primary_key=True),
    sa.Column("address", sa.String(16), primary_key=True),
    sa.Column("owner", sa.String(255), nullable=False),
    sa.Column("request_id", sa.String(255), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", Timestamp(), nullable=False),
    # No cascade: a claimed device row must never be deleted under its claim.
    sa.ForeignKeyConstraint(["host", "address"], ["devices.host", "devices.address"]),
    sa.Index("ix_claims_owner", "owner"),
)

flavors = sa.Table(
    "flavors",
    metadata,
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("vcpus", sa.Integer, nullable=False),
    sa.Column("ram_mb", sa.Integer, nullable=False),
    sa.Column("numa_cells", sa.Integer, nullable=False),
    sa.Column("extra_specs", sa.JSON, nullable=False),
    sa.Column("created_at", Timestamp(), nullable=False),
)

placements = sa.Table(
    "placements",
    metadata,
    sa.Column("instance_id", sa.String(255), primary_key=True),
    sa.Column("host", sa.String(255), sa.ForeignKey("hosts.name"), nullable=False),
    sa.Column("owner", sa.String(255), nullable=False),
    sa.Column("project", sa.String(255), nullable=True),
    sa.Column("request", sa.JSON, nullable=False),
    sa.Column("created_at", Timestamp(), nullable=False),
)

# Networking. Addresses in the IPAM tables are also kept as fixed-width hex keys
# (``ipam.key``) so that text order is numeric order for IPv4 and IPv6 alike.

qos_policies = sa.Table(
    "qos_policies",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("project_id", sa.String(255), nullable=False),
    sa.Column("shared", sa.Boolean, nullable=False),
    sa.Column("rules", sa.JSON, nullable=False),
    sa.Column("created_at", Timestamp(), nullable=False),
)

networks = sa.Table(
    "networks",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("project_id", sa.String(255), nullable=False),
    sa.Column("network_type", sa.String(16), nullable=False),
    sa.Column("physical_network", sa.String(255), nullable=True),
    sa.Column("segmentation_id", sa.BigInteger, nullable=True),
    # What two networks may not share (one VLAN id per physnet, one flat network per
    # physnet, one overlay id); NULL for a segment that reserves nothing.
    sa.Column("segment_key", sa.String(600), nullable=True),
    sa.Column("admin_state_up", sa.Boolean, nullable=False),
    sa.Column("shared", sa.Boolean, nullable=False),
    # No cascade: a policy in use cannot be deleted.
    sa.Column("qos_policy_id", sa.String(36), sa.ForeignKey("qos_policies.id"), nullable=True),
    sa.Column("mtu", sa.Integer, nullable=False, server_default="1500"),
    sa.Column("created_at", Timestamp(), nullable=False),
    sa.UniqueConstraint("segment_key", name="uq_networks_segment_key"),
    sa.Index("ix_networks_project_id", "project_id"),
)

subnets = sa.Table(
    "subnets",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column(
        "network_id",
        sa.String(36),
        sa.ForeignKey("networks.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("project_id", sa.String(255), nullable=False),
    sa.Column("cidr", sa.String(64), nullable=False),
    sa.Column("ip_version", sa.Integer, nullable=False),
    sa.Column("gateway_ip", sa.String(64), nullable=True),
    sa.Column("allocation_pools", sa.JSON, nullable=False),  # [[first, last], ...]
    sa.Column("created_at", Timestamp(), nullable=False),
    sa.Index("ix_subnets_network_id", "network_id"),
)

# Neutron's old availability ranges: the free part of a subnet's pools as inclusive
# spans. A port takes the lowest span's first address, so an allocation never reads
# the addresses already in use.
ip_free_ranges = sa.Table(
    "ip_free_ranges",
    metadata,
    sa.Column(
        "subnet_id",
        sa.String(36),
        sa.ForeignKey("subnets.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("first_key", sa.String(32), primary_key=True),
    sa.Column("last_key", sa.String(32), nullable=False),
)

ports = sa.Table(
    "ports",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),
    # No cascade: a network with ports cannot be deleted.
    sa.Column("network_id", sa.String(36), sa.ForeignKey("networks.id"), nullable=False),
    sa.Column("project_id", sa.String(255), nullable=True),
    sa.Column("mac_address", sa.String(17), nullable=False),
    sa.Column("vnic_type", sa.String(32), nullable=False),
    sa.Column("admin_state_up", sa.Boolean, nullable=False),
    sa.Column("port_security_enabled", sa.Boolean, nullable=False),
    sa.Column("propagate_uplink_status", sa.Boolean, nullable=False),
    sa.Column("profile", sa.JSON, nullable=False),
    # A mirror whose target goes away stops mirroring.
    sa.Column(
        "mirror_to", sa.String(36), sa.ForeignKey("ports.id", ondelete="SET NULL"), nullable=True
    ),
    sa.Column("qos_policy_id", sa.String(36), sa.ForeignKey("qos_policies.id"), nullable=True),
    sa.Column("device_id", sa.String(255), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("host", sa.String(255), nullable=True),
    sa.Column("vif_type", sa.String(32), nullable=False),
    sa.Column("vif_details", sa.JSON, nullable=False),
    sa.Column("failure_reason", sa.Text, nullable=True),
    # Why the agent reported the port ERROR (NULL otherwise).
    sa.Column("status_reason", sa.Text, nullable=True),
    # The claim owner holding the port's device while it is bound.
    sa.Column("claim_owner", sa.String(255), nullable=True),
    sa.Column("created_at", Timestamp(), nullable=False),
    sa.UniqueConstraint("network_id", "mac_address", name="uq_ports_network_mac"),
    sa.Index("ix_ports_host", "host"),
    sa.Index("ix_ports_project_id", "project_id"),
)

# One row per fixed IP: the primary key makes one address on two ports impossible.
ip_allocations = sa.Table(
    "ip_allocations",
    metadata,
    # No cascade: a subnet with addresses in use cannot be deleted.
    sa.Column("subnet_id", sa.String(36), sa.ForeignKey("subnets.id"), primary_key=True),
    sa.Column("ip_address", sa.String(64), primary_key=True),
    sa.Column(
        "port_id", sa.String(36), sa.ForeignKey("ports.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Index("ix_ip_allocations_port_id", "port_id"),
)

# Instances: VMs and containers. Their ports point back with ``ports.device_id``;
# ``port_ids`` keeps the order the ports were asked in (eth0, eth1, ...).
instances = sa.Table(
    "instances",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("project_id", sa.String(255), nullable=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("flavor", sa.String(255), nullable=True),
    sa.Column("host", sa.String(255), nullable=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    # The owner of the one claim holding every device of the instance.
    sa.Column("claim_owner", sa.String(255), nullable=True),
    sa.Column("port_ids", sa.JSON, nullable=False),
    # The normal ports made for ``networks``: deleted with the instance.
    sa.Column("made_port_ids", sa.JSON, nullable=False),
    # The migration under way (source, target, the target's claim owner, phase), or NULL.
    sa.Column("migration", sa.JSON, nullable=True),
    sa.Column("created_at", Timestamp(), nullable=False),
    sa.Index("ix_instances_project_id", "project_id"),
)

"""Networking: QoS policies, networks, subnets with their free address ranges, ports, fixed IPs."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "qos_policies",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("project_id", sa.String(255), nullable=False),
        sa.Column("shared", sa.Boolean, nullable=False),
        sa.Column("rules", sa.JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )
    op.create_table(
        "networks",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("project_id", sa.String(255), nullable=False),
        sa.Column("network_type", sa.String(16), nullable=False),
        sa.Column("physical_network", sa.String(255), nullable=True),
        sa.Column("segmentation_id", sa.BigInteger, nullable=True),
        sa.Column("segment_key", sa.String(600), nullable=True),
        sa.Column("admin_state_up", sa.Boolean, nullable=False),
        sa.Column("shared", sa.Boolean, nullable=False),
        sa.Column("qos_policy_id", sa.String(36), sa.ForeignKey("qos_policies.id"), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.UniqueConstraint("segment_key", name="uq_networks_segment_key"),
    )
    op.create_index("ix_networks_project_id", "networks", ["project_id"])
    op.create_table(
        "subnets",
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
        sa.Column("allocation_pools", sa.JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_subnets_network_id", "subnets", ["network_id"])
    op.create_table(
        "ip_free_ranges",
        sa.Column(
            "subnet_id",
            sa.String(36),
            sa.ForeignKey("subnets.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("first_key", sa.String(32), primary_key=True),
        sa.Column("last_key", sa.String(32), nullable=False),
    )
    _create_ports()
    op.create_table(
        "ip_allocations",
        sa.Column("subnet_id", sa.String(36), sa.ForeignKey("subnets.id"), primary_key=True),
        sa.Column("ip_address", sa.String(64), primary_key=True),
        sa.Column(
            "port_id",
            sa.String(36),
            sa.ForeignKey("ports.id", ondelete="CASCADE"),
            nullable=False,
        ),
    )
    op.create_index("ix_ip_allocations_port_id", "ip_allocations", ["port_id"])


def _create_ports() -> None:
    op.create_table(
        "ports",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("network_id", sa.String(36), sa.ForeignKey("networks.id"), nullable=False),
        sa.Column("project_id", sa.String(255), nullable=True),
        sa.Column("mac_address", sa.String(17), nullable=False),
        sa.Column("vnic_type", sa.String(32), nullable=False),
        sa.Column("admin_state_up", sa.Boolean, nullable=False),
        sa.Column("port_security_enabled", sa.Boolean, nullable=False),
        sa.Column("propagate_uplink_status", sa.Boolean, nullable=False),
        sa.Column("profile", sa.JSON, nullable=False),
        sa.Column(
            "mirror_to",
            sa.String(36),
            sa.ForeignKey("ports.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("qos_policy_id", sa.String(36), sa.ForeignKey("qos_policies.id"), nullable=True),
        sa.Column("device_id", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("host", sa.String(255), nullable=True),
        sa.Column("vif_type", sa.String(32), nullable=False),
        sa.Column("vif_details", sa.JSON, nullable=False),
        sa.Column("failure_reason", sa.Text, nullable=True),
        sa.Column("claim_owner", sa.String(255), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.UniqueConstraint("network_id", "mac_address", name="uq_ports_network_mac"),
    )
    op.create_index("ix_ports_host", "ports", ["host"])
    op.create_index("ix_ports_project_id", "ports", ["project_id"])


def downgrade() -> None:
    for table in (
        "ip_allocations",
        "ports",
        "ip_free_ranges",
        "subnets",
        "networks",
        "qos_policies",
    ):
        op.drop_table(table)

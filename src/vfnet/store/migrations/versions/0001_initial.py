"""Initial schema: tokens, hosts, devices, claims, flavors, placements."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tokens",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("project", sa.String(255), nullable=True),
        sa.Column("host", sa.String(255), nullable=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )
    op.create_table(
        "hosts",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("generation", sa.Integer, nullable=False),
        sa.Column("report_generation", sa.Integer, nullable=False),
        sa.Column("numa_sockets", sa.JSON, nullable=False),
        sa.Column("physnets", sa.JSON, nullable=False),
        sa.Column("bridges", sa.JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("reported_at", TIMESTAMP, nullable=True),
    )
    op.create_table(
        "devices",
        sa.Column(
            "host",
            sa.String(255),
            sa.ForeignKey("hosts.name", ondelete="CASCADE"),
            primary_key=True,
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
        sa.Column("vanished", sa.Boolean, nullable=False),
    )
    op.create_index("ix_devices_state", "devices", ["state"])
    op.create_index("ix_devices_physnet", "devices", ["physnet"])
    op.create_table(
        "claims",
        sa.Column("host", sa.String(255), primary_key=True),
        sa.Column("address", sa.String(16), primary_key=True),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("request_id", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["host", "address"], ["devices.host", "devices.address"]),
    )
    op.create_index("ix_claims_owner", "claims", ["owner"])
    op.create_table(
        "flavors",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("vcpus", sa.Integer, nullable=False),
        sa.Column("ram_mb", sa.Integer, nullable=False),
        sa.Column("numa_cells", sa.Integer, nullable=False),
        sa.Column("extra_specs", sa.JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )
    op.create_table(
        "placements",
        sa.Column("instance_id", sa.String(255), primary_key=True),
        sa.Column("host", sa.String(255), sa.ForeignKey("hosts.name"), nullable=False),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("project", sa.String(255), nullable=True),
        sa.Column("request", sa.JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )


def downgrade() -> None:
    for table in ("placements", "flavors", "claims", "devices", "hosts", "tokens"):
        op.drop_table(table)

"""Workloads: a network's MTU, what each PF refused, the status generation reported, migrations."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.add_column("networks", sa.Column("mtu", sa.Integer, nullable=False, server_default="1500"))
    # PF address -> the VF attributes its NIC refused, as the host's agent reported them.
    op.add_column("hosts", sa.Column("refused", sa.JSON, nullable=True))
    # The newest desired generation the host's agent has reported its status for.
    op.add_column(
        "hosts", sa.Column("status_generation", sa.BigInteger, nullable=False, server_default="0")
    )
    # The migration under way (source, target, the target's claim owner, its phase), or NULL.
    op.add_column("instances", sa.Column("migration", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("instances") as batch:
        batch.drop_column("migration")
    with op.batch_alter_table("hosts") as batch:
        batch.drop_column("status_generation")
        batch.drop_column("refused")
    with op.batch_alter_table("networks") as batch:
        batch.drop_column("mtu")

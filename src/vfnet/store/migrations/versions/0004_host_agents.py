"""Host agents: VFs managed and verified on release, the desired state's generation, reports."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.add_column(
        "hosts", sa.Column("manages_vfs", sa.Boolean, nullable=False, server_default=sa.false())
    )
    op.add_column(
        "hosts", sa.Column("desired_generation", sa.BigInteger, nullable=False, server_default="0")
    )
    op.add_column("hosts", sa.Column("problems", sa.JSON, nullable=True))
    op.add_column(
        "devices", sa.Column("claim_generation", sa.Integer, nullable=False, server_default="0")
    )
    op.add_column("ports", sa.Column("status_reason", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ports") as batch:
        batch.drop_column("status_reason")
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("claim_generation")
    with op.batch_alter_table("hosts") as batch:
        batch.drop_column("problems")
        batch.drop_column("desired_generation")
        batch.drop_column("manages_vfs")

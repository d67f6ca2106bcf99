"""Host change stamps: one counter, and each host row stamped when its free devices can change."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    counter = op.create_table(
        "host_change_counter",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(counter, [{"id": 1, "seq": 0}])
    op.add_column(
        "hosts", sa.Column("changed_seq", sa.BigInteger, nullable=False, server_default="0")
    )
    op.create_index("ix_hosts_changed_seq", "hosts", ["changed_seq"])


def downgrade() -> None:
    op.drop_index("ix_hosts_changed_seq", "hosts")
    with op.batch_alter_table("hosts") as batch:
        batch.drop_column("changed_seq")
    op.drop_table("host_change_counter")

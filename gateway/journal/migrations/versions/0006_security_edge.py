"""Outbound allowlist: the callback hosts registered per API client.

Revision ID: 0006_security_edge
Revises: 0005_local_uid_index
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_security_edge"
down_revision = "0005_local_uid_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no default: existing clients have no registered hosts, so after the upgrade their
    # callbacks are refused unless [security] callback_hosts names the hosts (docs/security.md).
    with op.batch_alter_table("clients") as batch:
        batch.add_column(sa.Column("callback_hosts", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("callback_hosts")

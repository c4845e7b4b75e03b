"""Delivery bookkeeping: outcome source, reconciliation and resubmission counters, operator flag.

Revision ID: 0003_delivery
Revises: 0002_clients_notifications
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_delivery"
down_revision = "0002_clients_notifications"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("outcome_source", sa.String(20), nullable=True))
        batch.add_column(sa.Column("reconcile_attempts", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("resubmits", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("flagged", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_index("ix_submissions_deadline", "submissions", ["state", "answer_deadline"])
    op.create_index("ix_submissions_peer_key", "submissions", ["destination", "local_uid"])


def downgrade() -> None:
    op.drop_index("ix_submissions_peer_key", "submissions")
    op.drop_index("ix_submissions_deadline", "submissions")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("flagged")
        batch.drop_column("resubmits")
        batch.drop_column("reconcile_attempts")
        batch.drop_column("outcome_source")

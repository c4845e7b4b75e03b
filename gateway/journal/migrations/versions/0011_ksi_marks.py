"""KSI milestones of the MSE process (received, registered, returned, scheduled, decided,
result_delivered) per submission, for the bureau's KSI on working days (gateway.monitoring.ksi).

Revision ID: 0011_ksi_marks
Revises: 0007_peer_messages
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.journal.schema import UtcDateTime

revision = "0011_ksi_marks"
down_revision = "0010_resubmission_versions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ksi_marks",
        sa.Column("submission_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("peer", sa.String(80), nullable=False),
        sa.Column("bureau", sa.String(80), nullable=True),
        sa.Column("region", sa.String(20), nullable=True),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submissions.id"], name="fk_ksi_marks_submission_id_submissions", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("submission_id", "name", name="pk_ksi_marks"),
    )
    op.create_index("ix_ksi_marks_name", "ksi_marks", ["name", "at"])


def downgrade() -> None:
    op.drop_index("ix_ksi_marks_name", table_name="ksi_marks")
    op.drop_table("ksi_marks")

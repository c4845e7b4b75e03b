"""The operations console (issue 19): the CANCELLED state, operator API tokens, alert
acknowledgement and silence, and the indexes of the operator lists' filters.

A DEAD submission an operator "cancelled" before this revision was only a disposition; it becomes
the CANCELLED state it stood for (its disposition row goes). No notice is owed for these: the MIS
was never told of a disposition, and the revision does not invent one after the fact.

Revision ID: 0009_operations_console
Revises: 0007_peer_messages
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.journal.schema import UtcDateTime

revision = "0009_operations_console"
down_revision = "0008_inbound_documents"
branch_labels = None
depends_on = None

_INDEXES = (
    ("ix_submissions_state_created", ["state", "created_at"]),
    ("ix_submissions_code_created", ["outcome_code", "created_at"]),
    ("ix_submissions_region_created", ["region", "created_at"]),
    ("ix_submissions_source_created", ["source_system", "created_at"]),
    ("ix_submissions_destination_created", ["destination", "created_at"]),
)
_ALERT_COLUMNS = ("acked_by", "acked_at", "silenced_until", "silenced_by", "silence_comment")


def upgrade() -> None:
    op.create_table(
        "operator_tokens",
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("role", sa.String(12), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_operator_tokens"),
        sa.UniqueConstraint("token_sha256", name="uq_operator_tokens_token_sha256"),
    )
    with op.batch_alter_table("alert_state") as batch:
        batch.add_column(sa.Column("acked_by", sa.String(80), nullable=True))
        batch.add_column(sa.Column("acked_at", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("silenced_until", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("silenced_by", sa.String(80), nullable=True))
        batch.add_column(sa.Column("silence_comment", sa.Text(), nullable=True))
    for name, columns in _INDEXES:
        op.create_index(name, "submissions", columns)
    op.execute(
        sa.text(
            "UPDATE submissions SET state = 'CANCELLED', outcome_code = 'OPERATOR_CANCELLED', "
            "outcome_source = 'operator' WHERE state = 'DEAD' AND id IN "
            "(SELECT submission_id FROM ui_dispositions WHERE disposition = 'cancelled')"
        )
    )
    op.execute(
        sa.text(
            "DELETE FROM ui_dispositions WHERE disposition = 'cancelled' AND submission_id IN "
            "(SELECT id FROM submissions WHERE state = 'CANCELLED')"
        )
    )


def downgrade() -> None:
    # CANCELLED does not exist before this revision: such submissions go back to DEAD with the
    # "cancelled" disposition that meant the same.
    op.execute(
        sa.text(
            "INSERT INTO ui_dispositions (submission_id, disposition, username, at, comment) "
            "SELECT id, 'cancelled', 'migration', updated_at, 'CANCELLED before downgrade' FROM submissions "
            "WHERE state = 'CANCELLED' AND id NOT IN (SELECT submission_id FROM ui_dispositions)"
        )
    )
    op.execute(sa.text("UPDATE submissions SET state = 'DEAD' WHERE state = 'CANCELLED'"))
    for name, _ in reversed(_INDEXES):
        op.drop_index(name, table_name="submissions")
    with op.batch_alter_table("alert_state") as batch:
        for column in reversed(_ALERT_COLUMNS):
            batch.drop_column(column)
    op.drop_table("operator_tokens")

"""Journal: submissions, payloads, events, envelopes.

Revision ID: 0001_journal
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.journal.schema import UtcDateTime

revision = "0001_journal"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "submissions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("source_system", sa.String(200), nullable=False),
        sa.Column("local_uid", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("organization_oid", sa.String(200), nullable=False),
        sa.Column("patient_key", sa.String(64), nullable=True),
        sa.Column("region", sa.String(20), nullable=True),
        sa.Column("destination", sa.String(80), nullable=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=True),
        sa.Column("answer_deadline", UtcDateTime(), nullable=True),
        sa.Column("outcome_code", sa.String(120), nullable=True),
        sa.Column("outcome_message", sa.Text(), nullable=True),
        sa.Column("peer_registration_id", sa.String(200), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("callback_url", sa.Text(), nullable=True),
        sa.Column("lease_owner", sa.String(120), nullable=True),
        sa.Column("lease_until", UtcDateTime(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_submissions"),
        sa.UniqueConstraint("source_system", "local_uid", name="uq_submissions_source_system_local_uid"),
    )
    op.create_index("ix_submissions_due", "submissions", ["state", "next_attempt_at"])
    op.create_index("ix_submissions_patient_key", "submissions", ["patient_key"])
    op.create_index("ix_submissions_peer_registration_id", "submissions", ["peer_registration_id"])
    op.create_index("ix_submissions_created_at", "submissions", ["created_at"])
    op.create_index("ix_submissions_org_kind", "submissions", ["organization_oid", "kind"])

    op.create_table(
        "payloads",
        sa.Column("submission_id", sa.String(36), nullable=False),
        sa.Column("codec", sa.String(20), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name="fk_payloads_submission_id_submissions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("submission_id", name="pk_payloads"),
    )

    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("submission_id", sa.String(36), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("from_state", sa.String(20), nullable=True),
        sa.Column("to_state", sa.String(20), nullable=True),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("code", sa.String(120), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name="fk_events_submission_id_submissions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
    )
    op.create_index("ix_events_submission_id", "events", ["submission_id", "id"])

    op.create_table(
        "envelopes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("submission_id", sa.String(36), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("peer", sa.String(80), nullable=False),
        sa.Column("content_type", sa.String(120), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("codec", sa.String(20), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name="fk_envelopes_submission_id_submissions",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], name="fk_envelopes_event_id_events", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_envelopes"),
    )
    op.create_index("ix_envelopes_submission_id", "envelopes", ["submission_id"])


def downgrade() -> None:
    op.drop_table("envelopes")
    op.drop_table("events")
    op.drop_table("payloads")
    op.drop_table("submissions")

"""Monitoring UI: operator accounts, sessions, audit trail, dispositions, alert state; dashboard indexes.

Revision ID: 0004_ui
Revises: 0003_delivery
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import gateway.ui.schema  # noqa: F401  (registers the UI tables on the journal metadata)
from gateway.journal.schema import UtcDateTime

revision = "0004_ui"
down_revision = "0003_delivery"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ui_users",
        sa.Column("username", sa.String(80), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(12), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("disabled_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("username", name="pk_ui_users"),
    )
    op.create_table(
        "ui_sessions",
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("username", sa.String(80), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("last_seen_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["username"], ["ui_users.username"], name="fk_ui_sessions_username_ui_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("token_sha256", name="pk_ui_sessions"),
    )
    op.create_index("ix_ui_sessions_expires_at", "ui_sessions", ["expires_at"])
    op.create_table(
        "ui_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("username", sa.String(80), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("submission_id", sa.String(36), nullable=True),
        sa.Column("from_state", sa.String(20), nullable=True),
        sa.Column("to_state", sa.String(20), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ui_audit"),
    )
    op.create_index("ix_ui_audit_submission_id", "ui_audit", ["submission_id", "id"])
    op.create_index("ix_ui_audit_at", "ui_audit", ["at"])
    op.create_table(
        "ui_dispositions",
        sa.Column("submission_id", sa.String(36), nullable=False),
        sa.Column("disposition", sa.String(12), nullable=False),
        sa.Column("username", sa.String(80), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name="fk_ui_dispositions_submission_id_submissions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("submission_id", name="pk_ui_dispositions"),
    )
    op.create_table(
        "alert_state",
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("firing", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("since", UtcDateTime(), nullable=True),
        sa.Column("last_notified_at", UtcDateTime(), nullable=True),
        sa.Column("resolved_at", UtcDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_alert_state"),
    )
    op.create_index(
        "ix_submissions_overview", "submissions", ["created_at", "kind", "region", "state", "outcome_source"]
    )
    op.create_index("ix_events_to_state_at", "events", ["to_state", "at"])


def downgrade() -> None:
    op.drop_index("ix_events_to_state_at", "events")
    op.drop_index("ix_submissions_overview", "submissions")
    op.drop_table("alert_state")
    op.drop_table("ui_dispositions")
    op.drop_index("ix_ui_audit_at", "ui_audit")
    op.drop_index("ix_ui_audit_submission_id", "ui_audit")
    op.drop_table("ui_audit")
    op.drop_index("ix_ui_sessions_expires_at", "ui_sessions")
    op.drop_table("ui_sessions")
    op.drop_table("ui_users")

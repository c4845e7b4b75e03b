"""Clients (API tokens, allowed organisations), the outcome-notification outbox, submission origin.

Revision ID: 0002_clients_notifications
Revises: 0001_journal
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.journal.schema import UtcDateTime

revision = "0002_clients_notifications"
down_revision = "0001_journal"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("origin", sa.String(20), server_default="rest", nullable=False))
        batch.add_column(sa.Column("origin_ref", sa.String(200), nullable=True))
    op.create_table(
        "clients",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("source_system", sa.String(200), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("organization_oids", sa.JSON(), nullable=False),
        sa.Column("soap_client_entity_id", sa.String(80), nullable=True),
        sa.Column("callback_key", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_clients"),
        sa.UniqueConstraint("source_system", name="uq_clients_source_system"),
        sa.UniqueConstraint("token_sha256", name="uq_clients_token_sha256"),
        sa.UniqueConstraint("soap_client_entity_id", name="uq_clients_soap_client_entity_id"),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("submission_id", sa.String(36), nullable=False),
        sa.Column("client_id", sa.String(36), nullable=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("lease_owner", sa.String(120), nullable=True),
        sa.Column("lease_until", UtcDateTime(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("delivered_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name="fk_notifications_submission_id_submissions",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name="fk_notifications_client_id_clients", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
        sa.UniqueConstraint("submission_id", "channel", name="uq_notifications_submission_id_channel"),
    )
    op.create_index("ix_notifications_due", "notifications", ["state", "next_attempt_at"])


def downgrade() -> None:
    op.drop_table("notifications")
    op.drop_table("clients")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("origin_ref")
        batch.drop_column("origin")

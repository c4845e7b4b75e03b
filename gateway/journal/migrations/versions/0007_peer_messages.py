"""Peers' message ids, the peer inbox (answers recorded once; unattributed answers kept apart)
and receiver leases for polling peers.

Submissions sent before this revision have no recorded message id: an answer about them is stored
as unattributed and reconciliation (searchRegistryItem for REMD) learns their outcome instead.

Revision ID: 0007_peer_messages
Revises: 0005_local_uid_index
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.journal.schema import UtcDateTime

revision = "0007_peer_messages"
down_revision = "0006_security_edge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "peer_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("submission_id", sa.String(36), nullable=False),
        sa.Column("peer", sa.String(80), nullable=False),
        sa.Column("message_id", sa.String(200), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("retired_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name="fk_peer_messages_submission_id_submissions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_peer_messages"),
        sa.UniqueConstraint("peer", "message_id", name="uq_peer_messages_peer_message_id"),
    )
    op.create_index("ix_peer_messages_submission_id", "peer_messages", ["submission_id", "peer"])
    op.create_table(
        "peer_inbox",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("peer", sa.String(80), nullable=False),
        sa.Column("peer_message_id", sa.String(200), nullable=True),
        sa.Column("submission_id", sa.String(36), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("relates_to", sa.String(200), nullable=True),
        sa.Column("local_uid", sa.String(200), nullable=True),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.Column("content_type", sa.String(120), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("codec", sa.String(20), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submissions.id"], name="fk_peer_inbox_submission_id_submissions", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], name="fk_peer_inbox_event_id_events", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_peer_inbox"),
        sa.UniqueConstraint("peer", "peer_message_id", name="uq_peer_inbox_peer_peer_message_id"),
    )
    op.create_index("ix_peer_inbox_kind", "peer_inbox", ["kind", "recorded_at"])
    op.create_table(
        "peer_receivers",
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("owner", sa.String(120), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_peer_receivers"),
    )


def downgrade() -> None:
    op.drop_table("peer_receivers")
    op.drop_index("ix_peer_inbox_kind", table_name="peer_inbox")
    op.drop_table("peer_inbox")
    op.drop_index("ix_peer_messages_submission_id", table_name="peer_messages")
    op.drop_table("peer_messages")

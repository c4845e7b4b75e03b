"""Requests peers send the gateway as a provider (SMEV 3 GetRequest), recorded once with their
envelope sealed, and the answers owed to them (persisted with their own message id before sending).

Revision ID: 0013_peer_requests
Revises: 0008_inbound_documents
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.journal.schema import UtcDateTime

revision = "0013_peer_requests"
down_revision = "0012_claim_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "peer_requests",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("peer", sa.String(80), nullable=False),
        sa.Column("message_id", sa.String(200), nullable=False),
        sa.Column("reply_to", sa.Text(), nullable=True),
        sa.Column("sender", sa.String(200), nullable=True),
        sa.Column("content_namespace", sa.String(500), nullable=True),
        sa.Column("content_root", sa.String(200), nullable=True),
        sa.Column("trusted", sa.Boolean(), nullable=False),
        sa.Column("code", sa.String(60), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("seen", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(120), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("codec", sa.String(20), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("answer_state", sa.String(20), nullable=True),
        sa.Column("answer_kind", sa.String(20), nullable=True),
        sa.Column("answer_body", sa.LargeBinary(), nullable=True),
        sa.Column("answer_message_id", sa.String(200), nullable=True),
        sa.Column("answer_attempts", sa.Integer(), nullable=False),
        sa.Column("answer_next_at", UtcDateTime(), nullable=True),
        sa.Column("answer_code", sa.String(120), nullable=True),
        sa.Column("answer_text", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.String(200), nullable=True),
        sa.Column("answered_at", UtcDateTime(), nullable=True),
        sa.Column("answer_sent_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_peer_requests"),
        sa.UniqueConstraint("peer", "message_id", name="uq_peer_requests_peer_message_id"),
    )
    op.create_index("ix_peer_requests_answer", "peer_requests", ["peer", "answer_state"])


def downgrade() -> None:
    op.drop_index("ix_peer_requests_answer", table_name="peer_requests")
    op.drop_table("peer_requests")

"""The inbound direction: documents addressed to the organisations the gateway serves, the MIS's
acknowledgements, their timeline, their webhook outbox, and named counters/cursors (the offer
sequence, discovery windows).

Revision ID: 0008_inbound_documents
Revises: 0007_peer_messages
Create Date: 2026-12-03
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from gateway.journal.schema import UtcDateTime

revision = "0008_inbound_documents"
down_revision = "0007_peer_messages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_documents",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("peer", sa.String(80), nullable=False),
        sa.Column("peer_document_id", sa.String(200), nullable=False),
        sa.Column("peer_ids", sa.JSON(), nullable=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("recipient_oid", sa.String(200), nullable=False),
        sa.Column("local_uid", sa.String(200), nullable=True),
        sa.Column("author_oid", sa.String(200), nullable=True),
        sa.Column("referral_local_uid", sa.String(200), nullable=True),
        sa.Column("submission_id", sa.String(36), nullable=True),
        sa.Column("patient_key", sa.String(64), nullable=True),
        sa.Column("final", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("reason_code", sa.String(60), nullable=True),
        sa.Column("reason_message", sa.Text(), nullable=True),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("codec", sa.String(20), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("registered_at", UtcDateTime(), nullable=True),
        sa.Column("offer_seq", sa.BigInteger(), nullable=True),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name="fk_inbound_documents_submission_id_submissions",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_inbound_documents"),
        sa.UniqueConstraint("offer_seq", name="uq_inbound_documents_offer_seq"),
        sa.UniqueConstraint("peer", "peer_document_id", name="uq_inbound_documents_peer_peer_document_id"),
        sa.UniqueConstraint("recipient_oid", "sha256", name="uq_inbound_documents_recipient_oid_sha256"),
    )
    op.create_index("ix_inbound_documents_offers", "inbound_documents", ["recipient_oid", "offer_seq"])
    op.create_index("ix_inbound_documents_referral", "inbound_documents", ["referral_local_uid", "recipient_oid"])
    op.create_index("ix_inbound_documents_submission_id", "inbound_documents", ["submission_id"])
    op.create_index("ix_inbound_documents_state", "inbound_documents", ["state", "received_at"])
    op.create_table(
        "inbound_acks",
        sa.Column("document_id", sa.String(36), nullable=False),
        sa.Column("client_id", sa.String(36), nullable=False),
        sa.Column("acked_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["inbound_documents.id"],
            name="fk_inbound_acks_document_id_inbound_documents",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name="fk_inbound_acks_client_id_clients", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("document_id", "client_id", name="pk_inbound_acks"),
    )
    op.create_table(
        "inbound_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("document_id", sa.String(36), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("code", sa.String(120), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["inbound_documents.id"],
            name="fk_inbound_events_document_id_inbound_documents",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_inbound_events"),
    )
    op.create_index("ix_inbound_events_document_id", "inbound_events", ["document_id", "id"])
    op.create_table(
        "inbound_notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("document_id", sa.String(36), nullable=False),
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
            ["document_id"],
            ["inbound_documents.id"],
            name="fk_inbound_notices_document_id_inbound_documents",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name="fk_inbound_notices_client_id_clients", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_inbound_notices"),
        sa.UniqueConstraint(
            "document_id", "client_id", "channel", name="uq_inbound_notices_document_id_client_id_channel"
        ),
    )
    op.create_index("ix_inbound_notices_due", "inbound_notices", ["state", "next_attempt_at"])
    op.create_table(
        "inbound_cursors",
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=True),
        sa.Column("position", UtcDateTime(), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_inbound_cursors"),
    )
    # The offer sequence's counter row exists from the start: two first offers on PostgreSQL
    # then queue on its row lock instead of racing to create it.
    cursors = sa.table(
        "inbound_cursors",
        sa.column("name", sa.String),
        sa.column("number", sa.BigInteger),
        sa.column("updated_at", UtcDateTime()),
    )
    op.bulk_insert(cursors, [{"name": "offer-seq", "number": 0, "updated_at": datetime.now(UTC)}])


def downgrade() -> None:
    op.drop_table("inbound_cursors")
    op.drop_index("ix_inbound_notices_due", table_name="inbound_notices")
    op.drop_table("inbound_notices")
    op.drop_index("ix_inbound_events_document_id", table_name="inbound_events")
    op.drop_table("inbound_events")
    op.drop_table("inbound_acks")
    op.drop_index("ix_inbound_documents_state", table_name="inbound_documents")
    op.drop_index("ix_inbound_documents_submission_id", table_name="inbound_documents")
    op.drop_index("ix_inbound_documents_referral", table_name="inbound_documents")
    op.drop_index("ix_inbound_documents_offers", table_name="inbound_documents")
    op.drop_table("inbound_documents")

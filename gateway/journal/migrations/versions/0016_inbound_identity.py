"""Index inbound documents by (recipient_oid, local_uid): the document's own identity.

A document addressed to an MO may arrive by two routes (the ЕАВИИАС notice over SMEV 3 and REMD
discovery). It is recorded once by its bytes (the unique (recipient_oid, sha256)); a *different*
document carrying the localUid of one already offered to the MIS is flagged rather than offered
a second time (docs/inbound.md, "One document, two routes"). This index makes that look-up a
search, not a scan of every document the MO ever received.

Revision ID: 0016_inbound_identity
Revises: 0015_growth_indexes
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0016_inbound_identity"
down_revision = "0015_growth_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_inbound_documents_identity", "inbound_documents", ["recipient_oid", "local_uid"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_inbound_documents_identity", table_name="inbound_documents")

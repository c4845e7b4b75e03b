"""Index submissions by (state, destination, next_attempt_at) for the delivery claim.

The delivery loop claims ``state IN (QUEUED, RETRY_WAIT) AND destination = :peer`` due by
``next_attempt_at``. With (state, next_attempt_at) and (destination, local_uid) the only
candidates, SQLite chose the destination index — every row ever sent to that peer — and a claim
took 0.4 s over 100,000 submissions (EXPLAIN QUERY PLAN; ``bench journal-growth``: gateway CPU per
document 37 → 115 ms with 300,000 rows pre-loaded). With this index a claim is a search of the
open rows of that state and peer whatever the journal's size (0.8 ms over the same 100,000).

Revision ID: 0012_claim_index
Revises: 0007_peer_messages
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0012_claim_index"
down_revision = "0011_ksi_marks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_submissions_claim", "submissions", ["state", "destination", "next_attempt_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_submissions_claim", table_name="submissions")

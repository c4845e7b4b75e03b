"""Partial indexes for periodic work over a large journal, and the retention columns.

``bench journal-growth`` with 1,000,000 submissions pre-loaded: the alert evaluation built the
30-day SLA report from every submission of the window (3.2 s of the gateway's CPU per check) and
counted flagged and refused submissions by scanning their whole history. These indexes hold only
the rows such questions are about — not yet registered/rejected/failed (by arrival), FAILED (by
peer and time), flagged, and final but not yet archived (by last change, for the retention job) —
so each stays the size of the backlog or the window however long the journal's history grows.
``ix_ksi_marks_peer`` answers "does this peer report KSI milestones" without reading every mark.

``archived_at`` / ``archive_ref`` record when a final submission's envelopes left the journal and
where they went (gateway.journal.archive).

Revision ID: 0015_growth_indexes
Revises: 0014_list_indexes
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.journal.schema import FAILED_SQL, FLAGGED_SQL, TO_ARCHIVE_SQL, UNREGISTERED_SQL, UtcDateTime

revision = "0015_growth_indexes"
down_revision = "0014_list_indexes"
branch_labels = None
depends_on = None

_PARTIAL = (
    ("ix_submissions_unregistered", ["created_at"], UNREGISTERED_SQL),
    ("ix_submissions_failed", ["destination", "updated_at"], FAILED_SQL),
    ("ix_submissions_flagged", ["updated_at"], FLAGGED_SQL),
    ("ix_submissions_to_archive", ["updated_at"], TO_ARCHIVE_SQL),
)


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("archived_at", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("archive_ref", sa.String(300), nullable=True))
    for name, columns, where in _PARTIAL:
        text = sa.text(where)
        op.create_index(name, "submissions", columns, unique=False, sqlite_where=text, postgresql_where=text)
    op.create_index("ix_ksi_marks_peer", "ksi_marks", ["peer"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_ksi_marks_peer", table_name="ksi_marks")
    for name, _, _ in reversed(_PARTIAL):
        op.drop_index(name, table_name="submissions")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("archive_ref")
        batch.drop_column("archived_at")

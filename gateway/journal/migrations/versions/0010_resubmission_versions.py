"""Versions of a submission: a document corrected after a rejection or a permanent failure may be
resent under the same localUid; it becomes version N+1 of that (source system, localUid) and names
the version it supersedes.

Existing rows become version 1. The unique key (source_system, local_uid) widens to
(source_system, local_uid, version); downgrading deletes nothing but fails while any
localUid has more than one version (the narrower key could not hold them).

Revision ID: 0010_resubmission_versions
Revises: 0007_peer_messages
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_resubmission_versions"
down_revision = "0009_operations_console"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
        batch.add_column(sa.Column("supersedes", sa.String(36), nullable=True))
        batch.drop_constraint("uq_submissions_source_system_local_uid", type_="unique")
        batch.create_unique_constraint(
            "uq_submissions_source_system_local_uid_version", ["source_system", "local_uid", "version"]
        )
        batch.create_index("ix_submissions_supersedes", ["supersedes"])


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_index("ix_submissions_supersedes")
        batch.drop_constraint("uq_submissions_source_system_local_uid_version", type_="unique")
        batch.create_unique_constraint("uq_submissions_source_system_local_uid", ["source_system", "local_uid"])
        batch.drop_column("supersedes")
        batch.drop_column("version")

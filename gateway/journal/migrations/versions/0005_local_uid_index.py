"""Index submissions by (local_uid, organization_oid, kind) for the duplicate rule.

Revision ID: 0005_local_uid_index
Revises: 0004_ui
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0005_local_uid_index"
down_revision = "0004_ui"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_submissions_local_uid", "submissions", ["local_uid", "organization_oid", "kind"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_submissions_local_uid", table_name="submissions")

"""A submission's outcome message in both languages (``submissions.outcome_text``).

The gateway words some outcomes itself — an FLK rejection (its first finding), "no route", an
operator's cancel — and journalled them in one language only, so the REST list and the CSV export
showed them so whatever the reader asked for. ``outcome_text`` holds ``{"ru": …, "en": …}`` for
those; a peer's own words, and rows journalled before this revision, leave it NULL and keep
showing ``outcome_message`` as it is (docs/languages.md). Nothing is backfilled: an old row's
message has no second language to recover.

Revision ID: 0017_outcome_text
Revises: 0016_inbound_identity
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_outcome_text"
down_revision = "0016_inbound_identity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("outcome_text", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("outcome_text")

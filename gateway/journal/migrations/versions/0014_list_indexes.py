"""Indexes the operator lists need at a million journal rows (issue 19; docs/benchmarks.md,
"Operator lists over 1,000,000 rows").

- ``(created_at, id)`` replaces ``(created_at)``: a list is ordered by both, and with only the
  first SQLite sorted every run of equal timestamps in a temporary B-tree and the keyset cursor
  (``created_at``, ``id``) could not be sought.
- ``(kind, created_at, region, state, outcome_source)``: the kind filter was the one list filter
  without an index of its own. It carries the overview funnel's columns because, once SQLite's
  statistics know kind has few values, the planner reads the funnel's period by a skip-scan of
  this index (ANY(kind), created_at range); with ``(kind, created_at)`` alone that skip-scan
  fetched every row from the table (9.2 s instead of 2.6 s over 1,000,000 rows at load 26);
  covering, it costs what ix_submissions_overview does.
- ``(state, outcome_code, id)``: the grouped causes ("18 DEAD = 12 HTTP_503 + 6 RATE_LIMIT") read
  the index alone instead of every matching row; with ``id`` the "needs an operator" rule (DEAD
  without a disposition, probed by id) is answered from it too.
- ``(flagged, updated_at)`` (``ix_submissions_flagged_updated``): the queue page counted and
  listed the few flagged submissions by reading all of them (1,000,000 rows: 1.6–2.9 s for the
  page, most of it this scan).
- PostgreSQL only, ``text_pattern_ops`` on ``local_uid`` and ``organization_oid``: the prefix
  search is a code-point range (``~>=~``/``~<~``, gateway.ui.lists.starts_with) that a default
  btree under a non-C collation cannot seek. SQLite's BINARY indexes already led by these columns
  (ix_submissions_local_uid, ix_submissions_org_kind) serve the same range.

Revision ID: 0014_list_indexes
Revises: 0013_peer_requests
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0014_list_indexes"
down_revision = "0013_peer_requests"
branch_labels = None
depends_on = None

_INDEXES = (
    ("ix_submissions_created_id", ["created_at", "id"]),
    ("ix_submissions_kind_created", ["kind", "created_at", "region", "state", "outcome_source"]),
    ("ix_submissions_state_code", ["state", "outcome_code", "id"]),
    ("ix_submissions_flagged_updated", ["flagged", "updated_at"]),
)
_PREFIX = (
    ("ix_submissions_local_uid_prefix", "local_uid"),
    ("ix_submissions_oid_prefix", "organization_oid"),
)


def upgrade() -> None:
    op.drop_index("ix_submissions_created_at", table_name="submissions")
    for name, columns in _INDEXES:
        op.create_index(name, "submissions", columns)
    if op.get_bind().dialect.name == "postgresql":
        for name, column in _PREFIX:
            op.create_index(name, "submissions", [column], postgresql_ops={column: "text_pattern_ops"})


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, _ in reversed(_PREFIX):
            op.drop_index(name, table_name="submissions")
    for name, _ in reversed(_INDEXES):
        op.drop_index(name, table_name="submissions")
    op.create_index("ix_submissions_created_at", "submissions", ["created_at"])

"""Tables of the monitoring UI, on the journal's MetaData (one migration history, one drift test):
operator accounts, their sessions, the operator audit trail and the alert state."""

from __future__ import annotations

import sqlalchemy as sa

from gateway.journal.schema import UtcDateTime, events, metadata, submissions

__all__ = ["alert_state", "operator_tokens", "ui_audit", "ui_dispositions", "ui_sessions", "ui_users"]

ui_users = sa.Table(
    "ui_users",
    metadata,
    sa.Column("username", sa.String(80), primary_key=True),
    sa.Column("password_hash", sa.String(255), nullable=False),  # argon2id, salted
    sa.Column("role", sa.String(12), nullable=False),  # viewer | operator | admin
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("disabled_at", UtcDateTime()),
)

# Server-side sessions: the cookie carries a random token, the table only its SHA-256 (a stolen
# database cannot be replayed as cookies), and logout or disabling a user takes effect at once.
ui_sessions = sa.Table(
    "ui_sessions",
    metadata,
    sa.Column("token_sha256", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(80), sa.ForeignKey("ui_users.username", ondelete="CASCADE"), nullable=False),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("last_seen_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
)
sa.Index("ix_ui_sessions_expires_at", ui_sessions.c.expires_at)

# Who did what to which submission, when and why. Kept apart from the timeline so that it
# survives a submission's deletion and can be exported for an audit on its own.
ui_audit = sa.Table(
    "ui_audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("username", sa.String(80), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),  # resend | resolve | cancel | login | ...
    sa.Column("submission_id", sa.String(36)),
    sa.Column("from_state", sa.String(20)),
    sa.Column("to_state", sa.String(20)),
    sa.Column("comment", sa.Text),
    sa.Column("outcome", sa.String(20), nullable=False),  # ok | refused
)
sa.Index("ix_ui_audit_submission_id", ui_audit.c.submission_id, ui_audit.c.id)
sa.Index("ix_ui_audit_at", ui_audit.c.at)

# An operator's closing word on a submission the state machine cannot close itself: "resolved"
# (handled outside the gateway) or "cancelled" (must not be sent). The journal state is left as it is
# (DEAD/FAILED); dashboards and alerts leave such submissions out of what needs attention.
ui_dispositions = sa.Table(
    "ui_dispositions",
    metadata,
    sa.Column("submission_id", sa.String(36), sa.ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("disposition", sa.String(12), nullable=False),  # resolved | cancelled
    sa.Column("username", sa.String(80), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("comment", sa.Text, nullable=False),
)

# One row per alert rule: the open/closed state and when it last notified, so a condition that
# stays true sends one alert (and a re-notify after the interval), and its end one resolved notice.
alert_state = sa.Table(
    "alert_state",
    metadata,
    sa.Column("name", sa.String(80), primary_key=True),
    sa.Column("firing", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("value", sa.Float),
    sa.Column("since", UtcDateTime()),
    sa.Column("last_notified_at", UtcDateTime()),
    sa.Column("resolved_at", UtcDateTime()),
    sa.Column("last_error", sa.Text),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    # An operator's acknowledgement (of this firing: cleared when the alert resolves) and silence
    # (no webhook notices until silenced_until, whatever the state; the page still shows it).
    sa.Column("acked_by", sa.String(80)),
    sa.Column("acked_at", UtcDateTime()),
    sa.Column("silenced_until", UtcDateTime()),
    sa.Column("silenced_by", sa.String(80)),
    sa.Column("silence_comment", sa.Text),
)

# Tokens of the operator API (/api/v1/operator/...), apart from the MIS clients' tokens: a
# "reader" may list, an "operator" may also act. 256-bit random tokens: SHA-256 is the verifier.
operator_tokens = sa.Table(
    "operator_tokens",
    metadata,
    sa.Column("name", sa.String(80), primary_key=True),
    sa.Column("role", sa.String(12), nullable=False),  # reader | operator
    sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("revoked_at", UtcDateTime()),
)

# Indexes for the dashboard's aggregations over the journal's own tables.
# Covering for the overview funnel: the GROUP BY reads the index only, never the table.
sa.Index(
    "ix_submissions_overview",
    submissions.c.created_at,
    submissions.c.kind,
    submissions.c.region,
    submissions.c.state,
    submissions.c.outcome_source,
)
sa.Index("ix_events_to_state_at", events.c.to_state, events.c.at)
# The operator lists' filters (gateway.ui.lists): each is an equality on a leading column, newest first.
sa.Index("ix_submissions_state_created", submissions.c.state, submissions.c.created_at)
sa.Index("ix_submissions_code_created", submissions.c.outcome_code, submissions.c.created_at)
sa.Index("ix_submissions_region_created", submissions.c.region, submissions.c.created_at)
sa.Index("ix_submissions_source_created", submissions.c.source_system, submissions.c.created_at)
sa.Index("ix_submissions_destination_created", submissions.c.destination, submissions.c.created_at)
# Covering for the overview funnel too: SQLite may read a period by a skip-scan of this index
# (migration 0014 says what it cost when it was not covering).
sa.Index(
    "ix_submissions_kind_created",
    submissions.c.kind,
    submissions.c.created_at,
    submissions.c.region,
    submissions.c.state,
    submissions.c.outcome_source,
)
# Flagged submissions (a contradiction for an operator to look at) are few; the flagged list seeks
# them ("flagged = true": PostgreSQL seeks no index for "flagged IS true"). The alert count uses the
# partial ix_submissions_flagged of migration 0015 instead; SQLite would not pick that one for a
# list ordered by creation.
sa.Index("ix_submissions_flagged_updated", submissions.c.flagged, submissions.c.updated_at)
# The grouped causes read (state, last code) from the index alone, and "needs an operator" (DEAD
# without a disposition, probed by id) too.
sa.Index("ix_submissions_state_code", submissions.c.state, submissions.c.outcome_code, submissions.c.id)
# The prefix search on PostgreSQL (gateway.ui.lists.starts_with compares by code point with the
# text_pattern_ops operators); SQLite's BINARY indexes led by these columns already serve it.
sa.Index(
    "ix_submissions_local_uid_prefix", submissions.c.local_uid, postgresql_ops={"local_uid": "text_pattern_ops"}
).ddl_if(dialect="postgresql")
sa.Index(
    "ix_submissions_oid_prefix",
    submissions.c.organization_oid,
    postgresql_ops={"organization_oid": "text_pattern_ops"},
).ddl_if(dialect="postgresql")

"""Journal tables (SQLAlchemy Core). Alembic migrations must match this metadata exactly; a test
compares them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

__all__ = [
    "FAILED_SQL",
    "FLAGGED_SQL",
    "TO_ARCHIVE_SQL",
    "UNREGISTERED_SQL",
    "UtcDateTime",
    "envelopes",
    "events",
    "inbound_acks",
    "inbound_cursors",
    "inbound_documents",
    "inbound_events",
    "inbound_notices",
    "ksi_marks",
    "metadata",
    "payloads",
    "peer_inbox",
    "peer_messages",
    "peer_receivers",
    "peer_requests",
    "submissions",
]

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """Aware UTC datetimes on every dialect. SQLite has no time zones: values are stored as naive
    UTC and come back aware, so comparisons and ordering work the same on both databases."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the journal; use aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


submissions = sa.Table(
    "submissions",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("source_system", sa.String(200), nullable=False),
    sa.Column("local_uid", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("organization_oid", sa.String(200), nullable=False),
    sa.Column("patient_key", sa.String(64)),
    sa.Column("region", sa.String(20)),
    sa.Column("destination", sa.String(80)),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UtcDateTime()),
    sa.Column("answer_deadline", UtcDateTime()),
    sa.Column("outcome_code", sa.String(120)),
    sa.Column("outcome_message", sa.Text),
    sa.Column("outcome_text", sa.JSON(none_as_null=True)),  # {"ru", "en"} when the gateway wrote it (0017)
    sa.Column("peer_registration_id", sa.String(200)),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("callback_url", sa.Text),
    sa.Column("origin", sa.String(20), nullable=False, server_default="rest"),  # intake channel
    sa.Column("origin_ref", sa.String(200)),  # e.g. the MIS's SOAP MessageID, for relatesToMessage
    # Delivery bookkeeping: how the outcome became known ("peer", "callback", "reconciled",
    # "operator"), reconciliation lookups and resubmissions so far, and an operator flag for
    # contradictions (a late callback that disagrees with a reconciled outcome).
    sa.Column("outcome_source", sa.String(20)),
    sa.Column("reconcile_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("resubmits", sa.Integer, nullable=False, server_default="0"),
    sa.Column("flagged", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("lease_owner", sa.String(120)),
    sa.Column("lease_until", UtcDateTime()),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    # A corrected document resent under the same localUid after a rejection or a permanent failure
    # is a new version (1, 2, ...) naming the one it supersedes; earlier versions stay as they were.
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("supersedes", sa.String(36)),
    # Retention (gateway.journal.archive): when a final submission's envelopes left the journal and
    # where they went ("deleted", or the archive file's path relative to the archive directory).
    sa.Column("archived_at", UtcDateTime()),
    sa.Column("archive_ref", sa.String(300)),
    sa.UniqueConstraint("source_system", "local_uid", "version"),
)
# The claim query scans by (state, next_attempt_at); the UI filters by these.
sa.Index("ix_submissions_due", submissions.c.state, submissions.c.next_attempt_at)
sa.Index("ix_submissions_patient_key", submissions.c.patient_key)
sa.Index("ix_submissions_peer_registration_id", submissions.c.peer_registration_id)
# Lists are ordered by (created_at, id) and paged by that key (gateway.ui.lists).
sa.Index("ix_submissions_created_id", submissions.c.created_at, submissions.c.id)
sa.Index("ix_submissions_org_kind", submissions.c.organization_oid, submissions.c.kind)
sa.Index("ix_submissions_deadline", submissions.c.state, submissions.c.answer_deadline)
sa.Index("ix_submissions_peer_key", submissions.c.destination, submissions.c.local_uid)
# The duplicate rule looks documents up by (localUid, organisation, kind) on every validation; with
# only (organisation, kind) indexed that was a scan of the organisation's whole history.
sa.Index("ix_submissions_supersedes", submissions.c.supersedes)
sa.Index("ix_submissions_local_uid", submissions.c.local_uid, submissions.c.organization_oid, submissions.c.kind)
# The delivery claim (state, peer, due time): without it SQLite searched the peer's whole history
# (migration 0014 says what was measured).
sa.Index("ix_submissions_claim", submissions.c.state, submissions.c.destination, submissions.c.next_attempt_at)
# Partial indexes (migration 0015) over the few rows periodic work looks at, so the alert rules and
# the retention job cost what the backlog or the window costs, not what the journal's history does.
# SQLite uses a partial index only when the query repeats its WHERE term word for word, so the
# queries use these same texts (gateway.journal.partial).
UNREGISTERED_SQL: Final = "state NOT IN ('REGISTERED', 'REJECTED', 'FAILED')"
FAILED_SQL: Final = "state = 'FAILED'"
FLAGGED_SQL: Final = "flagged"
TO_ARCHIVE_SQL: Final = "state IN ('CANCELLED', 'FAILED', 'REGISTERED', 'REJECTED') AND archived_at IS NULL"


def _partial(name: str, where: str, *columns: sa.Column[Any]) -> sa.Index:
    text = sa.text(where)
    return sa.Index(name, *columns, sqlite_where=text, postgresql_where=text)


_partial("ix_submissions_unregistered", UNREGISTERED_SQL, submissions.c.created_at)
_partial("ix_submissions_failed", FAILED_SQL, submissions.c.destination, submissions.c.updated_at)
_partial("ix_submissions_flagged", FLAGGED_SQL, submissions.c.updated_at)
_partial("ix_submissions_to_archive", TO_ARCHIVE_SQL, submissions.c.updated_at)

# The submission as received (canonical JSON with the document and signatures), compressed and
# encrypted. A separate table keeps the hot submissions rows narrow.
payloads = sa.Table(
    "payloads",
    metadata,
    sa.Column("submission_id", sa.String(36), sa.ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("codec", sa.String(20), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("submission_id", sa.String(36), sa.ForeignKey("submissions.id", ondelete="CASCADE"), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),  # "state", "note", "callback", "operator", ...
    sa.Column("from_state", sa.String(20)),
    sa.Column("to_state", sa.String(20)),
    sa.Column("actor", sa.String(120), nullable=False),
    sa.Column("code", sa.String(120)),
    sa.Column("message", sa.Text),
    sa.Column("details", sa.JSON),
)
sa.Index("ix_events_submission_id", events.c.submission_id, events.c.id)

envelopes = sa.Table(
    "envelopes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("submission_id", sa.String(36), sa.ForeignKey("submissions.id", ondelete="CASCADE"), nullable=False),
    sa.Column("event_id", sa.Integer, sa.ForeignKey("events.id", ondelete="SET NULL")),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("direction", sa.String(3), nullable=False),  # "out" to a peer, "in" from a peer
    sa.Column("peer", sa.String(80), nullable=False),
    sa.Column("content_type", sa.String(120), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("codec", sa.String(20), nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
)
sa.Index("ix_envelopes_submission_id", envelopes.c.submission_id)

# API clients (MIS, regional GIS). Tokens are 256-bit random values, so an unsalted SHA-256 is a
# sound verifier (no dictionary to attack); the callback HMAC key must be usable, so it is sealed.
clients = sa.Table(
    "clients",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("source_system", sa.String(200), nullable=False, unique=True),
    sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("organization_oids", sa.JSON, nullable=False),
    sa.Column("soap_client_entity_id", sa.String(80), unique=True),
    sa.Column("callback_key", sa.LargeBinary, nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("revoked_at", UtcDateTime()),
    # Hosts this client may name as callback_url / wsa:ReplyTo (gateway.wire.outbound); NULL: none.
    sa.Column("callback_hosts", sa.JSON),
)

# Outcome notices owed to senders: an outbox, retried from here until the receiver answers 2xx.
notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("submission_id", sa.String(36), sa.ForeignKey("submissions.id", ondelete="CASCADE"), nullable=False),
    sa.Column("client_id", sa.String(36), sa.ForeignKey("clients.id", ondelete="CASCADE")),
    sa.Column("channel", sa.String(20), nullable=False),  # "rest" (JSON + HMAC) | "remd-soap" (registerDocumentResult)
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),  # sealed
    sa.Column("state", sa.String(12), nullable=False),  # pending | delivered | dead
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("lease_owner", sa.String(120)),
    sa.Column("lease_until", UtcDateTime()),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("delivered_at", UtcDateTime()),
    sa.UniqueConstraint("submission_id", "channel"),
)
sa.Index("ix_notifications_due", notifications.c.state, notifications.c.next_attempt_at)

# -- peers' message identifiers and what peers sent back (issue 13 item 3, issue 14 item 2) -------

# The id of every message we sent a peer about a submission (REMD: our wsa:MessageID; SMEV: the
# MessageID UUID). Persisted before the first send and reused on every resend until the peer
# asks for a new one (retired_at set). An answer is attributed to a submission only through here.
peer_messages = sa.Table(
    "peer_messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("submission_id", sa.String(36), sa.ForeignKey("submissions.id", ondelete="CASCADE"), nullable=False),
    sa.Column("peer", sa.String(80), nullable=False),
    sa.Column("message_id", sa.String(200), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("retired_at", UtcDateTime()),
    sa.UniqueConstraint("peer", "message_id"),
)
sa.Index("ix_peer_messages_submission_id", peer_messages.c.submission_id, peer_messages.c.peer)

# Every answer a peer handed the core (callback or polled message), once per peer message id: a
# redelivered message finds its row and is not applied again. Attributed answers point at the
# timeline event that recorded them (their envelopes are in ``envelopes``); an answer to nothing we
# sent ("unattributed") never touches a submission and keeps its envelope here, sealed (bound to
# this row's id), for operators.
peer_inbox = sa.Table(
    "peer_inbox",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("peer", sa.String(80), nullable=False),
    sa.Column("peer_message_id", sa.String(200)),
    sa.Column("submission_id", sa.String(36), sa.ForeignKey("submissions.id", ondelete="CASCADE")),
    sa.Column("event_id", sa.Integer, sa.ForeignKey("events.id", ondelete="SET NULL")),
    sa.Column("kind", sa.String(20), nullable=False),  # outcome | progress | unattributed
    sa.Column("relates_to", sa.String(200)),
    sa.Column("local_uid", sa.String(200)),  # as the peer named it (unattributed: unverified)
    sa.Column("recorded_at", UtcDateTime(), nullable=False),
    sa.Column("content_type", sa.String(120)),
    sa.Column("size", sa.Integer),
    sa.Column("sha256", sa.String(64)),
    sa.Column("codec", sa.String(20)),
    sa.Column("body", sa.LargeBinary),
    sa.UniqueConstraint("peer", "peer_message_id"),
)
sa.Index("ix_peer_inbox_kind", peer_inbox.c.kind, peer_inbox.c.recorded_at)

# Receiver leases: exactly one process polls a peer's queue (SMEV GetResponse, ШЭП getMessages).
peer_receivers = sa.Table(
    "peer_receivers",
    metadata,
    sa.Column("name", sa.String(80), primary_key=True),
    sa.Column("owner", sa.String(120), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
)

# Requests peers sent *us* as a provider (SMEV 3 GetRequest), once per (peer, message_id), kept
# whatever their checks said with the incoming envelope sealed (bound to the row id). The answer
# (business content or a rejection) is written here before it is sent; its own message id is
# committed before the first send and reused on every resend (``answer_state``: owed → sent |
# refused). Not ``peer_inbox`` (answers about our own submissions) nor ``inbound_documents``
# (documents addressed to our organisations, of the kind table).
peer_requests = sa.Table(
    "peer_requests",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("peer", sa.String(80), nullable=False),
    sa.Column("message_id", sa.String(200), nullable=False),
    sa.Column("reply_to", sa.Text),
    sa.Column("sender", sa.String(200)),
    sa.Column("content_namespace", sa.String(500)),
    sa.Column("content_root", sa.String(200)),
    sa.Column("trusted", sa.Boolean, nullable=False),
    sa.Column("code", sa.String(60)),  # why it is not trusted
    sa.Column("reason", sa.Text),
    sa.Column("received_at", UtcDateTime(), nullable=False),
    sa.Column("seen", sa.Integer, nullable=False),  # deliveries recorded (a redelivery adds one)
    sa.Column("content_type", sa.String(120)),
    sa.Column("size", sa.Integer),
    sa.Column("sha256", sa.String(64)),
    sa.Column("codec", sa.String(20)),
    sa.Column("body", sa.LargeBinary),
    sa.Column("answer_state", sa.String(20)),  # None | owed | sent | refused
    sa.Column("answer_kind", sa.String(20)),  # business | rejected
    sa.Column("answer_body", sa.LargeBinary),  # sealed, bound to "<id>:answer"
    sa.Column("answer_message_id", sa.String(200)),
    sa.Column("answer_attempts", sa.Integer, nullable=False),
    sa.Column("answer_next_at", UtcDateTime()),
    sa.Column("answer_code", sa.String(120)),
    sa.Column("answer_text", sa.Text),
    sa.Column("answered_by", sa.String(200)),
    sa.Column("answered_at", UtcDateTime()),
    sa.Column("answer_sent_at", UtcDateTime()),
    sa.UniqueConstraint("peer", "message_id"),
)
sa.Index("ix_peer_requests_answer", peer_requests.c.peer, peer_requests.c.answer_state)

# -- the inbound direction (issue 16 item 2): documents addressed to our organisations -----------
# Named "inbound_*" so as not to be confused with ``peer_inbox`` (peers' answers about our own
# submissions). One row per document, kept with its bytes (sealed, bound to the row id) whatever
# its checks said; ``offer_seq`` is its place in the sequence the MIS pulls (assigned when it
# becomes deliverable, from the ``inbound_cursors`` counter row, so commits follow the sequence).
inbound_documents = sa.Table(
    "inbound_documents",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("peer", sa.String(80), nullable=False),
    sa.Column("peer_document_id", sa.String(200), nullable=False),
    sa.Column("peer_ids", sa.JSON),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("recipient_oid", sa.String(200), nullable=False),
    sa.Column("local_uid", sa.String(200)),  # the document's own localUid, when it could be read
    sa.Column("author_oid", sa.String(200)),  # the organisation that wrote it (the bureau)
    sa.Column("referral_local_uid", sa.String(200)),  # the referral it names
    sa.Column("submission_id", sa.String(36), sa.ForeignKey("submissions.id", ondelete="SET NULL")),
    sa.Column("patient_key", sa.String(64)),
    sa.Column("final", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("reason_code", sa.String(60)),
    sa.Column("reason_message", sa.Text),
    sa.Column("report", sa.JSON),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("codec", sa.String(20), nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("registered_at", UtcDateTime()),
    sa.Column("offer_seq", sa.BigInteger, unique=True),
    sa.Column("received_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("peer", "peer_document_id"),
    sa.UniqueConstraint("recipient_oid", "sha256"),
)
sa.Index("ix_inbound_documents_offers", inbound_documents.c.recipient_oid, inbound_documents.c.offer_seq)
sa.Index("ix_inbound_documents_referral", inbound_documents.c.referral_local_uid, inbound_documents.c.recipient_oid)
sa.Index("ix_inbound_documents_submission_id", inbound_documents.c.submission_id)
# the document's own identity: a different document under an offered one's localUid is flagged (0016)
sa.Index("ix_inbound_documents_identity", inbound_documents.c.recipient_oid, inbound_documents.c.local_uid)
sa.Index("ix_inbound_documents_state", inbound_documents.c.state, inbound_documents.c.received_at)

# The MIS's acknowledgements: an offered document is offered to a client until it acknowledges it.
inbound_acks = sa.Table(
    "inbound_acks",
    metadata,
    sa.Column(
        "document_id", sa.String(36), sa.ForeignKey("inbound_documents.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("client_id", sa.String(36), sa.ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("acked_at", UtcDateTime(), nullable=False),
)

# The timeline of an inbound document: received, flagged, linked, offered, operator actions, webhooks.
inbound_events = sa.Table(
    "inbound_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("document_id", sa.String(36), sa.ForeignKey("inbound_documents.id", ondelete="CASCADE"), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("actor", sa.String(120), nullable=False),
    sa.Column("code", sa.String(120)),
    sa.Column("message", sa.Text),
    sa.Column("details", sa.JSON),
)
sa.Index("ix_inbound_events_document_id", inbound_events.c.document_id, inbound_events.c.id)

# Webhook notices of inbound documents: the same outbox semantics as ``notifications`` (claimed,
# retried with backoff, dead after max age), one per (document, client, channel).
inbound_notices = sa.Table(
    "inbound_notices",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("document_id", sa.String(36), sa.ForeignKey("inbound_documents.id", ondelete="CASCADE"), nullable=False),
    sa.Column("client_id", sa.String(36), sa.ForeignKey("clients.id", ondelete="CASCADE")),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),  # sealed, bound to the document id
    sa.Column("state", sa.String(12), nullable=False),  # pending | delivered | dead
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("lease_owner", sa.String(120)),
    sa.Column("lease_until", UtcDateTime()),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("delivered_at", UtcDateTime()),
    sa.UniqueConstraint("document_id", "client_id", "channel"),
)
sa.Index("ix_inbound_notices_due", inbound_notices.c.state, inbound_notices.c.next_attempt_at)

# Named counters and positions: the offer sequence ("offer-seq") and each discovery's cursor
# ("discovery:<peer>:<recipient>:<kind>" → the end of the last window searched completely).
inbound_cursors = sa.Table(
    "inbound_cursors",
    metadata,
    sa.Column("name", sa.String(300), primary_key=True),
    sa.Column("number", sa.BigInteger),
    sa.Column("position", UtcDateTime()),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)
# KSI milestones of the MSE process per submission (gateway.monitoring.ksi): the first report of
# each milestone wins (a duplicate notice adds nothing). ``at`` is the peer's time of the event;
# ``recorded_at`` when the gateway recorded it.
ksi_marks = sa.Table(
    "ksi_marks",
    metadata,
    sa.Column("submission_id", sa.String(36), sa.ForeignKey("submissions.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(40), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("peer", sa.String(80), nullable=False),
    sa.Column("bureau", sa.String(80)),
    sa.Column("region", sa.String(20)),
    sa.Column("recorded_at", UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("submission_id", "name"),
)
sa.Index("ix_ksi_marks_name", ksi_marks.c.name, ksi_marks.c.at)
# Which peers report milestones, asked per open submission (migration 0015).
sa.Index("ix_ksi_marks_peer", ksi_marks.c.peer)

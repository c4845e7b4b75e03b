"""The journal's hot statements, built once with bind parameters.

Building an expression (``S.id == x``) and its cache key on every call was a measurable share of
the gateway's CPU per document (py-spy on bench delivery); a statement object that is reused keeps
its cache key.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from gateway.journal.schema import envelopes, events, payloads, submissions

__all__ = [
    "BY_PEER",
    "BY_PEER_AND_ORG",
    "GET",
    "GUARD",
    "GUARD_FOR_UPDATE",
    "INSERT_ENVELOPES",
    "INSERT_EVENT",
    "INSERT_PAYLOAD",
    "INSERT_SUBMISSION",
    "INSERT_SUBMISSIONS_NEW",
    "PAYLOAD",
    "UPDATE_IF_STATE",
    "UPDATE_IF_STATE_AND_OWNER",
    "S",
]

S = submissions.c

# The hot statements, built once with bind parameters: building an expression (``S.id == x``) and
# its cache key on every call was a measurable share of the gateway's CPU per document (py-spy on
# bench delivery); a statement object that is reused keeps its cache key.
GET = sa.select(submissions).where(S.id == sa.bindparam("sid"))
GUARD = sa.select(S.state, S.lease_owner, S.lease_until).where(S.id == sa.bindparam("sid"))
GUARD_FOR_UPDATE = GUARD.with_for_update()
PAYLOAD = sa.select(payloads.c.body).where(payloads.c.submission_id == sa.bindparam("sid"))
INSERT_EVENT = events.insert()
INSERT_SUBMISSION = submissions.insert()
INSERT_PAYLOAD = payloads.insert()
# Intake's group commit: a row whose (source system, localUid, version) is journalled already (a
# resend) is skipped instead of failing the batch; RETURNING says which rows were written.
INSERT_SUBMISSIONS_NEW = {
    "sqlite": sqlite_insert(submissions).on_conflict_do_nothing().returning(S.id),
    "postgresql": pg_insert(submissions).on_conflict_do_nothing().returning(S.id),
}
# SET comes from the execution parameters (plus .values() for counters): one statement object.
UPDATE_IF_STATE = (
    submissions.update()
    .where(S.id == sa.bindparam("sid"), S.state == sa.bindparam("current_state"))
    .returning(*submissions.c)
)
# The same, and only while the row is leased to ``owner``: a transition's guard in its UPDATE.
UPDATE_IF_STATE_AND_OWNER = (
    submissions.update()
    .where(
        S.id == sa.bindparam("sid"), S.state == sa.bindparam("current_state"), S.lease_owner == sa.bindparam("owner")
    )
    .returning(*submissions.c)
)
INSERT_ENVELOPES = envelopes.insert()
BY_PEER = (
    sa.select(submissions)
    .where(S.destination == sa.bindparam("destination"), S.local_uid == sa.bindparam("local_uid"))
    .order_by(S.created_at.desc())
    .limit(2)
)
BY_PEER_AND_ORG = (
    sa.select(submissions)
    .where(
        S.destination == sa.bindparam("destination"),
        S.local_uid == sa.bindparam("local_uid"),
        S.organization_oid == sa.bindparam("organization_oid"),
    )
    .order_by(S.created_at.desc())
    .limit(2)
)

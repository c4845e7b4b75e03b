"""The journal: the source of truth for where every submission stands.

All writes are short transactions. A state change, its timeline event and any envelopes it carries
are written together or not at all. Nothing is acknowledged to a sender before :meth:`Journal.submit`
has committed.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.common.clock import Clock, SystemClock
from gateway.common.pii import patient_key
from gateway.common.secrets import DeploymentSecret
from gateway.errors import ConcurrentUpdate, DuplicateConflict, GatewayError, NotFound
from gateway.journal.codec import CODEC_NAME, BodyCodec
from gateway.journal.engine import READ_ONLY
from gateway.journal.schema import clients, envelopes, events, notifications, payloads, submissions
from gateway.journal.states import check_transition
from gateway.model import EnvelopeIn, State, Submission, SubmissionDraft
from gateway.notices.build import build_notice, encode_notice

__all__ = [
    "UNCHANGED",
    "AlsoInTransaction",
    "Changes",
    "EnvelopeMeta",
    "Event",
    "InvalidCursor",
    "Journal",
    "SearchQuery",
]

AlsoInTransaction = Callable[[AsyncConnection, int], Awaitable[None]]
"""More writes in a transition's or note's transaction: ``(connection, event id)``."""


class _Unchanged:
    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Final = _Unchanged()


@dataclass(frozen=True, slots=True)
class Changes:
    """Column updates that travel with a transition. UNCHANGED leaves a column as it is; None
    clears it."""

    next_attempt_at: datetime | _Unchanged | None = UNCHANGED
    answer_deadline: datetime | _Unchanged | None = UNCHANGED
    outcome_code: str | _Unchanged | None = UNCHANGED
    outcome_message: str | _Unchanged | None = UNCHANGED
    peer_registration_id: str | _Unchanged | None = UNCHANGED
    destination: str | _Unchanged | None = UNCHANGED
    outcome_source: str | _Unchanged | None = UNCHANGED
    count_attempt: bool = False
    count_reconcile: bool = False
    count_resubmit: bool = False

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in (
            "next_attempt_at",
            "answer_deadline",
            "outcome_code",
            "outcome_message",
            "peer_registration_id",
            "destination",
            "outcome_source",
        ):
            value = getattr(self, name)
            if value is not UNCHANGED:
                out[name] = value
        return out


@dataclass(frozen=True, slots=True)
class EnvelopeMeta:
    id: int
    submission_id: str
    event_id: int | None
    at: datetime
    direction: str
    peer: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    submission_id: str
    at: datetime
    kind: str
    from_state: State | None
    to_state: State | None
    actor: str
    code: str | None
    message: str | None
    details: dict[str, Any] = field(default_factory=dict)


_S = submissions.c

# The hot statements, built once with bind parameters: building an expression (``_S.id == x``) and
# its cache key on every call was a measurable share of the gateway's CPU per document (py-spy on
# bench delivery); a statement object that is reused keeps its cache key.
_GET = sa.select(submissions).where(_S.id == sa.bindparam("sid"))
_GUARD = sa.select(_S.state, _S.lease_owner).where(_S.id == sa.bindparam("sid"))
_GUARD_FOR_UPDATE = _GUARD.with_for_update()
_PAYLOAD = sa.select(payloads.c.body).where(payloads.c.submission_id == sa.bindparam("sid"))
_INSERT_EVENT = events.insert()
# SET comes from the execution parameters (plus .values() for counters): one statement object.
_UPDATE_IF_STATE = (
    submissions.update()
    .where(_S.id == sa.bindparam("sid"), _S.state == sa.bindparam("current_state"))
    .returning(*submissions.c)
)
_INSERT_ENVELOPES = envelopes.insert()
_BY_PEER = (
    sa.select(submissions)
    .where(_S.destination == sa.bindparam("destination"), _S.local_uid == sa.bindparam("local_uid"))
    .order_by(_S.created_at.desc())
    .limit(2)
)
_BY_PEER_AND_ORG = (
    sa.select(submissions)
    .where(
        _S.destination == sa.bindparam("destination"),
        _S.local_uid == sa.bindparam("local_uid"),
        _S.organization_oid == sa.bindparam("organization_oid"),
    )
    .order_by(_S.created_at.desc())
    .limit(2)
)


@dataclass(frozen=True, slots=True)
class SearchQuery:
    source_system: str | None = None
    local_uid: str | None = None
    kind: str | None = None
    organization_oid: str | None = None
    peer_registration_id: str | None = None
    region: str | None = None
    destination: str | None = None
    states: tuple[State, ...] = ()
    patient_id: str | None = None  # a full SNILS/IIN, matched by its keyed hash
    since: datetime | None = None
    until: datetime | None = None
    cursor: str | None = None
    limit: int = 50


def _encode_cursor(sub: Submission) -> str:
    raw = f"{sub.created_at.isoformat()}|{sub.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    """A forged cursor is refused here, whole: a NUL in it, or a date that overflows when the driver
    converts it to UTC (year 9999 with a negative offset), used to reach PostgreSQL as a 500."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, sid = raw.split("|", 1)
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is not None:
            moment.astimezone(UTC)  # raises OverflowError out of range
        if "\x00" in raw or len(sid) > 64:
            raise ValueError("not a submission id")
        return moment, sid
    except (ValueError, UnicodeDecodeError, OverflowError):
        raise InvalidCursor("the cursor is not one this API returned") from None


class InvalidCursor(GatewayError):
    code = "INVALID_CURSOR"
    http_status = 400


def _row_to_submission(row: sa.Row[Any]) -> Submission:
    m = row._mapping
    return Submission(
        id=m["id"],
        source_system=m["source_system"],
        local_uid=m["local_uid"],
        kind=m["kind"],
        organization_oid=m["organization_oid"],
        patient_key=m["patient_key"],
        region=m["region"],
        destination=m["destination"],
        state=State(m["state"]),
        attempts=m["attempts"],
        next_attempt_at=m["next_attempt_at"],
        answer_deadline=m["answer_deadline"],
        outcome_code=m["outcome_code"],
        outcome_message=m["outcome_message"],
        peer_registration_id=m["peer_registration_id"],
        content_hash=m["content_hash"],
        callback_url=m["callback_url"],
        origin=m["origin"],
        origin_ref=m["origin_ref"],
        outcome_source=m["outcome_source"],
        reconcile_attempts=m["reconcile_attempts"],
        resubmits=m["resubmits"],
        flagged=bool(m["flagged"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        lease_owner=m["lease_owner"],
        lease_until=m["lease_until"],
    )


class Journal:
    """Async access to the journal tables. Stateless apart from the engine: any number of
    processes may share one PostgreSQL database."""

    def __init__(self, engine: AsyncEngine, secret: DeploymentSecret, *, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock: Clock = clock or SystemClock()
        self._codec = BodyCodec(secret.derive("journal-bodies"))
        self._patient_secret = secret.derive("patient-key")
        self._postgres = engine.dialect.name == "postgresql"
        self._write_lock = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    # -- helpers -----------------------------------------------------------------------------

    def open_body(self, sealed: bytes, *, bind: str) -> bytes:
        return self._codec.open(sealed, bind=bind)

    def seal_body(self, body: bytes, *, bind: str) -> bytes:
        """Seal a body as envelopes are sealed (for journal modules outside this one)."""
        return self._codec.seal(body, bind=bind)

    def patient_key(self, person_id: str) -> str:
        return patient_key(self._patient_secret, person_id)

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction. On SQLite, writers of this process take turns on an asyncio lock
        before BEGIN IMMEDIATE: SQLite admits one writer at a time anyway, and waiting here costs
        nothing, while waiting in SQLite's busy handler sleeps in steps of up to 100 ms (measured:
        intake fell to 17 submissions/s under contention without this). Other processes sharing
        the file still queue on busy_timeout."""
        if self._write_lock is None:
            async with self.engine.begin() as conn:
                yield conn
            return
        async with self._write_lock, self.engine.begin() as conn:
            yield conn

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            yield await conn.execution_options(**{READ_ONLY: True})

    async def _insert_event(
        self,
        conn: AsyncConnection,
        submission_id: str,
        *,
        at: datetime,
        kind: str,
        actor: str,
        from_state: State | None = None,
        to_state: State | None = None,
        code: str | None = None,
        message: str | None = None,
        details: dict[str, Any] | None = None,
        envelopes_in: Iterable[EnvelopeIn] = (),
    ) -> int:
        result = await conn.execute(
            _INSERT_EVENT,
            {
                "submission_id": submission_id,
                "at": at,
                "kind": kind,
                "from_state": str(from_state) if from_state else None,
                "to_state": str(to_state) if to_state else None,
                "actor": actor,
                "code": code,
                "message": message,
                "details": details,
            },
        )
        event_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        rows = [
            {
                "submission_id": submission_id,
                "event_id": event_id,
                "at": at,
                "direction": env.direction,
                "peer": env.peer,
                "content_type": env.content_type,
                "size": len(env.body),
                "sha256": hashlib.sha256(env.body).hexdigest(),
                "codec": CODEC_NAME,
                "body": self._codec.seal(env.body, bind=submission_id),
            }
            for env in envelopes_in
        ]
        if rows:
            await conn.execute(_INSERT_ENVELOPES, rows)
        return event_id

    # -- intake ------------------------------------------------------------------------------

    async def submit(self, draft: SubmissionDraft, *, actor: str = "intake") -> tuple[Submission, bool]:
        """Journal a new submission durably, idempotently.

        Returns ``(submission, True)`` when created, ``(existing, False)`` when the same
        (source system, local_uid) was already journalled with the same content hash. Raises
        DuplicateConflict when it was journalled with different content.
        """
        # No look-up first: repeats are rare, and the unique key decides races anyway.
        now = self.clock.now()
        sid = str(uuid.uuid4())
        values: dict[str, Any] = {
            "id": sid,
            "source_system": draft.source_system,
            "local_uid": draft.local_uid,
            "kind": draft.kind,
            "organization_oid": draft.organization_oid,
            "patient_key": self.patient_key(draft.patient_id) if draft.patient_id else None,
            "region": draft.region,
            "destination": draft.destination,
            "state": str(State.RECEIVED),
            "attempts": 0,
            "content_hash": draft.content_hash,
            "callback_url": draft.callback_url,
            "origin": draft.origin,
            "origin_ref": draft.origin_ref,
            "created_at": now,
            "updated_at": now,
        }
        try:
            async with self.writing() as conn:
                await conn.execute(submissions.insert().values(**values))
                await conn.execute(
                    payloads.insert().values(
                        submission_id=sid,
                        codec=CODEC_NAME,
                        size=len(draft.payload),
                        body=self._codec.seal(draft.payload, bind=sid),
                    )
                )
                await self._insert_event(
                    conn, sid, at=now, kind="state", actor=actor, to_state=State.RECEIVED, message="received"
                )
        except IntegrityError:
            # Already journalled (a resend, or a concurrent identical submission).
            existing = await self.find(draft.source_system, draft.local_uid)
            if existing is None:
                raise
            return self._same_or_conflict(existing, draft), False
        return (
            Submission(
                **{k: v for k, v in values.items() if k not in {"state"}},
                state=State.RECEIVED,
                next_attempt_at=None,
                answer_deadline=None,
                outcome_code=None,
                outcome_message=None,
                peer_registration_id=None,
            ),
            True,
        )

    @staticmethod
    def _same_or_conflict(existing: Submission, draft: SubmissionDraft) -> Submission:
        if existing.content_hash != draft.content_hash:
            raise DuplicateConflict(
                "this local_uid was already submitted with different content",
                details={"id": existing.id, "local_uid": draft.local_uid},
            )
        return existing

    # -- reads -------------------------------------------------------------------------------

    async def get(self, submission_id: str) -> Submission:
        async with self._reading() as conn:
            row = (await conn.execute(_GET, {"sid": submission_id})).first()
        if row is None:
            raise NotFound(f"no submission {submission_id}")
        return _row_to_submission(row)

    async def find(self, source_system: str, local_uid: str) -> Submission | None:
        async with self._reading() as conn:
            row = (
                await conn.execute(
                    sa.select(submissions).where(_S.source_system == source_system, _S.local_uid == local_uid)
                )
            ).first()
        return _row_to_submission(row) if row else None

    async def payload(self, submission_id: str) -> bytes:
        async with self._reading() as conn:
            row = (await conn.execute(_PAYLOAD, {"sid": submission_id})).first()
        if row is None:
            raise NotFound(f"no payload for {submission_id}")
        return self._codec.open(row[0], bind=submission_id)

    async def events(self, submission_id: str) -> list[Event]:
        async with self._reading() as conn:
            rows = (
                await conn.execute(
                    sa.select(events).where(events.c.submission_id == submission_id).order_by(events.c.id)
                )
            ).all()
        return [
            Event(
                id=r.id,
                submission_id=r.submission_id,
                at=r.at,
                kind=r.kind,
                from_state=State(r.from_state) if r.from_state else None,
                to_state=State(r.to_state) if r.to_state else None,
                actor=r.actor,
                code=r.code,
                message=r.message,
                details=r.details or {},
            )
            for r in rows
        ]

    async def envelopes(self, submission_id: str) -> list[EnvelopeMeta]:
        cols = [c for c in envelopes.c if c.name not in {"body", "codec"}]
        async with self._reading() as conn:
            rows = (
                await conn.execute(
                    sa.select(*cols).where(envelopes.c.submission_id == submission_id).order_by(envelopes.c.id)
                )
            ).all()
        return [EnvelopeMeta(**r._mapping) for r in rows]

    async def envelope_body(self, envelope_id: int) -> bytes:
        async with self._reading() as conn:
            row = (
                await conn.execute(
                    sa.select(envelopes.c.submission_id, envelopes.c.body).where(envelopes.c.id == envelope_id)
                )
            ).first()
        if row is None:
            raise NotFound(f"no envelope {envelope_id}")
        return self._codec.open(row.body, bind=row.submission_id)

    async def search(self, query: SearchQuery) -> tuple[list[Submission], str | None]:
        """Newest first, keyset-paginated: returns a page and the cursor of the next page."""
        stmt = sa.select(submissions)
        q = query
        for column, value in (
            (_S.source_system, q.source_system),
            (_S.local_uid, q.local_uid),
            (_S.kind, q.kind),
            (_S.organization_oid, q.organization_oid),
            (_S.peer_registration_id, q.peer_registration_id),
            (_S.region, q.region),
            (_S.destination, q.destination),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        if q.states:
            stmt = stmt.where(_S.state.in_([str(s) for s in q.states]))
        if q.patient_id is not None:
            stmt = stmt.where(_S.patient_key == self.patient_key(q.patient_id))
        if q.since is not None:
            stmt = stmt.where(_S.created_at >= q.since)
        if q.until is not None:
            stmt = stmt.where(_S.created_at < q.until)
        if q.cursor is not None:
            at, sid = _decode_cursor(q.cursor)
            stmt = stmt.where(sa.or_(_S.created_at < at, sa.and_(_S.created_at == at, _S.id < sid)))
        stmt = stmt.order_by(_S.created_at.desc(), _S.id.desc()).limit(q.limit + 1)
        async with self._reading() as conn:
            rows = (await conn.execute(stmt)).all()
        items = [_row_to_submission(r) for r in rows[: q.limit]]
        cursor = _encode_cursor(items[-1]) if len(rows) > q.limit and items else None
        return items, cursor

    async def counts_by_state(self) -> dict[State, int]:
        async with self._reading() as conn:
            rows = (await conn.execute(sa.select(_S.state, sa.func.count()).group_by(_S.state))).all()
        counts = dict.fromkeys(State, 0)
        for state, n in rows:
            counts[State(state)] = int(n)
        return counts

    # -- writes ------------------------------------------------------------------------------

    async def transition(
        self,
        submission_id: str,
        to: State,
        *,
        actor: str,
        expected: State | Sequence[State] | None = None,
        lease_owner: str | None = None,
        keep_lease: bool = False,
        changes: Changes = Changes(),
        code: str | None = None,
        message: str | None = None,
        details: dict[str, Any] | None = None,
        envelopes_in: Iterable[EnvelopeIn] = (),
        also: AlsoInTransaction | None = None,
    ) -> Submission:
        """Move a submission to ``to`` with its event (and envelopes) in one transaction.

        ``expected`` guards against acting on a stale view (ConcurrentUpdate if the state moved);
        ``lease_owner`` guards against a worker whose lease expired (its claim went to another
        worker). A transition by the lease owner releases the lease, unless ``keep_lease`` (a
        step in the middle of the owner's work). ``also(conn, event_id)`` writes more in the same
        transaction (the peer inbox row that makes a peer's answer recorded once).
        """
        now = self.clock.now()
        async with self.writing() as conn:
            query = _GUARD_FOR_UPDATE if self._postgres else _GUARD
            row = (await conn.execute(query, {"sid": submission_id})).first()
            if row is None:
                raise NotFound(f"no submission {submission_id}")
            current = State(row.state)
            if expected is not None:
                allowed = {expected} if isinstance(expected, State) else set(expected)
                if current not in allowed:
                    raise ConcurrentUpdate(
                        f"submission is {current}, expected {', '.join(sorted(allowed))}",
                        details={"id": submission_id, "state": str(current)},
                    )
            if lease_owner is not None and row.lease_owner != lease_owner:
                raise ConcurrentUpdate(
                    "lease lost: the submission was claimed by another worker",
                    details={"id": submission_id, "owner": row.lease_owner},
                )
            check_transition(current, to)
            values: dict[str, Any] = {"state": str(to), "updated_at": now, **changes.values()}
            if lease_owner is not None and not keep_lease:
                values["lease_owner"] = None
                values["lease_until"] = None
            stmt = _UPDATE_IF_STATE
            counters = {
                column: _S[column] + 1
                for column, wanted in (
                    ("attempts", changes.count_attempt),
                    ("reconcile_attempts", changes.count_reconcile),
                    ("resubmits", changes.count_resubmit),
                )
                if wanted
            }
            if counters:
                stmt = stmt.values(**counters)
            params = {"sid": submission_id, "current_state": str(current), **values}
            updated_row = (await conn.execute(stmt, params)).first()
            if updated_row is None:
                raise ConcurrentUpdate("submission changed during the transition", details={"id": submission_id})
            event_id = await self._insert_event(
                conn,
                submission_id,
                at=now,
                kind="state",
                actor=actor,
                from_state=current,
                to_state=to,
                code=code,
                message=message,
                details=details,
                envelopes_in=envelopes_in,
            )
            if also is not None:
                await also(conn, event_id)
            updated = _row_to_submission(updated_row)
            if updated.is_final and updated.callback_url:
                await self._enqueue_notice(conn, updated, now)
        return updated

    async def _enqueue_notice(self, conn: AsyncConnection, sub: Submission, now: datetime) -> None:
        """Owe the sender a notice, in the transaction that made the state final. One per
        submission and channel: a later final state (an operator's resend that registers) replaces
        an undelivered one and re-arms a delivered one."""
        client_id = (
            await conn.execute(sa.select(clients.c.id).where(clients.c.source_system == sub.source_system))
        ).scalar_one_or_none()
        body = self._codec.seal(encode_notice(build_notice(sub)), bind=sub.id)
        values = {
            "client_id": client_id,
            "url": sub.callback_url,
            "body": body,
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "last_error": None,
            "lease_owner": None,
            "lease_until": None,
            "created_at": now,
            "delivered_at": None,
        }
        n = notifications.c
        result = await conn.execute(
            notifications.update().where(n.submission_id == sub.id, n.channel == sub.origin).values(**values)
        )
        if result.rowcount == 0:
            await conn.execute(notifications.insert().values(submission_id=sub.id, channel=sub.origin, **values))

    async def note(
        self,
        submission_id: str,
        *,
        kind: str,
        actor: str,
        code: str | None = None,
        message: str | None = None,
        details: dict[str, Any] | None = None,
        envelopes_in: Iterable[EnvelopeIn] = (),
        also: AlsoInTransaction | None = None,
    ) -> int:
        """Record a fact in the timeline without changing state (a late callback, an operator's
        comment, an envelope exchanged during reconciliation). ``also`` as in :meth:`transition`."""
        now = self.clock.now()
        async with self.writing() as conn:
            exists = (await conn.execute(sa.select(_S.id).where(_S.id == submission_id))).first()
            if exists is None:
                raise NotFound(f"no submission {submission_id}")
            event_id = await self._insert_event(
                conn,
                submission_id,
                at=now,
                kind=kind,
                actor=actor,
                code=code,
                message=message,
                details=details,
                envelopes_in=envelopes_in,
            )
            if also is not None:
                await also(conn, event_id)
            return event_id

    async def find_by_peer(
        self, destination: str, local_uid: str, organization_oid: str | None = None
    ) -> Submission | None:
        """The submission a peer's answer is about: peers know our documents by localUid (and
        organisation), not by the gateway's id."""
        params = {"destination": destination, "local_uid": local_uid}
        stmt = _BY_PEER
        if organization_oid:
            stmt, params = _BY_PEER_AND_ORG, {**params, "organization_oid": organization_oid}
        async with self._reading() as conn:
            rows = (await conn.execute(stmt, params)).all()
        return _row_to_submission(rows[0]) if rows else None

    async def flag(
        self, submission_id: str, *, actor: str, code: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        """Mark a submission for an operator (a contradiction the gateway must not resolve alone)
        and say why in the timeline."""
        now = self.clock.now()
        async with self.writing() as conn:
            await conn.execute(submissions.update().where(_S.id == submission_id).values(flagged=True, updated_at=now))
            await self._insert_event(
                conn, submission_id, at=now, kind="conflict", actor=actor, code=code, message=message, details=details
            )

    async def defer(self, submission_id: str, owner: str, until: datetime, *, column: str = "next_attempt_at") -> bool:
        """Give a claimed row back, due again at ``until``, without a state change (a circuit
        breaker holding sends, a peer's quota)."""
        async with self.writing() as conn:
            result = await conn.execute(
                submissions.update()
                .where(_S.id == submission_id, _S.lease_owner == owner)
                .values({column: until, "lease_owner": None, "lease_until": None})
            )
        return int(result.rowcount) == 1

    # -- work claiming -----------------------------------------------------------------------

    async def claim_due(
        self,
        owner: str,
        states: Iterable[State],
        *,
        limit: int,
        lease_seconds: float,
        due_column: str = "next_attempt_at",
        destinations: Iterable[str] | None = None,
    ) -> list[Submission]:
        """Hand each due row to exactly one worker, with a lease that expires.

        A row is due when its state is one of ``states``, ``due_column`` is at or before now (or
        unset) and it has no live lease. PostgreSQL: a single UPDATE over a ``FOR UPDATE SKIP
        LOCKED`` sub-select, so concurrent claimers skip each other's rows instead of waiting and
        the lease condition is re-checked on the locked row. SQLite: the same single statement
        inside BEGIN IMMEDIATE, which holds the database write lock, so claims are serialised.
        """
        now = self.clock.now()
        due = _S[due_column]
        candidates = (
            sa.select(_S.id)
            .where(
                _S.state.in_([str(s) for s in states]),
                sa.or_(due.is_(None), due <= now),
                sa.or_(_S.lease_until.is_(None), _S.lease_until < now),
            )
            .order_by(due.asc().nulls_first())
            .limit(limit)
        )
        if destinations is not None:
            candidates = candidates.where(_S.destination.in_(list(destinations)))
        if self._postgres:
            candidates = candidates.with_for_update(skip_locked=True)
        lease_until = now + timedelta(seconds=lease_seconds)
        stmt = (
            submissions.update()
            .where(_S.id.in_(candidates.scalar_subquery()))
            .values(lease_owner=owner, lease_until=lease_until)
            .returning(*submissions.c)
        )
        async with self.writing() as conn:
            rows = (await conn.execute(stmt)).all()
        return sorted((_row_to_submission(r) for r in rows), key=lambda s: (s.next_attempt_at or now, s.id))

    async def release(self, owner: str, submission_ids: Iterable[str] | None = None) -> int:
        """Give leases back (graceful shutdown, or a worker that will not finish some rows)."""
        stmt = submissions.update().where(_S.lease_owner == owner)
        ids = list(submission_ids) if submission_ids is not None else None
        if ids is not None:
            if not ids:
                return 0
            stmt = stmt.where(_S.id.in_(ids))
        async with self.writing() as conn:
            result = await conn.execute(stmt.values(lease_owner=None, lease_until=None))
        return int(result.rowcount)

    async def ping(self) -> None:
        async with self._reading() as conn:
            await conn.execute(sa.text("SELECT 1"))

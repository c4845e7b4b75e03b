"""Intake: the durable, idempotent first write of a submission, and looking submissions up.

**Group commit.** Concurrent first versions are written together: each :meth:`IntakeJournal.submit`
queues its rows and waits; one flusher task writes every queued submission in one transaction (an
executemany per table, one fsync) and only then wakes the waiters, so a sender is answered only
after its row is durable, exactly as with a transaction each. While a batch commits, the next one
gathers — under load a batch holds as many submissions as arrived during one commit, with no
timer and no wait when there is no load. A row whose key is journalled already (a resend, or
two copies in one batch) is skipped by ``ON CONFLICT DO NOTHING`` rather than failing the batch;
its caller then finds the original, as before.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from gateway.errors import DuplicateConflict, NotFound
from gateway.journal import statements as st
from gateway.journal.base import JournalBase
from gateway.journal.codec import CODEC_NAME
from gateway.journal.records import row_to_submission
from gateway.journal.schema import submissions
from gateway.journal.wakeup import announce
from gateway.model import RESUBMITTABLE_STATES, State, Submission, SubmissionDraft

__all__ = ["IntakeJournal"]


# Submissions written in one transaction at most (bounds the statement's parameters and the time
# the SQLite write lock is held).
_MAX_BATCH: Final = 64


class _Moved(Exception):
    """The version to supersede left its refused state (an operator resent it) meanwhile."""


@dataclass(slots=True)
class _Queued:
    """A first version waiting for the group commit: its rows and who waits for them."""

    values: dict[str, Any]
    payload: dict[str, Any]
    event: dict[str, Any]
    done: asyncio.Future[Submission | None]


class IntakeJournal(JournalBase):
    _queued: list[_Queued] | None = None
    _flusher: asyncio.Task[None] | None = None

    async def submit(self, draft: SubmissionDraft, *, actor: str = "intake") -> tuple[Submission, bool]:
        """Journal a new submission durably, idempotently.

        Returns ``(submission, True)`` when created, ``(existing, False)`` when the same
        (source system, local_uid) was already journalled with the same content hash. Different
        content under a journalled localUid is a new version when the latest one was finally
        refused (REJECTED, FAILED: it can never register), else DuplicateConflict.
        """
        # No look-up first: repeats are rare, and the unique key decides races anyway.
        created = await self._insert_first(draft, actor=actor)
        if created is not None:
            return created, True
        for _ in range(5):  # concurrent resubmissions: the unique key lets one of them win per version
            existing = await self.find(draft.source_system, draft.local_uid)
            if existing is None:  # purged between the insert and the look-up: start again
                created = await self._insert(draft, actor=actor, version=1, supersedes=None)
            elif existing.content_hash == draft.content_hash:
                return existing, False  # a resend of the latest version
            elif existing.state not in RESUBMITTABLE_STATES:
                raise DuplicateConflict(
                    "this local_uid was already submitted with different content and is "
                    f"{existing.state}; a corrected document may be resent only after a rejection "
                    "or a permanent failure",
                    details={"id": existing.id, "local_uid": draft.local_uid, "state": str(existing.state)},
                )
            else:
                created = await self._insert(draft, actor=actor, version=existing.version + 1, supersedes=existing)
            if created is not None:
                return created, True
        raise DuplicateConflict(
            "this local_uid is being resubmitted concurrently; try again", details={"local_uid": draft.local_uid}
        )

    def _values(self, draft: SubmissionDraft, *, version: int, supersedes: Submission | None) -> dict[str, Any]:
        now = self.clock.now()
        return {
            "id": str(uuid.uuid4()),
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
            "version": version,
            "supersedes": supersedes.id if supersedes is not None else None,
        }

    @staticmethod
    def _created(values: dict[str, Any]) -> Submission:
        return Submission(
            **{k: v for k, v in values.items() if k not in {"state"}},
            state=State.RECEIVED,
            next_attempt_at=None,
            answer_deadline=None,
            outcome_code=None,
            outcome_message=None,
            peer_registration_id=None,
        )

    # -- group commit of first versions --------------------------------------------------------

    async def _insert_first(self, draft: SubmissionDraft, *, actor: str) -> Submission | None:
        """Insert version 1 through the group commit (module doc); None when it exists."""
        values = self._values(draft, version=1, supersedes=None)
        sid, now = values["id"], values["created_at"]
        queued = _Queued(
            values=values,
            payload={
                "submission_id": sid,
                "codec": CODEC_NAME,
                "size": len(draft.payload),
                "body": self._codec.seal(draft.payload, bind=sid),
            },
            event={
                "submission_id": sid,
                "at": now,
                "kind": "state",
                "from_state": None,
                "to_state": str(State.RECEIVED),
                "actor": actor,
                "code": None,
                "message": "received",
                "details": None,
            },
            done=asyncio.get_running_loop().create_future(),
        )
        if self._queued is None:
            self._queued = []
        self._queued.append(queued)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        # A sender that goes away does not take the batch with it: the flusher finishes it.
        return await asyncio.shield(queued.done)

    async def _flush(self) -> None:
        while self._queued:
            batch, self._queued = self._queued[:_MAX_BATCH], self._queued[_MAX_BATCH:]
            try:
                written = await self._write_batch(batch)
            except BaseException as exc:
                for item in batch:
                    _fail(item, exc)
                if not isinstance(exc, Exception):  # cancelled: nobody is left waiting for nothing
                    for item in self._queued:
                        _fail(item, exc)
                    self._queued = []
                    raise
            else:
                # A skipped row is a resend (or a conflict): its caller looks the original up.
                for item in batch:
                    _settle(item, self._created(item.values) if item.values["id"] in written else None)

    async def _write_batch(self, batch: list[_Queued]) -> set[str]:
        """Write ``batch`` in one transaction; the ids written (a journalled key is skipped)."""
        insert = st.INSERT_SUBMISSIONS_NEW[self.engine.dialect.name]
        async with self.writing() as conn:
            result = await conn.execute(insert, [item.values for item in batch])
            written = {row[0] for row in result}
            kept = [item for item in batch if item.values["id"] in written]
            if kept:
                await conn.execute(st.INSERT_PAYLOAD, [item.payload for item in kept])
                await conn.execute(st.INSERT_EVENT, [item.event for item in kept])
                await announce(conn, "validation")
        return written

    async def _insert(
        self, draft: SubmissionDraft, *, actor: str, version: int, supersedes: Submission | None
    ) -> Submission | None:
        """Insert one version on its own; None when that (source system, localUid, version)
        exists."""
        values = self._values(draft, version=version, supersedes=supersedes)
        sid, now = values["id"], values["created_at"]
        try:
            async with self.writing() as conn:
                if supersedes is not None:
                    # Lock the refused version: an operator's resend of it (FAILED → QUEUED) and
                    # this new version exclude each other (see TransitionJournal.transition).
                    query = st.GUARD_FOR_UPDATE if self._postgres else st.GUARD
                    row = (await conn.execute(query, {"sid": supersedes.id})).first()
                    if row is None or State(row.state) not in RESUBMITTABLE_STATES:
                        raise _Moved()
                await conn.execute(st.INSERT_SUBMISSION, values)
                await conn.execute(
                    st.INSERT_PAYLOAD,
                    {
                        "submission_id": sid,
                        "codec": CODEC_NAME,
                        "size": len(draft.payload),
                        "body": self._codec.seal(draft.payload, bind=sid),
                    },
                )
                message = "received"
                details = None
                if supersedes is not None:
                    message = f"received: version {version}, resubmitted after {supersedes.state}"
                    details = {"supersedes": supersedes.id, "version": version}
                    await self._insert_event(
                        conn,
                        supersedes.id,
                        at=now,
                        kind="note",
                        actor=actor,
                        message=f"superseded by version {version}",
                        details={"superseded_by": sid, "version": version},
                    )
                await self._insert_event(
                    conn,
                    sid,
                    at=now,
                    kind="state",
                    actor=actor,
                    to_state=State.RECEIVED,
                    message=message,
                    details=details,
                )
                await announce(conn, "validation")
        except (IntegrityError, _Moved):
            return None  # already journalled (a resend, a concurrent submission), or the old one moved on
        return self._created(values)

    async def versions(self, source_system: str, local_uid: str) -> list[Submission]:
        """Every version journalled under (source system, localUid), oldest first."""
        async with self._reading() as conn:
            rows = (
                await conn.execute(
                    sa.select(submissions)
                    .where(st.S.source_system == source_system, st.S.local_uid == local_uid)
                    .order_by(st.S.version)
                )
            ).all()
        return [row_to_submission(r) for r in rows]

    # -- reads -------------------------------------------------------------------------------

    async def get(self, submission_id: str) -> Submission:
        async with self._reading() as conn:
            row = (await conn.execute(st.GET, {"sid": submission_id})).first()
        if row is None:
            raise NotFound(f"no submission {submission_id}")
        return row_to_submission(row)

    async def find(self, source_system: str, local_uid: str) -> Submission | None:
        async with self._reading() as conn:
            row = (
                await conn.execute(
                    sa.select(submissions)
                    .where(st.S.source_system == source_system, st.S.local_uid == local_uid)
                    .order_by(st.S.version.desc())
                    .limit(1)
                )
            ).first()
        return row_to_submission(row) if row else None

    async def payload(self, submission_id: str) -> bytes:
        async with self._reading() as conn:
            row = (await conn.execute(st.PAYLOAD, {"sid": submission_id})).first()
        if row is None:
            raise NotFound(f"no payload for {submission_id}")
        return self._codec.open(row[0], bind=submission_id)

    async def find_by_peer(
        self, destination: str, local_uid: str, organization_oid: str | None = None
    ) -> Submission | None:
        """The submission a peer's answer is about: peers know our documents by localUid (and
        organisation), not by the gateway's id."""
        params = {"destination": destination, "local_uid": local_uid}
        stmt = st.BY_PEER
        if organization_oid:
            stmt, params = st.BY_PEER_AND_ORG, {**params, "organization_oid": organization_oid}
        async with self._reading() as conn:
            rows = (await conn.execute(stmt, params)).all()
        return row_to_submission(rows[0]) if rows else None


def _settle(item: _Queued, result: Submission | None) -> None:
    if not item.done.done():
        item.done.set_result(result)


def _fail(item: _Queued, exc: BaseException) -> None:
    if not item.done.done():
        item.done.set_exception(exc)

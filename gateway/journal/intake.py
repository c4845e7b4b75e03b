"""Intake: the durable, idempotent first write of a submission, and looking submissions up."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from gateway.errors import DuplicateConflict, NotFound
from gateway.journal import statements as st
from gateway.journal.base import JournalBase
from gateway.journal.codec import CODEC_NAME
from gateway.journal.records import row_to_submission
from gateway.journal.schema import payloads, submissions
from gateway.journal.wakeup import announce
from gateway.model import RESUBMITTABLE_STATES, State, Submission, SubmissionDraft

__all__ = ["IntakeJournal"]


class _Moved(Exception):
    """The version to supersede left its refused state (an operator resent it) meanwhile."""


class IntakeJournal(JournalBase):
    async def submit(self, draft: SubmissionDraft, *, actor: str = "intake") -> tuple[Submission, bool]:
        """Journal a new submission durably, idempotently.

        Returns ``(submission, True)`` when created, ``(existing, False)`` when the same
        (source system, local_uid) was already journalled with the same content hash. Different
        content under a journalled localUid is a new version when the latest one was finally
        refused (REJECTED, FAILED: it can never register), else DuplicateConflict.
        """
        # No look-up first: repeats are rare, and the unique key decides races anyway.
        created = await self._insert(draft, actor=actor, version=1, supersedes=None)
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

    async def _insert(
        self, draft: SubmissionDraft, *, actor: str, version: int, supersedes: Submission | None
    ) -> Submission | None:
        """Insert one version; None when that (source system, localUid, version) exists."""
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
            "version": version,
            "supersedes": supersedes.id if supersedes is not None else None,
        }
        try:
            async with self.writing() as conn:
                if supersedes is not None:
                    # Lock the refused version: an operator's resend of it (FAILED → QUEUED) and
                    # this new version exclude each other (see TransitionJournal.transition).
                    query = st.GUARD_FOR_UPDATE if self._postgres else st.GUARD
                    row = (await conn.execute(query, {"sid": supersedes.id})).first()
                    if row is None or State(row.state) not in RESUBMITTABLE_STATES:
                        raise _Moved()
                await conn.execute(submissions.insert().values(**values))
                await conn.execute(
                    payloads.insert().values(
                        submission_id=sid,
                        codec=CODEC_NAME,
                        size=len(draft.payload),
                        body=self._codec.seal(draft.payload, bind=sid),
                    )
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
        return Submission(
            **{k: v for k, v in values.items() if k not in {"state"}},
            state=State.RECEIVED,
            next_attempt_at=None,
            answer_deadline=None,
            outcome_code=None,
            outcome_message=None,
            peer_registration_id=None,
        )

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

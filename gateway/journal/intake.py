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
from gateway.model import State, Submission, SubmissionDraft

__all__ = ["IntakeJournal"]


class IntakeJournal(JournalBase):
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
                await announce(conn, "validation")
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
            row = (await conn.execute(st.GET, {"sid": submission_id})).first()
        if row is None:
            raise NotFound(f"no submission {submission_id}")
        return row_to_submission(row)

    async def find(self, source_system: str, local_uid: str) -> Submission | None:
        async with self._reading() as conn:
            row = (
                await conn.execute(
                    sa.select(submissions).where(st.S.source_system == source_system, st.S.local_uid == local_uid)
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

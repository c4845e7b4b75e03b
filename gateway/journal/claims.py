"""Claims: work due for a worker, taken with a lease in one statement, and given back."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import sqlalchemy as sa

from gateway.journal import statements as st
from gateway.journal.base import JournalBase
from gateway.journal.records import row_to_submission
from gateway.journal.schema import submissions
from gateway.model import State, Submission

__all__ = ["ClaimJournal"]


class ClaimJournal(JournalBase):
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
        due = st.S[due_column]
        candidates = (
            sa.select(st.S.id)
            .where(
                st.S.state.in_([str(s) for s in states]),
                sa.or_(due.is_(None), due <= now),
                sa.or_(st.S.lease_until.is_(None), st.S.lease_until < now),
            )
            .order_by(due.asc().nulls_first())
            .limit(limit)
        )
        if destinations is not None:
            candidates = candidates.where(st.S.destination.in_(list(destinations)))
        if self._postgres:
            candidates = candidates.with_for_update(skip_locked=True)
        lease_until = now + timedelta(seconds=lease_seconds)
        stmt = (
            submissions.update()
            .where(st.S.id.in_(candidates.scalar_subquery()))
            .values(lease_owner=owner, lease_until=lease_until)
            .returning(*submissions.c)
        )
        async with self.writing() as conn:
            rows = (await conn.execute(stmt)).all()
        return sorted((row_to_submission(r) for r in rows), key=lambda s: (s.next_attempt_at or now, s.id))

    async def release(self, owner: str, submission_ids: Iterable[str] | None = None) -> int:
        """Give leases back (graceful shutdown, or a worker that will not finish some rows)."""
        stmt = submissions.update().where(st.S.lease_owner == owner)
        ids = list(submission_ids) if submission_ids is not None else None
        if ids is not None:
            if not ids:
                return 0
            stmt = stmt.where(st.S.id.in_(ids))
        async with self.writing() as conn:
            result = await conn.execute(stmt.values(lease_owner=None, lease_until=None))
        return int(result.rowcount)

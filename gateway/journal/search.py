"""Reading: timelines, envelopes, search with cursors, counts by state."""

from __future__ import annotations

import sqlalchemy as sa

from gateway.errors import NotFound
from gateway.journal import statements as st
from gateway.journal.base import JournalBase
from gateway.journal.records import EnvelopeMeta, Event, SearchQuery, _decode_cursor, _encode_cursor, row_to_submission
from gateway.journal.schema import envelopes, events, submissions
from gateway.model import State, Submission

__all__ = ["SearchJournal"]


class SearchJournal(JournalBase):
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
            (st.S.source_system, q.source_system),
            (st.S.local_uid, q.local_uid),
            (st.S.kind, q.kind),
            (st.S.organization_oid, q.organization_oid),
            (st.S.peer_registration_id, q.peer_registration_id),
            (st.S.region, q.region),
            (st.S.destination, q.destination),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        if q.kinds:
            stmt = stmt.where(st.S.kind.in_(list(q.kinds)))
        if q.states:
            stmt = stmt.where(st.S.state.in_([str(s) for s in q.states]))
        if q.patient_id is not None:
            stmt = stmt.where(st.S.patient_key == self.patient_key(q.patient_id))
        if q.since is not None:
            stmt = stmt.where(st.S.created_at >= q.since)
        if q.until is not None:
            stmt = stmt.where(st.S.created_at < q.until)
        if q.cursor is not None:
            at, sid = _decode_cursor(q.cursor)
            stmt = stmt.where(sa.or_(st.S.created_at < at, sa.and_(st.S.created_at == at, st.S.id < sid)))
        stmt = stmt.order_by(st.S.created_at.desc(), st.S.id.desc()).limit(q.limit + 1)
        # A patient or a localUid has a handful of rows. Without statistics SQLite preferred
        # ix_submissions_kind_created (migration 0014: it serves the ORDER BY) and read every row
        # of the kind — 2–3 s per query over 1,000,000 rows, and the duplicate and late-arrival
        # rules ask for every document (docs/benchmarks.md, third pass). PostgreSQL plans by its
        # statistics and ignores the hint.
        if q.patient_id is not None:
            stmt = stmt.with_hint(submissions, "INDEXED BY ix_submissions_patient_key", "sqlite")
        elif q.local_uid is not None and q.organization_oid is not None:
            stmt = stmt.with_hint(submissions, "INDEXED BY ix_submissions_local_uid", "sqlite")
        async with self._reading() as conn:
            rows = (await conn.execute(stmt)).all()
        items = [row_to_submission(r) for r in rows[: q.limit]]
        cursor = _encode_cursor(items[-1]) if len(rows) > q.limit and items else None
        return items, cursor

    async def counts_by_state(self) -> dict[State, int]:
        async with self._reading() as conn:
            rows = (await conn.execute(sa.select(st.S.state, sa.func.count()).group_by(st.S.state))).all()
        counts = dict.fromkeys(State, 0)
        for state, n in rows:
            counts[State(state)] = int(n)
        return counts

    # -- writes ------------------------------------------------------------------------------

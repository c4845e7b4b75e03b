"""The notification outbox: notices owed to senders, claimed and retried like submissions.

One implementation serves two tables: outcome notices (``notifications``, their timeline in
``events``) and, through :class:`gateway.journal.inbound_outbox.InboundOutbox`, notices of documents
addressed to our organisations (``inbound_notices`` / ``inbound_events``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar

import sqlalchemy as sa

from gateway.journal.schema import events, notifications
from gateway.journal.store import Journal
from gateway.model import PendingNotice

__all__ = ["Outbox"]


class Outbox:
    # The notice table, the column naming what a notice is about (a claimed notice carries it as
    # ``submission_id``), the timeline its attempts are written to, and their name there.
    table: ClassVar[sa.Table] = notifications
    subject: ClassVar[str] = "submission_id"
    timeline: ClassVar[sa.Table] = events
    what: ClassVar[str] = "outcome notice"

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    async def claim(self, owner: str, *, limit: int, lease_seconds: float) -> list[PendingNotice]:
        j = self.journal
        now = j.clock.now()
        n = self.table.c
        candidates = (
            sa.select(n.id)
            .where(
                n.state == "pending",
                n.next_attempt_at <= now,
                sa.or_(n.lease_until.is_(None), n.lease_until < now),
            )
            .order_by(n.next_attempt_at)
            .limit(limit)
        )
        if j.engine.dialect.name == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True)
        subject = n[self.subject].label("subject")
        stmt = (
            self.table.update()
            .where(n.id.in_(candidates.scalar_subquery()))
            .values(lease_owner=owner, lease_until=now + timedelta(seconds=lease_seconds))
            .returning(n.id, subject, n.client_id, n.channel, n.url, n.body, n.attempts, n.created_at)
        )
        async with j.writing() as conn:
            rows = (await conn.execute(stmt)).all()
        return [
            PendingNotice(
                id=r.id,
                submission_id=r.subject,
                client_id=r.client_id,
                channel=r.channel,
                url=r.url,
                body=j.open_body(r.body, bind=r.subject),
                attempts=r.attempts,
                created_at=r.created_at,
            )
            for r in rows
        ]

    async def release(self, owner: str) -> int:
        """Give back the pending notices ``owner`` holds (a notifier shutting down), so another
        process sends them now rather than after the lease."""
        n = self.table.c
        stmt = (
            self.table.update()
            .where(n.lease_owner == owner, n.state == "pending")
            .values(lease_owner=None, lease_until=None)
        )
        async with self.journal.writing() as conn:
            result = await conn.execute(stmt)
        return int(result.rowcount)

    async def _finish(self, notice: PendingNotice, owner: str, values: dict[str, object], message: str) -> None:
        j = self.journal
        now = j.clock.now()
        n = self.table.c
        async with j.writing() as conn:
            result = await conn.execute(
                self.table.update()
                .where(n.id == notice.id, n.lease_owner == owner)
                .values(lease_owner=None, lease_until=None, attempts=n.attempts + 1, **values)
            )
            if result.rowcount == 1:
                await conn.execute(
                    self.timeline.insert().values(
                        {
                            self.subject: notice.submission_id,
                            "at": now,
                            "kind": "notification",
                            "actor": owner[:120],
                            "message": message,
                            "details": {"channel": notice.channel, "attempt": notice.attempts + 1},
                        }
                    )
                )

    async def delivered(self, notice: PendingNotice, owner: str) -> None:
        await self._finish(
            notice,
            owner,
            {"state": "delivered", "delivered_at": self.journal.clock.now(), "last_error": None},
            f"{self.what} delivered",
        )

    async def failed(self, notice: PendingNotice, owner: str, error: str, retry_at: datetime | None) -> None:
        """Record a failed attempt; ``retry_at=None`` gives up (state ``dead``, for an operator)."""
        if retry_at is None:
            values: dict[str, object] = {"state": "dead", "last_error": error[:2000]}
            message = f"{self.what} abandoned: {error[:200]}"
        else:
            values = {"next_attempt_at": retry_at, "last_error": error[:2000]}
            message = f"{self.what} failed, retry at {retry_at.isoformat()}: {error[:200]}"
        await self._finish(notice, owner, values, message)

    async def states(self, subject_id: str) -> list[tuple[str, str, int]]:
        n = self.table.c
        async with self.journal.reading() as conn:
            rows = (
                await conn.execute(sa.select(n.channel, n.state, n.attempts).where(n[self.subject] == subject_id))
            ).all()
        return [(r.channel, r.state, r.attempts) for r in rows]

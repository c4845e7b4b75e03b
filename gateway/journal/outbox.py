"""The notification outbox: notices owed to senders, claimed and retried like submissions."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from gateway.journal.schema import events, notifications
from gateway.journal.store import Journal
from gateway.model import PendingNotice

__all__ = ["Outbox"]

_N = notifications.c


class Outbox:
    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    async def claim(self, owner: str, *, limit: int, lease_seconds: float) -> list[PendingNotice]:
        j = self.journal
        now = j.clock.now()
        candidates = (
            sa.select(_N.id)
            .where(
                _N.state == "pending",
                _N.next_attempt_at <= now,
                sa.or_(_N.lease_until.is_(None), _N.lease_until < now),
            )
            .order_by(_N.next_attempt_at)
            .limit(limit)
        )
        if j.engine.dialect.name == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True)
        stmt = (
            notifications.update()
            .where(_N.id.in_(candidates.scalar_subquery()))
            .values(lease_owner=owner, lease_until=now + timedelta(seconds=lease_seconds))
            .returning(_N.id, _N.submission_id, _N.client_id, _N.channel, _N.url, _N.body, _N.attempts, _N.created_at)
        )
        async with j.writing() as conn:
            rows = (await conn.execute(stmt)).all()
        return [
            PendingNotice(
                id=r.id,
                submission_id=r.submission_id,
                client_id=r.client_id,
                channel=r.channel,
                url=r.url,
                body=j.open_body(r.body, bind=r.submission_id),
                attempts=r.attempts,
                created_at=r.created_at,
            )
            for r in rows
        ]

    async def release(self, owner: str) -> int:
        """Give back the pending notices ``owner`` holds (a notifier shutting down), so another
        process sends them now rather than after the lease."""
        stmt = (
            notifications.update()
            .where(_N.lease_owner == owner, _N.state == "pending")
            .values(lease_owner=None, lease_until=None)
        )
        async with self.journal.writing() as conn:
            result = await conn.execute(stmt)
        return int(result.rowcount)

    async def _finish(self, notice: PendingNotice, owner: str, values: dict[str, object], message: str) -> None:
        j = self.journal
        now = j.clock.now()
        async with j.writing() as conn:
            result = await conn.execute(
                notifications.update()
                .where(_N.id == notice.id, _N.lease_owner == owner)
                .values(lease_owner=None, lease_until=None, attempts=_N.attempts + 1, **values)
            )
            if result.rowcount == 1:
                await conn.execute(
                    events.insert().values(
                        submission_id=notice.submission_id,
                        at=now,
                        kind="notification",
                        actor=owner,
                        message=message,
                        details={"channel": notice.channel, "attempt": notice.attempts + 1},
                    )
                )

    async def delivered(self, notice: PendingNotice, owner: str) -> None:
        await self._finish(
            notice,
            owner,
            {"state": "delivered", "delivered_at": self.journal.clock.now(), "last_error": None},
            "outcome notice delivered",
        )

    async def failed(self, notice: PendingNotice, owner: str, error: str, retry_at: datetime | None) -> None:
        """Record a failed attempt; ``retry_at=None`` gives up (state ``dead``, for an operator)."""
        if retry_at is None:
            values: dict[str, object] = {"state": "dead", "last_error": error[:2000]}
            message = f"outcome notice abandoned: {error[:200]}"
        else:
            values = {"next_attempt_at": retry_at, "last_error": error[:2000]}
            message = f"outcome notice failed, retry at {retry_at.isoformat()}: {error[:200]}"
        await self._finish(notice, owner, values, message)

    async def states(self, submission_id: str) -> list[tuple[str, str, int]]:
        async with self.journal.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(_N.channel, _N.state, _N.attempts).where(_N.submission_id == submission_id)
                )
            ).all()
        return [(r.channel, r.state, r.attempts) for r in rows]

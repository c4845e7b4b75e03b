"""The webhook outbox of inbound documents (table ``inbound_notices``), with the interface of
:class:`gateway.journal.outbox.Outbox`, so one :class:`~gateway.notices.notifier.Notifier` drives
it the way it drives outcome notices."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

import sqlalchemy as sa

from gateway.journal.schema import inbound_events, inbound_notices
from gateway.journal.store import Journal
from gateway.model import PendingNotice

__all__ = ["InboundOutbox"]

_N: Final = inbound_notices.c


class InboundOutbox:
    """The webhook outbox of inbound documents, with the interface of
    :class:`gateway.journal.outbox.Outbox`, so one :class:`~gateway.notices.notifier.Notifier`
    drives it. A claimed notice's ``submission_id`` carries the *inbound document* id."""

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
            inbound_notices.update()
            .where(_N.id.in_(candidates.scalar_subquery()))
            .values(lease_owner=owner, lease_until=now + timedelta(seconds=lease_seconds))
            .returning(_N.id, _N.document_id, _N.client_id, _N.channel, _N.url, _N.body, _N.attempts, _N.created_at)
        )
        async with j.writing() as conn:
            rows = (await conn.execute(stmt)).all()
        return [
            PendingNotice(
                id=r.id,
                submission_id=r.document_id,
                client_id=r.client_id,
                channel=r.channel,
                url=r.url,
                body=j.open_body(r.body, bind=r.document_id),
                attempts=r.attempts,
                created_at=r.created_at,
            )
            for r in rows
        ]

    async def release(self, owner: str) -> int:
        stmt = (
            inbound_notices.update()
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
                inbound_notices.update()
                .where(_N.id == notice.id, _N.lease_owner == owner)
                .values(lease_owner=None, lease_until=None, attempts=_N.attempts + 1, **values)
            )
            if result.rowcount == 1:
                await conn.execute(
                    inbound_events.insert().values(
                        document_id=notice.submission_id,
                        at=now,
                        kind="notification",
                        actor=owner[:120],
                        message=message,
                        details={"channel": notice.channel, "attempt": notice.attempts + 1},
                    )
                )

    async def delivered(self, notice: PendingNotice, owner: str) -> None:
        await self._finish(
            notice,
            owner,
            {"state": "delivered", "delivered_at": self.journal.clock.now(), "last_error": None},
            "inbound notice delivered",
        )

    async def failed(self, notice: PendingNotice, owner: str, error: str, retry_at: datetime | None) -> None:
        if retry_at is None:
            values: dict[str, object] = {"state": "dead", "last_error": error[:2000]}
            message = f"inbound notice abandoned: {error[:200]}"
        else:
            values = {"next_attempt_at": retry_at, "last_error": error[:2000]}
            message = f"inbound notice failed, retry at {retry_at.isoformat()}: {error[:200]}"
        await self._finish(notice, owner, values, message)

    async def states(self, document_id: str) -> list[tuple[str, str, int]]:
        async with self.journal.engine.connect() as conn:
            rows = (
                await conn.execute(sa.select(_N.channel, _N.state, _N.attempts).where(_N.document_id == document_id))
            ).all()
        return [(r.channel, r.state, r.attempts) for r in rows]

"""Retention of personal data: what `mse-gateway purge --older-than …` removes from final
submissions.

Only final submissions (REGISTERED, REJECTED, FAILED) whose outcome is older than the period are
touched, and none with an outcome notice still to deliver. Two modes:

- **anonymise** (default): the row, its states and timeline stay (statistics, SLA and audit keep
  working); what holds personal data goes — the sealed submission (document, signatures, patient
  metadata), the envelopes exchanged with peers, the peers' recorded answers' bodies, delivered
  notices, event details (FLK reports), the keyed patient hash, the callback URL and the peer's
  outcome message. A note on the timeline records it.
- **delete**: the submission and everything attached to it (the foreign keys cascade).

DEAD submissions are never purged: their outcome is unknown and an operator still has to act.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.journal.base import JournalBase
from gateway.journal.schema import envelopes, events, notifications, payloads, peer_inbox, submissions
from gateway.model import FINAL_STATES

__all__ = ["PurgeMode", "PurgeResult", "RetentionJournal"]

_BATCH: Final = 500


class PurgeMode(enum.StrEnum):
    ANONYMISE = "anonymise"
    DELETE = "delete"


@dataclass(frozen=True)
class PurgeResult:
    mode: PurgeMode
    cutoff: datetime
    submissions: int
    dry_run: bool


class RetentionJournal(JournalBase):
    def _candidates(self, cutoff: datetime, mode: PurgeMode) -> sa.Select[Any]:
        s = submissions.c
        busy = sa.select(notifications.c.submission_id).where(notifications.c.state == "pending")
        query = sa.select(s.id).where(
            s.state.in_([str(x) for x in FINAL_STATES]),
            s.updated_at < cutoff,
            s.id.not_in(busy),
        )
        if mode is PurgeMode.ANONYMISE:  # anonymised already: nothing left to take
            query = query.where(s.id.in_(sa.select(payloads.c.submission_id)))
        return query.order_by(s.updated_at, s.id)

    async def purge(
        self, cutoff: datetime, *, mode: PurgeMode, actor: str, dry_run: bool = False
    ) -> tuple[PurgeResult, list[str]]:
        """Purge final submissions whose last change is before ``cutoff``; returns the result and
        the ids touched (in batches of 500, each its own transaction)."""
        touched: list[str] = []
        if dry_run:
            async with self._reading() as conn:
                touched = [str(sid) for sid in (await conn.execute(self._candidates(cutoff, mode))).scalars()]
            return PurgeResult(mode, cutoff, len(touched), True), touched
        while True:
            async with self.writing() as conn:
                ids = [str(sid) for sid in (await conn.execute(self._candidates(cutoff, mode).limit(_BATCH))).scalars()]
                if not ids:
                    break
                if mode is PurgeMode.DELETE:
                    await conn.execute(submissions.delete().where(submissions.c.id.in_(ids)))
                else:
                    await self._anonymise(conn, ids, actor)
            touched.extend(ids)
        return PurgeResult(mode, cutoff, len(touched), False), touched

    async def _anonymise(self, conn: AsyncConnection, ids: list[str], actor: str) -> None:
        now = self.clock.now()
        await conn.execute(payloads.delete().where(payloads.c.submission_id.in_(ids)))
        await conn.execute(envelopes.delete().where(envelopes.c.submission_id.in_(ids)))
        await conn.execute(notifications.delete().where(notifications.c.submission_id.in_(ids)))
        await conn.execute(
            peer_inbox.update()
            .where(peer_inbox.c.submission_id.in_(ids))
            .values(body=None, codec=None, size=None, content_type=None)
        )
        await conn.execute(events.update().where(events.c.submission_id.in_(ids)).values(details=None))
        await conn.execute(
            submissions.update()
            .where(submissions.c.id.in_(ids))
            .values(patient_key=None, callback_url=None, outcome_message=None, outcome_text=None, updated_at=now)
        )
        for sid in ids:
            await self._insert_event(
                conn, sid, at=now, kind="note", actor=actor, message="personal data purged (retention period)"
            )

"""KSI milestones written with the peer message that reports them (gateway.monitoring.ksi reads
them). The first report of a milestone wins: a duplicate notice, or a redelivered message, adds
nothing and changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.journal.records import AlsoInTransaction
from gateway.journal.schema import ksi_marks

__all__ = ["Mark", "with_marks"]

_K: Final = ksi_marks.c


@dataclass(frozen=True, slots=True)
class Mark:
    name: str
    at: datetime | None  # None: the time of recording
    bureau: str | None = None
    region: str | None = None


def with_marks(
    also: AlsoInTransaction, *, submission_id: str, peer: str, marks: Sequence[Mark], now: datetime
) -> AlsoInTransaction:
    """``also`` followed by the milestones' rows, in the same transaction (so a message is never
    recorded without its milestones, nor its milestones without it)."""
    if not marks:
        return also

    async def write(conn: AsyncConnection, event_id: int) -> None:
        await also(conn, event_id)
        names = [m.name for m in marks]
        known = set(
            (
                await conn.execute(sa.select(_K.name).where(_K.submission_id == submission_id, _K.name.in_(names)))
            ).scalars()
        )
        for mark in marks:
            if mark.name in known:
                continue
            known.add(mark.name)
            await conn.execute(
                ksi_marks.insert().values(
                    submission_id=submission_id,
                    name=mark.name,
                    at=mark.at or now,
                    peer=peer,
                    bureau=mark.bureau,
                    region=mark.region,
                    recorded_at=now,
                )
            )

    return write

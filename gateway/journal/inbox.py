"""The peer inbox: every answer a peer handed the core, recorded once per peer message id.

An answer attributed to a submission is written in the same transaction as the state change or
timeline note it caused (:meth:`Inbox.attributed` gives the journal that extra write), so a
message redelivered after a crash between "recorded" and "acknowledged to the peer" finds its row
and changes nothing. An answer to nothing we sent is kept apart ("unattributed"), envelope sealed,
and never touches a submission.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.journal.codec import CODEC_NAME
from gateway.journal.schema import peer_inbox
from gateway.journal.store import AlsoInTransaction, Journal
from gateway.model import EnvelopeIn

__all__ = ["Inbox", "InboxEntry"]

_I: Final = peer_inbox.c


@dataclass(frozen=True, slots=True)
class InboxEntry:
    id: str
    peer: str
    peer_message_id: str | None
    submission_id: str | None
    event_id: int | None
    kind: str
    relates_to: str | None
    local_uid: str | None
    recorded_at: datetime
    size: int | None


class Inbox:
    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    async def seen(self, peer: str, peer_message_id: str | None) -> bool:
        if not peer_message_id:
            return False
        stmt = sa.select(_I.id).where(_I.peer == peer, _I.peer_message_id == peer_message_id)
        async with self.journal.reading() as conn:
            return (await conn.execute(stmt)).first() is not None

    def attributed(
        self,
        *,
        peer: str,
        peer_message_id: str | None,
        submission_id: str,
        kind: str,
        relates_to: str | None,
        local_uid: str,
    ) -> AlsoInTransaction:
        """The inbox row of an answer about ``submission_id``, to write in the transaction that
        applies it (its envelopes are on the event)."""

        async def write(conn: AsyncConnection, event_id: int) -> None:
            await conn.execute(
                peer_inbox.insert().values(
                    id=str(uuid.uuid4()),
                    peer=peer,
                    peer_message_id=peer_message_id or None,
                    submission_id=submission_id,
                    event_id=event_id,
                    kind=kind,
                    relates_to=relates_to,
                    local_uid=local_uid,
                    recorded_at=self.journal.clock.now(),
                )
            )

        return write

    async def unattributed(
        self,
        *,
        peer: str,
        peer_message_id: str | None,
        relates_to: str | None,
        local_uid: str | None,
        envelopes: Sequence[EnvelopeIn],
    ) -> bool:
        """Keep an answer to nothing we sent. False when this peer message was already recorded."""
        row_id = str(uuid.uuid4())
        incoming = [e for e in envelopes if e.direction == "in"]
        values: dict[str, object] = {}
        if incoming:
            body = incoming[0].body
            values = {
                "content_type": incoming[0].content_type,
                "size": len(body),
                "sha256": hashlib.sha256(body).hexdigest(),
                "codec": CODEC_NAME,
                "body": self.journal.seal_body(body, bind=row_id),
            }
        try:
            async with self.journal.writing() as conn:
                await conn.execute(
                    peer_inbox.insert().values(
                        id=row_id,
                        peer=peer,
                        peer_message_id=peer_message_id or None,
                        kind="unattributed",
                        relates_to=(relates_to or "")[:200] or None,
                        local_uid=(local_uid or "")[:200] or None,
                        recorded_at=self.journal.clock.now(),
                        **values,
                    )
                )
        except IntegrityError:
            if await self.seen(peer, peer_message_id):
                return False
            raise
        return True

    async def entries(self, *, kind: str | None = None, peer: str | None = None, limit: int = 100) -> list[InboxEntry]:
        stmt = sa.select(peer_inbox).order_by(_I.recorded_at.desc()).limit(limit)
        if kind is not None:
            stmt = stmt.where(_I.kind == kind)
        if peer is not None:
            stmt = stmt.where(_I.peer == peer)
        async with self.journal.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [
            InboxEntry(
                r.id,
                r.peer,
                r.peer_message_id,
                r.submission_id,
                r.event_id,
                r.kind,
                r.relates_to,
                r.local_uid,
                r.recorded_at,
                r.size,
            )
            for r in rows
        ]

    async def body(self, entry_id: str) -> bytes | None:
        """The sealed envelope of an unattributed answer, opened (operators only)."""
        async with self.journal.engine.connect() as conn:
            sealed = (await conn.execute(sa.select(_I.body).where(_I.id == entry_id))).scalar_one_or_none()
        return None if sealed is None else self.journal.open_body(sealed, bind=entry_id)

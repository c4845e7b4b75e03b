"""The ids of the messages we sent peers, and receiver leases for polling peers.

A submission's outgoing message id is persisted (committed) before the first send and reused on
every resend, so whatever the peer answers can be matched to something we sent; the peer may ask
for a new one (SMEV StaleMessageId), then the old one is retired — answers to it still match.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Final

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.journal.schema import events, peer_messages, peer_receivers
from gateway.journal.store import Journal

__all__ = ["PeerMessages", "ReceiverLeases"]

_M: Final = peer_messages.c
_R: Final = peer_receivers.c
_E: Final = events.c


class PeerMessages:
    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    async def current(self, submission_id: str, peer: str, new_id: Callable[[], str]) -> str:
        """The message id to send ``submission_id`` to ``peer`` under: the live one, or a new
        one from ``new_id``, committed before this returns (so before the send)."""
        return (await self.current_or_new(submission_id, peer, new_id))[0]

    async def current_or_new(self, submission_id: str, peer: str, new_id: Callable[[], str]) -> tuple[str, bool]:
        """:meth:`current`, and whether the id is new: False means it was handed to a send before
        (an earlier attempt, or one a restart cut short), so the peer may hold a message under it."""
        live = (
            sa.select(_M.message_id)
            .where(_M.submission_id == submission_id, _M.peer == peer, _M.retired_at.is_(None))
            .order_by(_M.id.desc())
            .limit(1)
        )
        async with self.journal.writing() as conn:
            found = (await conn.execute(live)).scalar_one_or_none()
            if found is not None:
                return str(found), False
            message_id = new_id()
            await conn.execute(
                peer_messages.insert().values(
                    submission_id=submission_id, peer=peer, message_id=message_id, created_at=self.journal.clock.now()
                )
            )
        return message_id, True

    async def retire(self, submission_id: str, peer: str, message_id: str) -> None:
        """The peer refused ``message_id`` as stale: the next send gets a new one."""
        async with self.journal.writing() as conn:
            await self.retire_in(conn, submission_id, peer, message_id)

    async def retire_in(self, conn: AsyncConnection, submission_id: str, peer: str, message_id: str) -> None:
        """:meth:`retire` in the caller's transaction (with the transition that schedules the resend)."""
        await conn.execute(
            peer_messages.update()
            .where(_M.submission_id == submission_id, _M.peer == peer, _M.message_id == message_id)
            .where(_M.retired_at.is_(None))
            .values(retired_at=self.journal.clock.now())
        )

    async def unsettled(self, submission_id: str, message_id: str) -> bool:
        """Whether a send under ``message_id`` may have arrived though the peer never said so: an
        attempt the delivery stage recorded with ``unsettled_message_id`` (no answer, or a send
        resumed after a restart). Read only when the peer asks for a new id, so a scan of the
        submission's own events (tens of rows) does."""
        stmt = sa.select(_E.details).where(_E.submission_id == submission_id, _E.details.is_not(None))
        async with self.journal.reading() as conn:
            rows = (await conn.execute(stmt)).scalars().all()
        return any(isinstance(d, dict) and d.get("unsettled_message_id") == message_id for d in rows)

    async def submission_of(self, peer: str, message_id: str) -> str | None:
        """The submission we sent ``message_id`` about to ``peer`` (retired ids included)."""
        stmt = sa.select(_M.submission_id).where(_M.peer == peer, _M.message_id == message_id)
        async with self.journal.reading() as conn:
            found = (await conn.execute(stmt)).scalar_one_or_none()
        return None if found is None else str(found)

    async def sent(self, submission_id: str, peer: str) -> bool:
        """Whether any message about ``submission_id`` went (or was about to go) to ``peer``."""
        stmt = sa.select(_M.id).where(_M.submission_id == submission_id, _M.peer == peer).limit(1)
        async with self.journal.reading() as conn:
            return (await conn.execute(stmt)).first() is not None

    async def ids(self, submission_id: str) -> list[tuple[str, str, bool]]:
        """(peer, message id, retired) of every message sent about a submission, oldest first."""
        stmt = sa.select(_M.peer, _M.message_id, _M.retired_at).where(_M.submission_id == submission_id)
        async with self.journal.reading() as conn:
            rows = (await conn.execute(stmt.order_by(_M.id))).all()
        return [(r.peer, r.message_id, r.retired_at is not None) for r in rows]


class ReceiverLeases:
    """One lease per polling peer instance, so exactly one process polls its queue."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    async def acquire(self, name: str, owner: str, seconds: float) -> bool:
        """Take or renew the lease on ``name``; False while another owner holds a live one."""
        now = self.journal.clock.now()
        until = now + timedelta(seconds=seconds)
        async with self.journal.writing() as conn:
            taken = await conn.execute(
                peer_receivers.update()
                .where(_R.name == name, sa.or_(_R.owner == owner, _R.expires_at < now))
                .values(owner=owner, expires_at=until)
            )
            if taken.rowcount == 1:
                return True
            exists = (await conn.execute(sa.select(_R.name).where(_R.name == name))).first()
        if exists is not None:
            return False
        try:
            async with self.journal.writing() as conn:
                await conn.execute(peer_receivers.insert().values(name=name, owner=owner, expires_at=until))
        except IntegrityError:  # another process created it first
            return False
        return True

    async def release(self, name: str, owner: str) -> None:
        async with self.journal.writing() as conn:
            await conn.execute(peer_receivers.delete().where(_R.name == name, _R.owner == owner))

    async def holder(self, name: str) -> str | None:
        now = self.journal.clock.now()
        stmt = sa.select(_R.owner).where(_R.name == name, _R.expires_at >= now)
        async with self.journal.reading() as conn:
            found = (await conn.execute(stmt)).scalar_one_or_none()
        return None if found is None else str(found)

"""Peer messages that match no submission (callbacks, notices, responses to nothing we sent), as
the peer inbox keeps them (:mod:`gateway.journal.inbox`: bytes sealed, never applied), and the
operator's "attach to submission": the message becomes a timeline entry of the submission the
operator names, with its envelope, and the inbox row points at it — in one transaction, audited.

Attaching records the message; it does not apply it as the submission's outcome (the gateway
cannot know the answer meant that document: a person decided). The operator then acts on the
submission as usual (mark resolved, resend, cancel).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.errors import ConcurrentUpdate, NotFound
from gateway.journal.inbox import Inbox, InboxEntry
from gateway.journal.schema import peer_inbox
from gateway.journal.store import Journal
from gateway.model import EnvelopeIn
from gateway.ui import actions
from gateway.ui.schema import ui_audit

__all__ = ["ATTACHED", "UNATTRIBUTED", "Refusal", "attach", "entry", "peer_refusals"]

UNATTRIBUTED: Final = "unattributed"
ATTACHED: Final = "attached"  # an unattributed message an operator attached to a submission
_I: Final = peer_inbox.c


async def entry(journal: Journal, entry_id: str) -> tuple[InboxEntry, str | None]:
    """An inbox row and its content type; NotFound when there is none."""
    async with journal.engine.connect() as conn:
        row = (await conn.execute(sa.select(peer_inbox).where(_I.id == entry_id))).first()
    if row is None:
        raise NotFound(f"no peer message {entry_id}")
    found = InboxEntry(
        row.id, row.peer, row.peer_message_id, row.submission_id, row.event_id, row.kind, row.relates_to,
        row.local_uid, row.recorded_at, row.size,
    )  # fmt: skip
    return found, row.content_type


async def attach(journal: Journal, entry_id: str, submission_id: str, *, username: str, comment: str) -> int:
    """Attach an unattributed message to a submission; returns the timeline event id.
    ConcurrentUpdate when it was attached meanwhile; NotFound for a missing message or submission."""
    found, content_type = await entry(journal, entry_id)
    if found.kind != UNATTRIBUTED:
        raise ConcurrentUpdate(f"peer message {entry_id} is {found.kind}, not unattributed")
    body = await Inbox(journal).body(entry_id)
    envelopes = [EnvelopeIn("in", found.peer, content_type or "application/octet-stream", body)] if body else []

    async def claim(conn: AsyncConnection, event_id: int) -> None:
        moved = await conn.execute(
            peer_inbox.update()
            .where(_I.id == entry_id, _I.kind == UNATTRIBUTED)
            .values(kind=ATTACHED, submission_id=submission_id, event_id=event_id)
        )
        if moved.rowcount != 1:  # rolls the timeline entry back with it
            raise ConcurrentUpdate(f"peer message {entry_id} was attached meanwhile")

    event_id = await journal.note(
        submission_id,
        kind="attached",
        actor=actions.actor_name(username),
        code="OPERATOR_ATTACHED",
        message=comment,
        details={"peer": found.peer, "peer_message_id": found.peer_message_id, "relates_to": found.relates_to,
                 "inbox_id": entry_id, "operator": username},
        envelopes_in=envelopes,
        also=claim,
    )  # fmt: skip
    await actions.audit(
        journal.engine, journal, username=username, action="attach", outcome="ok", submission_id=submission_id,
        comment=f"peer message {entry_id}: {comment}",
    )  # fmt: skip
    return event_id


@dataclass(frozen=True, slots=True)
class Refusal:
    at: datetime
    peer: str
    code: str
    what: str


async def peer_refusals(journal: Journal, *, limit: int = 100) -> list[Refusal]:
    """Calls to a peer endpoint refused by its authentication, newest first (recorded by
    :mod:`gateway.peers.mount` in the audit trail)."""
    a = ui_audit.c
    stmt = (
        sa.select(a.at, a.username, a.outcome, a.comment)
        .where(a.action == "peer-call-refused")
        .order_by(a.id.desc())
        .limit(limit)
    )
    async with journal.engine.connect() as conn:
        rows = (await conn.execute(stmt)).all()
    return [Refusal(r.at, r.username.removeprefix("peer:"), r.outcome, r.comment or "") for r in rows]

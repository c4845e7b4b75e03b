"""The notice outbox: a notifier that stops gives back the notices it holds at once."""

from __future__ import annotations

from gateway.journal.outbox import Outbox
from gateway.journal.store import Journal
from gateway.model import State

from .factories import draft


async def test_release_gives_held_notices_back_at_once(journal: Journal) -> None:
    sub, _ = await journal.submit(draft(callback_url="http://127.0.0.1:9/cb"))
    await journal.transition(sub.id, State.REJECTED, actor="test")  # a final state owes a notice
    outbox = Outbox(journal)
    held = await outbox.claim("notifier-a", limit=10, lease_seconds=600)
    assert [n.submission_id for n in held] == [sub.id]
    assert await outbox.claim("notifier-b", limit=10, lease_seconds=600) == []  # leased to a
    assert await outbox.release("notifier-b") == 0  # only the holder's leases
    assert await outbox.release("notifier-a") == 1
    again = await outbox.claim("notifier-b", limit=10, lease_seconds=600)
    assert [n.submission_id for n in again] == [sub.id]

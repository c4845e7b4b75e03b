"""Peer message ids and receiver leases in the journal (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from gateway.journal.inbox import Inbox
from gateway.journal.peer_messages import PeerMessages, ReceiverLeases
from gateway.journal.store import Journal
from gateway.model import EnvelopeIn

from .factories import draft


async def test_a_message_id_is_kept_until_retired(journal: Journal) -> None:
    sub, _ = await journal.submit(draft())
    ids = (f"m-{i}" for i in itertools.count())
    messages = PeerMessages(journal)
    first = await messages.current(sub.id, "remd", lambda: next(ids))
    assert await messages.current(sub.id, "remd", lambda: next(ids)) == first == "m-0"
    await messages.retire(sub.id, "remd", first)
    assert await messages.current(sub.id, "remd", lambda: next(ids)) == "m-1"
    assert await messages.submission_of("remd", "m-0") == sub.id  # a retired id still matches
    assert await messages.submission_of("gis-77", "m-0") is None  # only for the peer it went to
    assert await messages.sent(sub.id, "remd") and not await messages.sent(sub.id, "gis-77")


async def test_one_receiver_holds_a_queue_until_it_releases_or_expires(journal: Journal) -> None:
    leases = ReceiverLeases(journal)
    assert await leases.acquire("smev", "a", 60)
    assert not await leases.acquire("smev", "b", 60)
    assert await leases.acquire("smev", "a", 60)  # renewal
    await leases.release("smev", "a")
    assert await leases.acquire("smev", "b", 0.01)
    await asyncio.sleep(0.05)
    assert await leases.acquire("smev", "a", 60)  # b's lease expired
    assert await leases.holder("smev") == "a"


@pytest.mark.parametrize("pmid", ["x-1", None])
async def test_an_unattributed_answer_is_kept_sealed_and_once(journal: Journal, pmid: str | None) -> None:
    inbox = Inbox(journal)
    env = [EnvelopeIn("in", "remd", "application/soap+xml", b"<forged/>")]
    kw = {"peer": "remd", "peer_message_id": pmid, "relates_to": "nope", "local_uid": "u", "envelopes": env}
    assert await inbox.unattributed(**kw)  # type: ignore[arg-type]
    assert await inbox.unattributed(**kw) is (pmid is None)  # type: ignore[arg-type]
    entries = await inbox.entries(kind="unattributed")
    assert len(entries) == (1 if pmid else 2)
    assert await inbox.body(entries[0].id) == b"<forged/>"

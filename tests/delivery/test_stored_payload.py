"""Reading a stored submission back: the decode without the schema walk gives what the full parse
gives, and validation hands what it decoded to delivery in the same process (the journal's copy
is read when the hand-off has nothing)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from gateway.delivery.stage import DeliveryStage
from gateway.intake.stored import Handoff, load_stored
from gateway.intake.submission import SchemaViolation, decode_stored, parse_submission
from gateway.journal.store import Journal
from gateway.model import State

from .scripted import ScriptedAdapter, accepted, canonical_json, make_peer, queued


def test_decode_stored_equals_the_full_parse() -> None:
    data: dict[str, Any] = canonical_json("uid-1") | {
        "document_number": "N-7",
        "callback_url": "https://mis.example/cb",
        "signatures": [{"type": "personal", "signer": {"snils": "11223344595"}, "cms": "MIIB"}],
    }
    assert decode_stored(json.loads(json.dumps(data))) == parse_submission(json.loads(json.dumps(data)))


def test_a_stored_payload_that_does_not_decode_gets_the_full_check() -> None:
    data = canonical_json("uid-2")
    del data["document"]
    with pytest.raises(SchemaViolation):
        decode_stored(data)


def test_handoff_is_bounded_and_taken_once() -> None:
    sub = parse_submission(canonical_json("uid-3"))
    handoff = Handoff(2)
    for sid in ("a", "b", "c"):
        handoff.put(sid, sub)
    assert len(handoff) == 2
    assert handoff.take("a") is None  # the oldest went first
    assert handoff.take("b") is sub
    assert handoff.take("b") is None


class _CountingJournal:
    """The journal with its payload reads counted."""

    def __init__(self, journal: Journal) -> None:
        self.inner = journal
        self.reads = 0

    async def payload(self, submission_id: str) -> bytes:
        self.reads += 1
        return await self.inner.payload(submission_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def _send(journal: Journal, handoff: Handoff, *, hand: bool) -> tuple[int, list[str]]:
    sub = await queued(journal, str(uuid.uuid4()))
    if hand:
        handoff.put(sub.id, await load_stored(journal, sub.id))
    counting = _CountingJournal(journal)
    adapter = ScriptedAdapter()
    adapter.answers.append(accepted())
    stage = DeliveryStage(counting, make_peer(adapter, journal.clock), handoff=handoff)  # type: ignore[arg-type]
    (claimed,) = await journal.claim_due("w", [State.QUEUED], limit=1, lease_seconds=60)
    await stage.handle(claimed, "w")
    assert (await journal.get(sub.id)).state is State.SENT
    return counting.reads, adapter.sent_local_uids


async def test_delivery_takes_what_validation_left_else_reads_the_journal(journal: Journal) -> None:
    handoff = Handoff()
    reads, sent = await _send(journal, handoff, hand=True)
    assert reads == 0 and len(sent) == 1
    assert len(handoff) == 0  # taken, not kept
    reads, sent = await _send(journal, handoff, hand=False)
    assert reads == 1 and len(sent) == 1

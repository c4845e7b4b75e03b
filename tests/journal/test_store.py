"""The journal against real SQLite and real PostgreSQL (every test runs on both)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from gateway.errors import ConcurrentUpdate, DuplicateConflict, IllegalTransition, NotFound
from gateway.journal.schema import envelopes, events, payloads, submissions
from gateway.journal.store import Changes, Journal, SearchQuery
from gateway.model import EnvelopeIn, State

from .factories import draft


async def _count(journal: Journal, table: sa.Table) -> int:
    async with journal.engine.connect() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one())


async def test_submit_is_durable_and_idempotent(journal: Journal) -> None:
    d = draft("uid-1")
    first, created = await journal.submit(d)
    assert created and first.state is State.RECEIVED
    again, created_again = await journal.submit(d)
    assert not created_again and again.id == first.id
    assert await _count(journal, submissions) == 1
    timeline = await journal.events(first.id)
    assert [(e.to_state, e.kind) for e in timeline] == [(State.RECEIVED, "state")]


async def test_same_uid_different_content_conflicts(journal: Journal) -> None:
    await journal.submit(draft("uid-2", content=b"one"))
    with pytest.raises(DuplicateConflict) as info:
        await journal.submit(draft("uid-2", content=b"two"))
    assert info.value.http_status == 409
    assert await _count(journal, submissions) == 1


async def test_same_uid_other_source_system_is_independent(journal: Journal) -> None:
    await journal.submit(draft("uid-3"))
    _, created = await journal.submit(draft("uid-3", source_system="other-mis"))
    assert created


async def test_payload_round_trip_is_sealed_at_rest(journal: Journal) -> None:
    body = b'{"patient": {"snils": "112-233-445 95", "family": "\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd\xd0\xbe\xd0\xb2"}}'
    sub, _ = await journal.submit(draft(content=body))
    assert await journal.payload(sub.id) == body
    async with journal.engine.connect() as conn:
        raw = (await conn.execute(sa.select(payloads.c.body))).scalar_one()
    assert b"112-233-445" not in raw and body not in raw


async def test_patient_id_is_stored_only_as_keyed_hash(journal: Journal) -> None:
    sub, _ = await journal.submit(draft(patient_id="112-233-445 95"))
    assert sub.patient_key == journal.patient_key("11223344595")
    assert sub.patient_key is not None and "11223344595" not in sub.patient_key


async def test_full_happy_path_records_every_step(journal: Journal) -> None:
    sub, _ = await journal.submit(draft())
    now = journal.clock.now()
    path = [
        (State.VALIDATED, Changes()),
        (State.QUEUED, Changes(next_attempt_at=now)),
        (State.SENT, Changes(answer_deadline=now + timedelta(minutes=15), count_attempt=True)),
        (State.REGISTERED, Changes(peer_registration_id="emdr-1", outcome_code="success")),
    ]
    for state, changes in path:
        sub = await journal.transition(sub.id, state, actor="test", changes=changes)
    assert sub.state is State.REGISTERED and sub.attempts == 1 and sub.peer_registration_id == "emdr-1"
    states = [e.to_state for e in await journal.events(sub.id)]
    assert states == [State.RECEIVED, State.VALIDATED, State.QUEUED, State.SENT, State.REGISTERED]


async def test_illegal_transition_changes_nothing(journal: Journal) -> None:
    sub, _ = await journal.submit(draft())
    with pytest.raises(IllegalTransition):
        await journal.transition(sub.id, State.SENT, actor="test")
    assert (await journal.get(sub.id)).state is State.RECEIVED
    assert len(await journal.events(sub.id)) == 1


async def test_expected_state_guards_against_stale_callers(journal: Journal) -> None:
    sub, _ = await journal.submit(draft())
    await journal.transition(sub.id, State.VALIDATED, actor="a", expected=State.RECEIVED)
    with pytest.raises(ConcurrentUpdate):
        await journal.transition(sub.id, State.REJECTED, actor="b", expected=State.RECEIVED)


async def test_failed_transaction_leaves_no_partial_state(journal: Journal) -> None:
    """An envelope that cannot be stored aborts the whole transition: no state change, no event."""
    sub, _ = await journal.submit(draft())
    env = EnvelopeIn(direction="out", peer="remd", content_type="text/xml", body=b"<a/>")
    events_before = await _count(journal, events)

    class Boom(Exception):
        pass

    original = journal._insert_event

    async def failing_insert(*args: object, **kwargs: object) -> int:
        await original(*args, **kwargs)  # type: ignore[arg-type]
        raise Boom  # fail after the event and envelope rows were written inside the transaction

    journal._insert_event = failing_insert  # type: ignore[method-assign]
    with pytest.raises(Boom):
        await journal.transition(sub.id, State.VALIDATED, actor="test", envelopes_in=[env])
    journal._insert_event = original  # type: ignore[method-assign]
    assert (await journal.get(sub.id)).state is State.RECEIVED
    assert await _count(journal, events) == events_before
    assert await _count(journal, envelopes) == 0


async def test_envelopes_are_stored_with_their_event(journal: Journal) -> None:
    sub, _ = await journal.submit(draft())
    await journal.transition(sub.id, State.VALIDATED, actor="t")
    await journal.transition(sub.id, State.QUEUED, actor="t")
    out = EnvelopeIn("out", "remd", "application/soap+xml", b"<soap>request</soap>")
    back = EnvelopeIn("in", "remd", "application/soap+xml", b"<soap>accepted</soap>")
    await journal.transition(sub.id, State.SENT, actor="t", envelopes_in=[out, back])
    metas = await journal.envelopes(sub.id)
    assert [(m.direction, m.size) for m in metas] == [("out", 20), ("in", 21)]
    sent_event = (await journal.events(sub.id))[-1]
    assert {m.event_id for m in metas} == {sent_event.id}
    assert await journal.envelope_body(metas[1].id) == b"<soap>accepted</soap>"


async def test_note_adds_to_timeline_without_state_change(journal: Journal) -> None:
    sub, _ = await journal.submit(draft())
    await journal.note(sub.id, kind="callback", actor="remd", code="late", message="late callback")
    timeline = await journal.events(sub.id)
    assert timeline[-1].kind == "callback" and timeline[-1].to_state is None
    assert (await journal.get(sub.id)).state is State.RECEIVED


async def test_unknown_ids(journal: Journal) -> None:
    with pytest.raises(NotFound):
        await journal.get("nope")
    with pytest.raises(NotFound):
        await journal.transition("nope", State.VALIDATED, actor="t")


async def test_counts_by_state(journal: Journal) -> None:
    a, _ = await journal.submit(draft())
    await journal.submit(draft())
    await journal.transition(a.id, State.REJECTED, actor="t", code="FLK")
    counts = await journal.counts_by_state()
    assert counts[State.RECEIVED] == 1 and counts[State.REJECTED] == 1 and sum(counts.values()) == 2


async def test_search_by_several_kinds_is_one_query_over_all_of_them(journal: Journal) -> None:
    """The late-arrival rule's look-up: a patient's documents of any of several kinds at once."""
    made = {kind: (await journal.submit(draft(kind=kind)))[0] for kind in ("121", "35", "108")}
    await journal.submit(draft(kind="35", patient_id="000-000-000 00"))  # another patient
    items, _ = await journal.search(SearchQuery(kinds=("35", "108"), patient_id="112-233-445 95"))
    assert {s.id for s in items} == {made["35"].id, made["108"].id}
    items, _ = await journal.search(SearchQuery(kinds=("35", "108"), kind="35", patient_id="112-233-445 95"))
    assert [s.id for s in items] == [made["35"].id]


async def test_concurrent_first_versions_are_committed_together_and_each_answered(journal: Journal) -> None:
    """Group commit: submissions arriving together are written in one transaction, a resend among
    them (same localUid and content) still gets its original, a conflicting one a 409, and every
    answered submission is in the journal with its payload and RECEIVED event."""
    import asyncio

    commits = 0

    @sa.event.listens_for(journal.engine.sync_engine, "commit")
    def _count_commit(_conn: object) -> None:
        nonlocal commits
        commits += 1

    drafts = [draft(f"gc-{i}", content=f"body-{i}".encode()) for i in range(20)]
    results = await asyncio.gather(
        *(journal.submit(d) for d in drafts),
        journal.submit(drafts[3]),  # a resend racing its original
        journal.submit(draft("gc-5", content=b"other")),  # the same localUid, other content
        return_exceptions=True,
    )
    sa.event.remove(journal.engine.sync_engine, "commit", _count_commit)
    created = [r for r in results[:20] if not isinstance(r, BaseException)]
    assert all(c for _, c in created) and len(created) == 20
    resend, conflict = results[20], results[21]
    assert not isinstance(resend, BaseException) and resend[0].id == created[3][0].id and not resend[1]
    assert isinstance(conflict, DuplicateConflict)
    assert commits < 20  # fewer transactions than submissions
    assert await _count(journal, submissions) == 20
    for (sub, _), d in zip(created, drafts, strict=True):
        assert await journal.payload(sub.id) == d.payload
        assert [(e.to_state, e.kind) for e in await journal.events(sub.id)] == [(State.RECEIVED, "state")]

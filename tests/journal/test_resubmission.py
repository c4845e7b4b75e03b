"""A corrected document resent under the same localUid after a final refusal becomes a new version
linked to the refused one; while the earlier one may still register, it is a conflict (409).
Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa

from gateway.errors import ConcurrentUpdate, DuplicateConflict
from gateway.journal.schema import submissions
from gateway.journal.store import Changes, Journal
from gateway.model import State, Submission

from .factories import draft


async def _to(journal: Journal, sub: Submission, *path: State) -> Submission:
    now = journal.clock.now()
    for state in path:
        changes = Changes()
        if state is State.QUEUED:
            changes = Changes(next_attempt_at=now)
        elif state is State.SENT:
            changes = Changes(answer_deadline=now + timedelta(minutes=5), count_attempt=True)
        sub = await journal.transition(sub.id, state, actor="test", changes=changes)
    return sub


async def _rows(journal: Journal, local_uid: str) -> int:
    async with journal.engine.connect() as conn:
        query = sa.select(sa.func.count()).select_from(submissions).where(submissions.c.local_uid == local_uid)
        return int((await conn.execute(query)).scalar_one())


async def test_after_a_rejection_different_content_is_version_2_on_both_timelines(journal: Journal) -> None:
    first, _ = await journal.submit(draft("uid-r", content=b"one"))
    await _to(journal, first, State.REJECTED)
    second, created = await journal.submit(draft("uid-r", content=b"two"))
    assert created and second.id != first.id
    assert (second.version, second.supersedes, second.state) == (2, first.id, State.RECEIVED)
    assert (await journal.find("mis-test", "uid-r")) == second  # the latest version
    assert [s.id for s in await journal.versions("mis-test", "uid-r")] == [first.id, second.id]
    assert (await journal.get(first.id)).state is State.REJECTED  # the refused version stays as it was
    new_events = await journal.events(second.id)
    assert new_events[0].message == "received: version 2, resubmitted after REJECTED"
    assert new_events[0].details == {"supersedes": first.id, "version": 2}
    old_events = await journal.events(first.id)
    assert old_events[-1].kind == "note" and old_events[-1].details == {"superseded_by": second.id, "version": 2}
    # resending version 2 is idempotent; version 1's content again is a conflict (version 2 is live)
    again, created_again = await journal.submit(draft("uid-r", content=b"two"))
    assert not created_again and again.id == second.id
    with pytest.raises(DuplicateConflict):
        await journal.submit(draft("uid-r", content=b"one"))
    assert await _rows(journal, "uid-r") == 2


async def test_after_a_permanent_failure_a_version_2_and_the_old_one_cannot_be_resent(journal: Journal) -> None:
    first, _ = await journal.submit(draft("uid-f", content=b"one"))
    first = await _to(journal, first, State.VALIDATED, State.QUEUED, State.SENT, State.FAILED)
    second, created = await journal.submit(draft("uid-f", content=b"two"))
    assert created and second.version == 2 and second.supersedes == first.id
    with pytest.raises(ConcurrentUpdate, match="superseded by version 2"):
        await journal.transition(first.id, State.QUEUED, actor="operator", changes=Changes(next_attempt_at=None))
    assert (await journal.get(first.id)).state is State.FAILED


@pytest.mark.parametrize(
    "path",
    [
        (),  # RECEIVED
        (State.VALIDATED, State.QUEUED, State.SENT),
        (State.VALIDATED, State.QUEUED, State.SENT, State.RECONCILING),
        (State.VALIDATED, State.QUEUED, State.SENT, State.DEAD),  # may have registered at the peer
        (State.VALIDATED, State.QUEUED, State.SENT, State.REGISTERED),
    ],
    ids=["received", "sent", "reconciling", "dead", "registered"],
)
async def test_while_the_earlier_one_may_register_it_is_a_conflict(journal: Journal, path: tuple[State, ...]) -> None:
    first, _ = await journal.submit(draft("uid-c", content=b"one"))
    first = await _to(journal, first, *path)
    with pytest.raises(DuplicateConflict) as info:
        await journal.submit(draft("uid-c", content=b"two"))
    assert info.value.http_status == 409 and str(first.state) in info.value.message
    assert await _rows(journal, "uid-c") == 1


async def test_an_operator_resend_in_between_wins_over_the_new_version(journal: Journal) -> None:
    first, _ = await journal.submit(draft("uid-o", content=b"one"))
    first = await _to(journal, first, State.VALIDATED, State.QUEUED, State.SENT, State.FAILED)
    await journal.transition(first.id, State.QUEUED, actor="operator", changes=Changes(next_attempt_at=None))
    with pytest.raises(DuplicateConflict, match="QUEUED"):
        await journal.submit(draft("uid-o", content=b"two"))
    assert await _rows(journal, "uid-o") == 1


async def test_concurrent_corrections_make_exactly_one_version(journal: Journal) -> None:
    first, _ = await journal.submit(draft("uid-x", content=b"zero"))
    await _to(journal, first, State.REJECTED)
    results = await asyncio.gather(
        *(journal.submit(draft("uid-x", content=f"fix-{i}".encode())) for i in range(6)), return_exceptions=True
    )
    created = [r for r in results if isinstance(r, tuple) and r[1]]
    conflicts = [r for r in results if isinstance(r, DuplicateConflict)]
    assert len(created) == 1 and len(conflicts) == 5, results
    assert created[0][0].version == 2
    assert await _rows(journal, "uid-x") == 2

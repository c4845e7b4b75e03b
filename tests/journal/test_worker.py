"""The claim loop: processes due rows once each, and on shutdown releases what it could not finish."""

from __future__ import annotations

import asyncio

from gateway.journal.store import Journal
from gateway.journal.worker import submission_loop
from gateway.model import State, Submission

from .test_claims import seed_due


async def test_loop_handles_each_row_once(journal: Journal) -> None:
    ids = await seed_due(journal, 30)
    seen: list[str] = []

    async def handler(sub: Submission, owner: str) -> None:
        seen.append(sub.id)
        await journal.transition(sub.id, State.SENT, actor=owner, lease_owner=owner)

    loop = submission_loop(journal, role="test", states=[State.QUEUED], handler=handler, concurrency=4, idle_sleep=0.05)
    task = asyncio.create_task(loop.run())
    for _ in range(200):
        if len(seen) >= 30:
            break
        await asyncio.sleep(0.05)
    await loop.stop(grace=1)
    await task
    assert sorted(seen) == sorted(ids)
    assert (await journal.counts_by_state())[State.SENT] == 30


async def test_stop_releases_leases_of_unfinished_work(journal: Journal) -> None:
    ids = await seed_due(journal, 3)
    started = asyncio.Event()

    async def slow(sub: Submission, owner: str) -> None:
        started.set()
        await asyncio.sleep(3600)

    loop = submission_loop(journal, role="slow", states=[State.QUEUED], handler=slow, concurrency=3, idle_sleep=0.05)
    task = asyncio.create_task(loop.run())
    await asyncio.wait_for(started.wait(), 5)
    await loop.stop(grace=0.1)
    await task
    # Released at once, not after lease expiry: another worker gets them immediately.
    again = await journal.claim_due("next", [State.QUEUED], limit=10, lease_seconds=60)
    assert {s.id for s in again} == ids


async def test_rows_claimed_while_stopping_are_given_back_not_started(journal: Journal) -> None:
    """stop() can begin while a claim is under way; what that claim returns must not be handed to
    handlers (their resources are being closed) and must not stay leased until expiry."""
    ids = await seed_due(journal, 3)
    claiming, stopped = asyncio.Event(), asyncio.Event()
    handled: list[str] = []

    async def handler(sub: Submission, owner: str) -> None:
        handled.append(sub.id)

    loop = submission_loop(journal, role="late", states=[State.QUEUED], handler=handler, concurrency=3, idle_sleep=0.05)
    claim = loop._claim

    async def slow_claim(owner: str, limit: int) -> list[Submission]:
        claiming.set()
        await stopped.wait()  # the claim commits only after stop() has released this owner's leases
        return await claim(owner, limit)

    loop._claim = slow_claim
    task = asyncio.create_task(loop.run())
    await asyncio.wait_for(claiming.wait(), 5)
    await loop.stop(grace=0.1)
    stopped.set()
    await asyncio.wait_for(task, 5)
    assert handled == []
    again = await journal.claim_due("next", [State.QUEUED], limit=10, lease_seconds=60)
    assert {s.id for s in again} == ids


async def test_crashing_handler_does_not_stop_the_loop(journal: Journal) -> None:
    await seed_due(journal, 2)
    calls = 0

    async def crash(sub: Submission, owner: str) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("boom")

    loop = submission_loop(journal, role="crash", states=[State.QUEUED], handler=crash, concurrency=2, idle_sleep=0.05)
    task = asyncio.create_task(loop.run())
    await asyncio.sleep(0.5)
    await loop.stop(grace=0.1)
    await task
    assert calls == 2  # each crashed once; their leases keep them away until expiry

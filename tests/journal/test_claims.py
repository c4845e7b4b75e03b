"""Work claiming: each due row to exactly one worker, leases that expire, release on shutdown."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from gateway.common.secrets import DeploymentSecret
from gateway.errors import ConcurrentUpdate
from gateway.journal.engine import create_engine
from gateway.journal.schema import submissions
from gateway.journal.store import Journal
from gateway.model import State


class FrozenClock:
    def __init__(self) -> None:
        self.t = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.t


async def seed_due(journal: Journal, n: int, state: State = State.QUEUED) -> set[str]:
    """Insert ``n`` due rows directly (the claim API is what is under test, not intake)."""
    now = journal.clock.now()
    rows = [
        {
            "id": str(uuid.uuid4()),
            "source_system": "seed",
            "local_uid": f"seed-{i}",
            "kind": "35",
            "organization_oid": "1.2.3",
            "state": str(state),
            "attempts": 0,
            "content_hash": "0" * 64,
            "next_attempt_at": now - timedelta(seconds=1),
            "created_at": now,
            "updated_at": now,
        }
        for i in range(n)
    ]
    async with journal.engine.begin() as conn:
        await conn.execute(submissions.insert(), rows)
    return {r["id"] for r in rows}  # type: ignore[misc]


async def _drain(journal: Journal, owner: str, batch: int) -> list[str]:
    got: list[str] = []
    while True:
        claimed = await journal.claim_due(owner, [State.QUEUED], limit=batch, lease_seconds=300)
        if not claimed:
            return got
        got.extend(s.id for s in claimed)
        await asyncio.sleep(0)


async def _concurrent_claimers(url: str, secret: DeploymentSecret, n_rows: int, n_claimers: int) -> None:
    # Each claimer has its own engine: separate connection pools, as separate processes would.
    engines = [create_engine(url, pool_size=2) for _ in range(n_claimers)]
    try:
        seeder = Journal(engines[0], secret)
        expected = await seed_due(seeder, n_rows)
        journals = [Journal(e, secret) for e in engines]
        results = await asyncio.gather(*(_drain(j, f"w{i}", 25) for i, j in enumerate(journals)))
    finally:
        for e in engines:
            await e.dispose()
    flat = [sid for r in results for sid in r]
    assert len(flat) == len(set(flat)), "a row was handed to two claimers"
    assert set(flat) == expected, "some due rows were never claimed"
    assert sum(1 for r in results if r) > 1, "claims were not actually concurrent"


@pytest.mark.postgres
async def test_eight_claimers_over_2000_rows_postgres(pg_url: str, secret: DeploymentSecret) -> None:
    await _concurrent_claimers(pg_url, secret, 2000, 8)


async def test_eight_claimers_sqlite(sqlite_url: str, secret: DeploymentSecret) -> None:
    engine = create_engine(sqlite_url)
    from gateway.journal.migrate import upgrade

    await upgrade(engine)
    await engine.dispose()
    await _concurrent_claimers(sqlite_url, secret, 600, 8)


async def test_expired_lease_returns_the_row(db_url: str, secret: DeploymentSecret) -> None:
    clock = FrozenClock()
    engine = create_engine(db_url)
    if engine.dialect.name == "sqlite":
        from gateway.journal.migrate import upgrade

        await upgrade(engine)
    journal = Journal(engine, secret, clock=clock)
    try:
        (sid,) = await seed_due(journal, 1)
        first = await journal.claim_due("crashed", [State.QUEUED], limit=10, lease_seconds=60)
        assert [s.id for s in first] == [sid]
        assert await journal.claim_due("other", [State.QUEUED], limit=10, lease_seconds=60) == []
        clock.t += timedelta(seconds=61)
        second = await journal.claim_due("other", [State.QUEUED], limit=10, lease_seconds=60)
        assert [s.id for s in second] == [sid] and second[0].lease_owner == "other"
        # The crashed worker comes back: its lease is gone, so its transition is refused.
        with pytest.raises(ConcurrentUpdate):
            await journal.transition(sid, State.SENT, actor="crashed", lease_owner="crashed")
        done = await journal.transition(sid, State.SENT, actor="other", lease_owner="other")
        assert done.lease_owner is None and done.lease_until is None
    finally:
        await engine.dispose()


async def test_not_due_rows_are_not_claimed(journal: Journal) -> None:
    (sid,) = await seed_due(journal, 1)
    async with journal.engine.begin() as conn:
        await conn.execute(
            submissions.update()
            .where(submissions.c.id == sid)
            .values(next_attempt_at=journal.clock.now() + timedelta(hours=1))
        )
    assert await journal.claim_due("w", [State.QUEUED], limit=5, lease_seconds=30) == []
    assert await journal.claim_due("w", [State.SENT], limit=5, lease_seconds=30) == []


async def test_release_gives_rows_back(journal: Journal) -> None:
    ids = await seed_due(journal, 3)
    claimed = await journal.claim_due("w1", [State.QUEUED], limit=10, lease_seconds=300)
    assert {s.id for s in claimed} == ids
    assert await journal.release("w1") == 3
    again = await journal.claim_due("w2", [State.QUEUED], limit=10, lease_seconds=300)
    assert {s.id for s in again} == ids
    async with journal.engine.connect() as conn:
        owners = set((await conn.execute(sa.select(submissions.c.lease_owner))).scalars())
    assert owners == {"w2"}

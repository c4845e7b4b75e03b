"""Work announced across processes: on PostgreSQL a committed submission NOTIFYs the validation
loop and a routed one its peer's delivery loop, through a listener of another engine (another
process's, as far as the database can tell); a rolled-back one announces nothing."""

from __future__ import annotations

import asyncio

import pytest

from gateway.common.secrets import DeploymentSecret
from gateway.journal.engine import create_engine
from gateway.journal.store import Changes, Journal
from gateway.journal.wakeup import announce, listening
from gateway.model import State

from .factories import draft


async def _until(woken: list[str], wanted: str) -> None:
    for _ in range(100):
        if wanted in woken:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{wanted!r} not announced; got {woken}")


@pytest.mark.postgres
async def test_a_committed_submission_and_routing_wake_another_process(pg_url: str, secret: DeploymentSecret) -> None:
    writer, other = create_engine(pg_url), create_engine(pg_url)
    journal = Journal(writer, secret)
    woken: list[str] = []
    try:
        async with listening(other, woken.append):
            async with writer.begin() as conn:  # rolled back: no notice
                await announce(conn, "rolled-back")
                await conn.rollback()
            sub, _ = await journal.submit(draft())
            await _until(woken, "validation")
            await journal.transition(sub.id, State.VALIDATED, actor="t")
            await journal.transition(sub.id, State.QUEUED, actor="t", changes=Changes(destination="remd"))
            await _until(woken, "delivery:remd")
        assert "rolled-back" not in woken
    finally:
        await writer.dispose()
        await other.dispose()


async def test_sqlite_listens_to_nothing_and_announces_nothing(sqlite_url: str, secret: DeploymentSecret) -> None:
    engine = create_engine(sqlite_url)
    woken: list[str] = []
    try:
        async with listening(engine, woken.append), engine.begin() as conn:
            await announce(conn, "validation")  # no statement on SQLite
        assert woken == []
    finally:
        await engine.dispose()

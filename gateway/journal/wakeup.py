"""New work announced across processes (PostgreSQL LISTEN/NOTIFY).

A process that journals new work (a submission received, a document routed to a peer) wakes its
own claim loops directly; other processes sharing the journal would find it only at their next idle
poll. On PostgreSQL the writer also NOTIFYs, inside the transaction that creates the work — so the
notice is delivered on commit, never for work that was rolled back — and every process LISTENs on
one connection of its own and wakes the loop named in the notice. Notices are a hint: a missed one
(the listening connection lost, a process starting) costs at most one idle poll, which stays.
SQLite has no other process to tell (one writer host) and does nothing here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.common.logs import get_logger

__all__ = ["CHANNEL", "announce", "listening"]

_log: Final = get_logger(__name__)
CHANNEL: Final = "mse_gateway_work"
_NOTIFY: Final = sa.text("SELECT pg_notify(:channel, :loop)")


async def announce(conn: AsyncConnection, loop: str) -> None:
    """Tell the other processes that ``loop`` (a claim loop's name: ``validation``,
    ``delivery:<peer>``) has new work, when ``conn``'s transaction commits (PostgreSQL only)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(_NOTIFY, {"channel": CHANNEL, "loop": loop})


@asynccontextmanager
async def listening(engine: AsyncEngine, wake: Callable[[str], None]) -> AsyncIterator[None]:
    """Call ``wake(loop)`` for every notice while the block runs (PostgreSQL; elsewhere nothing).
    A listener that cannot connect is logged and skipped: the loops still poll."""
    if engine.dialect.name != "postgresql":
        yield
        return
    import asyncpg

    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    conn: Any = None
    try:
        conn = await asyncpg.connect(url)
        await conn.add_listener(CHANNEL, lambda _conn, _pid, _channel, payload: wake(payload))
    except (OSError, asyncpg.PostgresError) as exc:
        _log.warning("not listening for other processes' work; idle polls only", error=str(exc)[:200])
        conn = None
    try:
        yield
    finally:
        if conn is not None:
            await conn.close()

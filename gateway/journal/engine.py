"""Database engines for the journal: SQLite (embedded default, WAL) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from gateway.journal.sqlite_driver import connect as connect_sqlite

__all__ = ["READ_ONLY", "create_engine", "normalise_url"]

# Execution option marking a read-only transaction: on SQLite it begins DEFERRED instead of
# IMMEDIATE so readers (dashboards) never hold the write lock.
READ_ONLY = "journal_read_only"


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` / ``sqlite:///`` URLs and pick the async drivers."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres", "postgresql+psycopg2"}:
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed.render_as_string(hide_password=False)


def _sqlite_from_hint(self: SQLiteCompiler, table: Any, text: str) -> str:
    return text


# ``Select.with_hint(table, "INDEXED BY ix_…", "sqlite")``: SQLAlchemy's SQLite compiler drops table
# hints (its get_from_hint_text returns None); SQLite accepts INDEXED BY right after the table name.
# Used where SQLite, without statistics, would pick a state index over a partial one and read every
# final row ever (gateway.journal.archive, gateway.ui.queries.failed_with_codes).
SQLiteCompiler.get_from_hint_text = _sqlite_from_hint  # type: ignore[method-assign,assignment]


def create_engine(
    url: str,
    *,
    pool_size: int = 10,
    sqlite_busy_timeout_ms: int = 30_000,
    sqlite_synchronous: str = "FULL",
) -> AsyncEngine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        database = parsed.database or ":memory:"
        engine = create_async_engine(
            url,
            async_creator=connect_sqlite(database, timeout=sqlite_busy_timeout_ms / 1000),
            pool_size=pool_size,
            max_overflow=pool_size,
        )
        _configure_sqlite(engine, sqlite_busy_timeout_ms, sqlite_synchronous)
        return engine
    # No pre-ping (a round trip per checkout, measured as a large share of a short transaction);
    # SQLAlchemy invalidates the pool on a disconnect error and connections are recycled hourly.
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=3600)


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: int, synchronous: str) -> None:
    @sa.event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module so BEGIN IMMEDIATE is ours to
        # issue: the write lock is then taken at the start of a write transaction, and two
        # writers never deadlock upgrading a shared lock (SQLITE_BUSY mid-transaction).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @sa.event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

"""SQLite through aiosqlite with one thread hop per statement instead of four.

aiosqlite runs each connection's sqlite3 calls on a thread of its own; every call is a queue put,
a thread wake-up and a wake-up of the event loop. SQLAlchemy's aiosqlite adapter makes four such
trips per statement (open a cursor, execute, fetch the rows, close the cursor), and one document's
journal work took about 137 of them — most of the journal's CPU time (docs/benchmarks.md). The
connection handed to SQLAlchemy here is aiosqlite's own, except that its cursors execute, fetch
and close in a single trip (the rows are small: the journal never streams a result).

Most statements do not even take that trip: inside a transaction, a statement of the journal runs
in tens of microseconds and cannot wait for a lock (a write transaction begins IMMEDIATE, holding
the write lock; a WAL reader takes none), so it runs right on the event loop's thread — the trip
cost far more CPU than the statement (a queue put, two thread wake-ups and the GIL handed back and
forth). Only what can block goes to the connection's thread: ``BEGIN IMMEDIATE`` (it may wait for
another process's writer, up to ``busy_timeout``), ``COMMIT`` (the fsync of ``synchronous=FULL``)
and any statement outside a transaction (it takes its own lock and commits). The sqlite3
connection is opened with ``check_same_thread=False`` for this; SQLAlchemy never uses a connection
from two tasks at once, so its calls stay sequential whichever thread runs them.

Written by hand because neither library offers it; it relies on two long-stable internals of
aiosqlite (``Connection._execute`` runs a function on the connection's thread, ``_conn`` is the
sqlite3 connection there) and is exercised by every journal test on SQLite.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import aiosqlite

__all__ = ["connect"]

_Result = tuple[Any, list[Any], int, Any]


class _Cursor:
    """The part of an aiosqlite cursor SQLAlchemy's adapter uses, one trip per execute."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: Any = None
        self.arraysize = 1
        self._rows: list[Any] = []

    async def __aenter__(self) -> _Cursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._rows = []

    async def _run(self, work: Callable[[sqlite3.Cursor], object], *, inline: bool = False) -> None:
        def call() -> _Result:
            cursor = self._connection._conn.cursor()
            try:
                work(cursor)
                description = cursor.description
                rows = cursor.fetchall() if description else []
                return description, rows, cursor.rowcount, cursor.lastrowid
            finally:
                cursor.close()

        if inline:
            result = call()
        else:
            result = await self._connection._execute(call)  # type: ignore[no-untyped-call]
        self.description, self._rows, self.rowcount, self.lastrowid = result

    def _inline(self, sql: str) -> bool:
        """Whether ``sql`` can run on the caller's thread: inside a transaction, and not a
        statement that waits for a lock or the disk (see the module doc)."""
        if not self._connection._conn.in_transaction:
            return sql == "BEGIN"  # a deferred BEGIN takes no lock
        head = sql.lstrip()[:8].upper()
        return not (head.startswith("COMMIT") or head.startswith("END") or head.startswith("BEGIN"))

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> _Cursor:
        args = () if parameters is None else (parameters,)
        await self._run(lambda cursor: cursor.execute(sql, *args), inline=self._inline(sql))
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> _Cursor:
        rows = list(parameters)
        await self._run(lambda cursor: cursor.executemany(sql, rows), inline=self._inline(sql))
        return self

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        n = self.arraysize if size is None else size
        taken, self._rows = self._rows[:n], self._rows[n:]
        return taken

    async def fetchall(self) -> list[Any]:
        taken, self._rows = self._rows, []
        return taken

    async def close(self) -> None:
        self._rows = []


class _Connection:
    """An aiosqlite connection whose ``cursor()`` is a :class:`_Cursor`; all else is delegated."""

    def __init__(self, inner: aiosqlite.Connection) -> None:
        self._inner = inner

    def cursor(self) -> _Cursor:
        return _Cursor(self._inner)

    async def rollback(self) -> None:
        # Ending a transaction without writing to disk (a read, or a write that failed): no trip.
        self._inner._conn.rollback()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def connect(database: str, *, timeout: float) -> Callable[[], Any]:
    """An ``async_creator`` for ``create_async_engine``: opens ``database`` with aiosqlite."""

    async def creator() -> _Connection:
        pending = aiosqlite.connect(database, timeout=timeout, check_same_thread=False)
        pending._thread.daemon = True  # as SQLAlchemy does: never keep the interpreter alive
        return _Connection(await pending)

    return creator

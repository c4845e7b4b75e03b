"""What every part of the journal shares: the engine, sealing of bodies, write and read
transactions, and timeline events."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.common.clock import Clock, SystemClock
from gateway.common.pii import patient_key
from gateway.common.secrets import DeploymentSecret
from gateway.journal import statements as st
from gateway.journal.codec import CODEC_NAME, BodyCodec
from gateway.journal.engine import READ_ONLY
from gateway.model import EnvelopeIn, State

__all__ = ["JournalBase"]


class JournalBase:
    """Async access to the journal tables. Stateless apart from the engine: any number of
    processes may share one PostgreSQL database."""

    def __init__(self, engine: AsyncEngine, secret: DeploymentSecret, *, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock: Clock = clock or SystemClock()
        self._codec = BodyCodec(secret.derive("journal-bodies"))
        self._patient_secret = secret.derive("patient-key")
        self._postgres = engine.dialect.name == "postgresql"
        self._write_lock = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    # -- helpers -----------------------------------------------------------------------------

    def open_body(self, sealed: bytes, *, bind: str) -> bytes:
        return self._codec.open(sealed, bind=bind)

    def seal_body(self, body: bytes, *, bind: str) -> bytes:
        """Seal a body as envelopes are sealed (for journal modules outside this one)."""
        return self._codec.seal(body, bind=bind)

    def patient_key(self, person_id: str) -> str:
        return patient_key(self._patient_secret, person_id)

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction. On SQLite, writers of this process take turns on an asyncio lock
        before BEGIN IMMEDIATE: SQLite admits one writer at a time anyway, and waiting here costs
        nothing, while waiting in SQLite's busy handler sleeps in steps of up to 100 ms (measured:
        intake fell to 17 submissions/s under contention without this). Other processes sharing
        the file still queue on busy_timeout."""
        if self._write_lock is None:
            async with self.engine.begin() as conn:
                yield conn
            return
        async with self._write_lock, self.engine.begin() as conn:
            yield conn

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            yield await conn.execution_options(**{READ_ONLY: True})

    def reading(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A read-only connection, for journal modules outside this one. On SQLite a plain
        ``engine.connect()`` begins ``BEGIN IMMEDIATE``: it takes the write lock (waiting for the
        writer of the moment, outside this process's write lock) and a trip to the connection's
        thread, for a SELECT that needs neither."""
        return self._reading()

    async def _insert_event(
        self,
        conn: AsyncConnection,
        submission_id: str,
        *,
        at: datetime,
        kind: str,
        actor: str,
        from_state: State | None = None,
        to_state: State | None = None,
        code: str | None = None,
        message: str | None = None,
        details: dict[str, Any] | None = None,
        envelopes_in: Iterable[EnvelopeIn] = (),
    ) -> int:
        result = await conn.execute(
            st.INSERT_EVENT,
            {
                "submission_id": submission_id,
                "at": at,
                "kind": kind,
                "from_state": str(from_state) if from_state else None,
                "to_state": str(to_state) if to_state else None,
                "actor": actor,
                "code": code,
                "message": message,
                "details": details,
            },
        )
        event_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        rows = [
            {
                "submission_id": submission_id,
                "event_id": event_id,
                "at": at,
                "direction": env.direction,
                "peer": env.peer,
                "content_type": env.content_type,
                "size": len(env.body),
                "sha256": hashlib.sha256(env.body).hexdigest(),
                "codec": CODEC_NAME,
                "body": self._codec.seal(env.body, bind=submission_id),
            }
            for env in envelopes_in
        ]
        if rows:
            await conn.execute(st.INSERT_ENVELOPES, rows)
        return event_id

    # -- intake ------------------------------------------------------------------------------

    async def ping(self) -> None:
        async with self._reading() as conn:
            await conn.execute(sa.text("SELECT 1"))

"""A claim loop: the shape every background worker (delivery, reconciliation, notifications) shares.

Workers are stateless. Each iteration claims due rows from the journal with a lease, handles them
concurrently, and lets the handler's own transition release each lease. On shutdown the loop stops
claiming, gives in-flight handlers ``grace`` seconds to finish, cancels the rest and releases their
leases at once so another process can pick them up without waiting for expiry.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Final

from gateway.journal.store import Journal
from gateway.logs import bind_ids, get_logger
from gateway.model import State, Submission

__all__ = ["ClaimLoop", "Handler", "worker_id"]

Handler = Callable[[Submission, str], Awaitable[None]]
_log: Final = get_logger(__name__)


def worker_id(role: str) -> str:
    """Unique per process and loop, readable in the journal (host:pid:role:random)."""
    return f"{socket.gethostname()}:{os.getpid()}:{role}:{uuid.uuid4().hex[:6]}"


class ClaimLoop:
    def __init__(
        self,
        journal: Journal,
        *,
        role: str,
        states: Iterable[State],
        handler: Handler,
        concurrency: int = 8,
        lease_seconds: float = 120.0,
        idle_sleep: float = 0.5,
        due_column: str = "next_attempt_at",
    ) -> None:
        self.journal = journal
        self.role = role
        self.owner = worker_id(role)
        self.states = tuple(states)
        self.handler = handler
        self.concurrency = concurrency
        self.lease_seconds = lease_seconds
        self.idle_sleep = idle_sleep
        self.due_column = due_column
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._inflight: dict[str, asyncio.Task[None]] = {}

    def wake(self) -> None:
        """Something became due (new intake, a callback): skip the idle sleep."""
        self._wake.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            free = self.concurrency - len(self._inflight)
            claimed: list[Submission] = []
            if free > 0:
                try:
                    claimed = await self.journal.claim_due(
                        self.owner,
                        self.states,
                        limit=free,
                        lease_seconds=self.lease_seconds,
                        due_column=self.due_column,
                    )
                except Exception:
                    _log.exception("claim failed", worker=self.owner)
            for sub in claimed:
                self._inflight[sub.id] = asyncio.create_task(self._handle(sub), name=f"{self.role}:{sub.id}")
            # Sleep until something is woken, a handler frees a slot, or idle_sleep passes.
            self._wake.clear()
            waiters: list[asyncio.Future[object]] = [
                asyncio.ensure_future(self._wake.wait()),
                asyncio.ensure_future(self._stopping.wait()),
            ]
            if self._inflight:
                waiters.append(
                    asyncio.ensure_future(asyncio.wait(list(self._inflight.values()), return_when="FIRST_COMPLETED"))
                )
            _, pending = await asyncio.wait(waiters, timeout=self.idle_sleep, return_when="FIRST_COMPLETED")
            for fut in pending:
                fut.cancel()

    async def _handle(self, sub: Submission) -> None:
        bind_ids(submission_id=sub.id)
        try:
            await self.handler(sub, self.owner)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The lease is left to expire rather than released: a handler that crashes on a row
            # should not spin on it; it comes back after lease_seconds.
            _log.exception("handler failed", worker=self.owner, role=self.role)
        finally:
            self._inflight.pop(sub.id, None)

    async def stop(self, grace: float = 10.0) -> None:
        self._stopping.set()
        self._wake.set()
        tasks = list(self._inflight.values())
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        released = await self.journal.release(self.owner)
        if released:
            _log.info("leases released on shutdown", worker=self.owner, count=released)

"""A claim loop: the shape every background worker (validation, delivery, reconciliation,
notifications) shares.

Workers are stateless. Each iteration claims due items from the journal with a lease, handles them
concurrently, and lets the handler's own journal write release each lease. On shutdown the loop
stops claiming, gives in-flight handlers ``grace`` seconds to finish, cancels the rest and releases
their leases at once, so another process can pick them up without waiting for expiry.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Final, Generic, TypeVar

from gateway.common.logs import bind_ids, get_logger
from gateway.errors import ConcurrentUpdate
from gateway.journal.store import Journal
from gateway.model import State, Submission

__all__ = ["ClaimLoop", "submission_loop", "worker_id"]

T = TypeVar("T")
_log: Final = get_logger(__name__)


def worker_id(role: str) -> str:
    """Unique per process and loop, readable in the journal (host:pid:role:random)."""
    return f"{socket.gethostname()}:{os.getpid()}:{role}:{uuid.uuid4().hex[:6]}"


class ClaimLoop(Generic[T]):
    def __init__(
        self,
        *,
        role: str,
        claim: Callable[[str, int], Awaitable[list[T]]],
        handler: Callable[[T, str], Awaitable[None]],
        release: Callable[[str], Awaitable[int]],
        key: Callable[[T], str],
        concurrency: int = 8,
        idle_sleep: float = 0.5,
    ) -> None:
        self.role = role
        self.owner = worker_id(role)
        self._claim = claim
        self._handler = handler
        self._release = release
        self._key = key
        self.concurrency = concurrency
        self.idle_sleep = idle_sleep
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._inflight: dict[str, asyncio.Task[None]] = {}
        # Whether more may be due than the last claim took (it took all it asked for, or there was
        # no free slot to ask with): only then does a finished handler trigger the next claim.
        self._more = True

    def wake(self) -> None:
        """Something became due (new intake, a callback): skip the idle sleep."""
        self._wake.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            # Cleared before claiming, so a wake() that arrives during the claim is not lost.
            self._wake.clear()
            free = self.concurrency - len(self._inflight)
            claimed: list[T] = []
            if free > 0:
                try:
                    claimed = await self._claim(self.owner, free)
                except Exception:
                    _log.exception("claim failed", worker=self.owner)
                self._more = len(claimed) >= free
            else:
                self._more = True
            if claimed and self._stopping.is_set():
                # stop() began while this claim was under way, and may already have released this
                # owner's leases: give these back too rather than start work on resources that are
                # being closed (a handler failing on them would keep its lease until expiry).
                await self._release_quietly()
                break
            for item in claimed:
                key = self._key(item)
                if key in self._inflight:
                    # Our own lease ran out while the handler is still working and we re-claimed
                    # the row: the running handler finishes it; never handle a row twice at once.
                    continue
                self._inflight[key] = asyncio.create_task(self._handle(key, item), name=f"{self.role}:{key}")
            # Sleep until woken, a handler frees a slot (when more may be due), or idle_sleep
            # passes. A claim that took fewer rows than it asked for saw everything due: the next
            # one comes with new work (wake(): intake, routing, a callback, PostgreSQL NOTIFY) or
            # after idle_sleep, not after every finished handler — each claim is a write transaction.
            waiters: list[asyncio.Future[object]] = [
                asyncio.ensure_future(self._wake.wait()),
                asyncio.ensure_future(self._stopping.wait()),
            ]
            if self._inflight and self._more:
                waiters.append(
                    asyncio.ensure_future(asyncio.wait(list(self._inflight.values()), return_when="FIRST_COMPLETED"))
                )
            _, pending = await asyncio.wait(waiters, timeout=self.idle_sleep, return_when="FIRST_COMPLETED")
            for fut in pending:
                fut.cancel()

    async def _handle(self, key: str, item: T) -> None:
        bind_ids(submission_id=key)
        try:
            await self._handler(item, self.owner)
        except asyncio.CancelledError:
            raise
        except ConcurrentUpdate as exc:
            # Someone moved the row first (a callback registered it while we waited, or our lease
            # ran out and another worker took it): the expected race of many workers, not a fault.
            _log.info("row moved by someone else", worker=self.owner, role=self.role, reason=exc.message)
        except Exception:
            # The lease is left to expire rather than released: a handler that crashes on an item
            # should not spin on it; it comes back after the lease.
            _log.exception("handler failed", worker=self.owner, role=self.role)
        finally:
            self._inflight.pop(key, None)

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
        await self._release_quietly()

    async def _release_quietly(self) -> None:
        try:
            released = await self._release(self.owner)
        except Exception:  # the store is down: the leases will expire on their own
            _log.exception("could not release leases on shutdown", worker=self.owner)
            return
        if released:
            _log.info("leases released on shutdown", worker=self.owner, count=released)


def submission_loop(
    journal: Journal,
    *,
    role: str,
    states: Iterable[State],
    handler: Callable[[Submission, str], Awaitable[None]],
    concurrency: int = 8,
    lease_seconds: float = 120.0,
    idle_sleep: float = 0.5,
    due_column: str = "next_attempt_at",
    destinations: Iterable[str] | None = None,
) -> ClaimLoop[Submission]:
    """A ClaimLoop over submissions in ``states`` that are due by ``due_column`` (and, for
    delivery, addressed to one of ``destinations``)."""
    wanted = tuple(states)
    peers = tuple(destinations) if destinations is not None else None

    async def claim(owner: str, limit: int) -> list[Submission]:
        return await journal.claim_due(
            owner, wanted, limit=limit, lease_seconds=lease_seconds, due_column=due_column, destinations=peers
        )

    return ClaimLoop(
        role=role,
        claim=claim,
        handler=handler,
        release=journal.release,
        key=lambda s: s.id,
        concurrency=concurrency,
        idle_sleep=idle_sleep,
    )

"""The receiver of a polling peer (SMEV 3 GetResponse/Ack, ШЭП getMessages): one loop per
instance whose plug-in says ``capabilities.polling``.

Exactly one process polls a queue: the loop holds the instance's ``peer_receivers`` lease in the
journal (renewed every round; another process takes it over once it expires) and releases it on
stop. Each round calls ``adapter.receive(sink)`` until it returns 0; the adapter hands each
message to the sink (which returns only once the answer is committed) and acknowledges it to the
peer after that, so a crash in between means a redelivery, which the journal records once.
Between rounds the loop sleeps, doubling the pause up to ``max_sleep`` while the queue stays
empty, back to ``idle_sleep`` when something arrived or a send to the peer happened (``wake``).
"""

from __future__ import annotations

import asyncio
from typing import Final, cast

from aiohttp import web

from gateway.common.logs import get_logger
from gateway.delivery.peer import Peer
from gateway.journal.peer_messages import ReceiverLeases
from gateway.journal.store import Journal
from gateway.journal.worker import worker_id
from gateway.peers.contract import PeerSink, PollingAdapter

__all__ = ["RECEIVERS_KEY", "Receiver", "is_polling"]

_log: Final = get_logger(__name__)
RECEIVERS_KEY: Final = web.AppKey("receivers", dict[str, "Receiver"])
REPEAT_LOG_SECONDS: Final = 300.0


def is_polling(peer: Peer) -> bool:
    """The peer's plug-in says it polls, and its adapter can."""
    if not peer.capabilities.polling:
        return False
    if not callable(getattr(peer.adapter, "receive", None)):
        _log.error("peer says it polls but its adapter has no receive(): answers will not be fetched", peer=peer.name)
        return False
    return True


class Receiver:
    def __init__(
        self,
        journal: Journal,
        peer: Peer,
        sink: PeerSink,
        *,
        lease_seconds: float = 60.0,
        idle_sleep: float = 0.5,
        max_sleep: float = 30.0,
    ) -> None:
        self.peer = peer
        self.adapter = cast(PollingAdapter, peer.adapter)
        self.sink = sink
        self.leases = ReceiverLeases(journal)
        self.name = peer.name
        self.owner = worker_id(f"receiver:{peer.name}")
        self.lease_seconds = lease_seconds
        self.idle_sleep = idle_sleep
        # The holder renews its lease every round: never pause long enough to lose it.
        self.max_sleep = max(min(max_sleep, lease_seconds / 3), idle_sleep)
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self.received = 0
        self._failures = 0  # rounds in a row that failed with a peer error
        self._last_failure: str | None = None
        self._last_failure_logged = 0.0

    def _log_peer_failure(self, exc: BaseException) -> None:
        text = f"{type(exc).__name__}: {exc}"
        now = asyncio.get_running_loop().time()
        self._failures += 1
        if text != self._last_failure or now - self._last_failure_logged >= REPEAT_LOG_SECONDS:
            _log.warning(
                "receiver round failed; backing off",
                peer=self.name,
                worker=self.owner,
                error=text,
                failures_in_a_row=self._failures,
            )
            self._last_failure, self._last_failure_logged = text, now

    def _peer_recovered(self) -> None:
        if self._failures:
            _log.info("receiver round succeeded again", peer=self.name, failures_before=self._failures)
        self._failures, self._last_failure = 0, None

    def wake(self) -> None:
        """A send to the peer happened: an answer may come soon, poll without the long pause."""
        self._wake.set()

    async def run(self) -> None:
        try:
            await self._loop()
        finally:
            await self._release()

    async def _loop(self) -> None:
        pause = self.idle_sleep
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                took = await self._round()
            except asyncio.CancelledError:
                raise
            except (ConnectionError, TimeoutError) as exc:
                # The peer is down or faulting (SMEVFailure bursts): expected, and the backoff
                # handles it. A traceback per round flooded the logs; one line per change of
                # error, then a reminder with the count at most every REPEAT_LOG_SECONDS.
                self._log_peer_failure(exc)
                took = 0
                pause = min(self.max_sleep, pause * 2)
            except Exception:
                _log.exception("receiver round failed", peer=self.name, worker=self.owner)
                took = 0
                pause = min(self.max_sleep, pause * 2)
            else:
                pause = self.idle_sleep if took else min(self.max_sleep, pause * 2)
                self._peer_recovered()
            waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(self._stopping.wait())]
            _, pending = await asyncio.wait(waiters, timeout=pause, return_when="FIRST_COMPLETED")
            for fut in pending:
                fut.cancel()
            if self._wake.is_set():
                pause = self.idle_sleep

    async def _round(self) -> int:
        """Hold the lease and drain the queue. Returns how many messages were taken."""
        total = 0
        while not self._stopping.is_set():
            if not await self.leases.acquire(self.name, self.owner, self.lease_seconds):
                return total  # another process polls this queue
            try:
                took = await self.adapter.receive(self.sink)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not total:
                    raise  # nothing taken: the loop backs off
                # Messages were taken in this round: a fault now (SMEV answers SMEVFailure on
                # some calls of a healthy queue) ends the round, and the next one starts at once
                # instead of backing off as though the queue were unreachable.
                _log.warning("receiver round ended early", peer=self.name, taken=total, error=repr(exc)[:300])
                return total
            total += took
            self.received += took
            if took == 0:
                return total
        return total

    async def stop(self) -> None:
        """Stop after the current round (the app cancels the task after its grace period)."""
        self._stopping.set()
        self._wake.set()

    async def _release(self) -> None:
        try:
            await self.leases.release(self.name, self.owner)
        except Exception:  # the journal is down: the lease expires on its own
            _log.exception("could not release the receiver lease", peer=self.name, worker=self.owner)

"""Discovery: on a schedule, ask the peers that can be searched (REMD: searchRegistryItem by
recipient) for documents addressed to each organisation we serve, one kind at a time, and hand
what they fetch to the one inbound path.

Each (peer, organisation, kind) has a persisted position: the end of the last window searched
completely. The next window starts ``overlap`` before it (a peer may date a registration a little
before it becomes searchable) and ends now; documents seen again are skipped by their peer id
before fetching and recorded once anyway. A window that failed (search refused, a file not
fetched, the journal down) does not move the position, so it is searched again. One process at a
time searches a peer: it holds the peer's discovery lease (the receivers' lease table).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Final

from gateway.common.logs import get_logger
from gateway.inbound.contract import DiscoveryQuery, InboundDiscovery, InboundPort
from gateway.journal.inbound import InboundJournal
from gateway.journal.peer_messages import ReceiverLeases
from gateway.journal.store import Journal

__all__ = ["Discovery", "DiscoveryRound", "position_name"]

_log: Final = get_logger(__name__)


def position_name(peer: str, recipient: str, kind: str) -> str:
    return f"discovery:{peer}:{recipient}:{kind}"[:300]


@dataclass
class DiscoveryRound:
    """What one round did, for logs, tests and the sandbox."""

    searched: int = 0  # windows asked
    found: int = 0  # documents the peers listed
    received: int = 0  # documents handed to the inbound path (new or not)
    failed_windows: int = 0
    skipped_peers: list[str] = field(default_factory=list)  # lease held elsewhere


class Discovery:
    def __init__(
        self,
        journal: Journal,
        port: InboundPort,
        peers: Mapping[str, InboundDiscovery],
        recipients: Callable[[], Awaitable[Sequence[str]]],
        kinds: Sequence[str],
        *,
        owner: str,
        interval_seconds: float = 300.0,
        overlap_seconds: float = 900.0,
        first_lookback_hours: float = 72.0,
        lease_seconds: float = 600.0,
    ) -> None:
        self.journal = journal
        self.port = port
        self.peers = dict(peers)
        self.recipients = recipients
        self.kinds = tuple(kinds)
        self.owner = owner
        self.interval = interval_seconds
        self.overlap = timedelta(seconds=overlap_seconds)
        self.lookback = timedelta(hours=first_lookback_hours)
        self.lease_seconds = lease_seconds
        self.positions = InboundJournal(journal)
        self.leases = ReceiverLeases(journal)
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._one_round = asyncio.Lock()  # a woken round and a scheduled one never overlap

    async def round(self) -> DiscoveryRound:
        async with self._one_round:
            return await self._round()

    async def _round(self) -> DiscoveryRound:
        stats = DiscoveryRound()
        recipients = [r for r in await self.recipients() if r and r != "*"]
        for name, peer in self.peers.items():
            lease = f"inbound-discovery:{name}"
            if not await self.leases.acquire(lease, self.owner, self.lease_seconds):
                stats.skipped_peers.append(name)
                continue
            for recipient in recipients:
                for kind in self.kinds:
                    await self._window(name, peer, recipient, kind, stats)
        return stats

    async def _window(
        self, name: str, peer: InboundDiscovery, recipient: str, kind: str, stats: DiscoveryRound
    ) -> None:
        key = position_name(name, recipient, kind)
        now = self.journal.clock.now()
        last = await self.positions.position(key)
        begin = (last - self.overlap) if last is not None else now - self.lookback
        stats.searched += 1
        batch = await peer.discover(DiscoveryQuery(recipient, kind, begin, now), self.port)
        stats.found += batch.found
        for document in batch.documents:
            # receive() returns once the document is durable; if it raises, the position stays.
            await self.port.receive(document)
            stats.received += 1
        if batch.complete:
            await self.positions.set_position(key, now)
        else:
            stats.failed_windows += 1
            _log.warning("discovery window incomplete", peer=name, kind=kind, error=(batch.error or "")[:300])

    async def run(self) -> None:
        """Rounds every ``interval`` seconds until :meth:`stop`; a failing round is logged and
        the next one comes on schedule."""
        while not self._stop.is_set():
            # Cleared before the round: a wake-up that arrives during it starts the next one at once.
            self._wake.clear()
            try:
                stats = await self.round()
                if stats.received or stats.failed_windows:
                    _log.info(
                        "discovery round",
                        searched=stats.searched,
                        found=stats.found,
                        received=stats.received,
                        failed=stats.failed_windows,
                    )
            except Exception:
                _log.exception("discovery round failed")
            stop, wake = asyncio.ensure_future(self._stop.wait()), asyncio.ensure_future(self._wake.wait())
            await asyncio.wait({stop, wake}, timeout=self.interval, return_when=asyncio.FIRST_COMPLETED)
            for task in (stop, wake):
                task.cancel()

    def wake(self) -> None:
        """Search now (a peer's notification said something arrived)."""
        self._wake.set()

    async def stop(self) -> None:
        self._stop.set()
        for name in self.peers:
            try:
                await self.leases.release(f"inbound-discovery:{name}", self.owner)
            except Exception:
                _log.exception("discovery lease not released", peer=name)

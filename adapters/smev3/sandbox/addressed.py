"""The simulated ЕАВИИАС also registers its result (kind 187) and return notice (kind 130) in the
registry of documents addressed to MOs — the sandbox REMD twin, where the gateway's inbound
discovery (searchRegistryItem by recipient, getDocumentFile) finds them — when one runs in the same
sandbox (``TwinContext.addressed_registry_url``). So a document reaches the MIS by two routes: the
SMEV notice that carries it and REMD; the gateway records it once (docs/inbound.md, "One document,
two routes").

Registration is over HTTP (the REMD twin's JSON entrance ``POST /_sandbox/addressed``), not a call
into the other twin: an adapter never imports another, and the twins may run in other processes.
A registration that fails (the REMD twin not up yet, a connection refused) is tried again with a
growing pause, so a document is never registered in one route only because of start-up order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Final

import aiohttp

from gateway.common.logs import get_logger

__all__ = ["AddressedPublisher"]

_log: Final = get_logger(__name__)


class AddressedPublisher:
    """A queue of registrations and the task that POSTs them, one at a time, in order."""

    def __init__(self, url: str, *, first_pause: float = 0.2, max_pause: float = 10.0) -> None:
        self.url = url
        self.first_pause = first_pause
        self.max_pause = max_pause
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self.registered = 0  # answered 201
        self.refused = 0  # answered 4xx: a bad registration, not retried (logged)
        self.retries = 0

    def submit(self, registration: Mapping[str, Any]) -> None:
        """Queue ``{local_uid, kind, organization, recipient, document, signatures}`` (the REMD
        twin's JSON). Called from the bureau's scheduled actions, on the event loop."""
        self._queue.put_nowait(dict(registration))

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def stats(self) -> dict[str, int]:
        return {
            "registered": self.registered,
            "refused": self.refused,
            "retries": self.retries,
            "pending": self.pending,
        }

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    async def _run(self) -> None:
        assert self._session is not None
        while True:
            registration = await self._queue.get()
            pause = self.first_pause
            while not await self._post(self._session, registration):
                self.retries += 1
                await asyncio.sleep(pause)
                pause = min(self.max_pause, pause * 2)

    async def _post(self, session: aiohttp.ClientSession, registration: dict[str, Any]) -> bool:
        """True when done (registered, or refused for good); False to try again."""
        try:
            async with session.post(self.url, json=registration) as resp:
                if resp.status == 201:
                    self.registered += 1
                    return True
                text = (await resp.text())[:300]
                if 400 <= resp.status < 500:
                    self.refused += 1
                    _log.error("sandbox ЕАВИИАС: REMD twin refused a registration", status=resp.status, answer=text)
                    return True
                _log.warning("sandbox ЕАВИИАС: REMD twin registration failed", status=resp.status, answer=text)
                return False
        except (aiohttp.ClientError, TimeoutError) as exc:
            _log.warning("sandbox ЕАВИИАС: REMD twin unreachable", error=repr(exc)[:200])
            return False

"""Delivers outcome notices from the outbox to senders, retrying with backoff until a 2xx.

Channels: ``rest`` (JSON, HMAC-signed — see docs/notifications.md) is built in; adapters register
others (the REMD SOAP front door registers ``remd-soap``, which turns the notice into REMD's own
``registerDocumentResult`` callback).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Final, Protocol

import aiohttp

from gateway.common.backoff import Backoff
from gateway.common.logs import get_logger
from gateway.intake.clients import ClientRegistry, sign_notice
from gateway.journal.outbox import Outbox
from gateway.journal.store import Journal
from gateway.journal.worker import ClaimLoop
from gateway.model import PendingNotice
from gateway.wire.outbound import CallbackPolicy

__all__ = ["ChannelSender", "DeliveryError", "NoticeOutbox", "Notifier", "rest_sender"]

_log: Final = get_logger(__name__)


class NoticeOutbox(Protocol):
    """An outbox the notifier drains: outcome notices (:class:`~gateway.journal.outbox.Outbox`)
    or inbound-document notices (:class:`~gateway.journal.inbound.InboundOutbox`)."""

    async def claim(self, owner: str, *, limit: int, lease_seconds: float) -> list[PendingNotice]: ...

    async def release(self, owner: str) -> int: ...

    async def delivered(self, notice: PendingNotice, owner: str) -> None: ...

    async def failed(self, notice: PendingNotice, owner: str, error: str, retry_at: datetime | None) -> None: ...


class DeliveryError(Exception):
    """The receiver did not accept the notice (network error or non-2xx)."""


ChannelSender = Callable[[PendingNotice, aiohttp.ClientSession], Awaitable[None]]
# The callback hosts registered for a client id (None: a notice without a client).
HostsOf = Callable[[str | None], Awaitable[Sequence[str]]]


def rest_sender(registry: ClientRegistry, clock_now: Callable[[], str]) -> ChannelSender:
    async def send(notice: PendingNotice, session: aiohttp.ClientSession) -> None:
        timestamp = clock_now()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-MSE-Notice-Id": str(notice.id),
            "X-MSE-Timestamp": timestamp,
        }
        if notice.client_id is not None:
            key = await registry.callback_key(notice.client_id)
            headers["X-MSE-Signature"] = sign_notice(key, timestamp, notice.body)
        try:
            async with session.post(notice.url, data=notice.body, headers=headers) as resp:
                if not 200 <= resp.status < 300:
                    raise DeliveryError(f"HTTP {resp.status} from receiver")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from None

    return send


class Notifier:
    def __init__(
        self,
        journal: Journal,
        session: aiohttp.ClientSession,
        channels: dict[str, ChannelSender],
        *,
        backoff: Backoff = Backoff(base=10, cap=3600),
        max_age: timedelta = timedelta(days=7),
        concurrency: int = 8,
        lease_seconds: float = 60.0,
        idle_sleep: float = 1.0,
        policy: CallbackPolicy | None = None,
        hosts_of: HostsOf | None = None,
        outbox: NoticeOutbox | None = None,
        role: str = "notifier",
    ) -> None:
        """``policy`` re-checks every notice's URL before each attempt (``hosts_of`` gives the
        client's registered hosts); the name-resolution half of the check belongs to the
        ``session``'s resolver (gateway.wire.outbound.GuardedResolver)."""
        self.journal = journal
        self.policy = policy
        self.hosts_of = hosts_of
        self.outbox: NoticeOutbox = outbox if outbox is not None else Outbox(journal)
        self.session = session
        self.channels = channels
        self.backoff = backoff
        self.max_age = max_age
        self.lease_seconds = lease_seconds

        async def claim(owner: str, limit: int) -> list[PendingNotice]:
            return await self.outbox.claim(owner, limit=limit, lease_seconds=lease_seconds)

        self.loop: ClaimLoop[PendingNotice] = ClaimLoop(
            role=role,
            claim=claim,
            handler=self._handle,
            release=self.outbox.release,
            key=lambda n: n.submission_id,
            concurrency=concurrency,
            idle_sleep=idle_sleep,
        )

    async def _handle(self, notice: PendingNotice, owner: str) -> None:
        sender = self.channels.get(notice.channel)
        now = self.journal.clock.now()
        if sender is None:
            await self.outbox.failed(notice, owner, f"no sender for channel {notice.channel!r}", None)
            return
        if self.policy is not None:
            hosts = await self.hosts_of(notice.client_id) if self.hosts_of is not None else ()
            reason = self.policy.refusal(notice.url, hosts)
            if reason is not None:
                # Accepted at intake, refused now (the client's hosts or the configuration changed):
                # retrying cannot help, so the notice goes to the operators at once.
                _log.warning("notice to a refused callback address", notice_id=notice.id, reason=reason)
                await self.outbox.failed(notice, owner, f"callback address refused: {reason}", None)
                return
        try:
            await sender(notice, self.session)
        except DeliveryError as exc:
            attempt = notice.attempts + 1
            give_up = now - notice.created_at > self.max_age
            retry_at = None if give_up else self.backoff.next_at(now, attempt)
            _log.info("notice not delivered", notice_id=notice.id, attempt=attempt, error=str(exc))
            await self.outbox.failed(notice, owner, str(exc), retry_at)
            return
        await self.outbox.delivered(notice, owner)

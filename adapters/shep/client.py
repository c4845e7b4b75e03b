"""The ШЭП transport client: SOAP 1.1 exchanges over the gateway's one aiohttp session.

Each operation is one HTTP POST (``text/xml``, ``SOAPAction: "<operation>"``), the envelope built
and WS-Security-signed by :class:`~adapters.shep.codec.ShepCodec`. In-call retries are
:func:`gateway.wire.transport.post_soap`'s (a refused or reset connection, once); retries across
time belong to the delivery core. Every exchange returns an :class:`Exchange` with the exact
envelopes (one "out" per attempt, the "in" answer) and the parsed answer; nothing ШЭП or the
network does raises out of here. The answer's signature is *not* checked here: the adapter
verifies ``reply.body`` before it trusts ``message``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import aiohttp

from adapters.shep import messages as m
from adapters.shep.codec import Message, ShepCodec, ShepFormatError
from gateway.common.logs import get_logger
from gateway.model import EnvelopeIn
from gateway.wire.soap11 import SOAP11_CONTENT_TYPE
from gateway.wire.transport import HttpReply, TransportError, post_soap

__all__ = ["Exchange", "ShepClient"]

_log: Final = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Exchange:
    operation: str
    sent: bytes | None
    reply: HttpReply | None
    message: Message | None
    error: str | None
    envelopes: tuple[EnvelopeIn, ...]

    @property
    def http_status(self) -> int | None:
        return self.reply.status if self.reply is not None else None

    @property
    def fault(self) -> m.ShepFault | None:
        return self.message if isinstance(self.message, m.ShepFault) else None


class ShepClient:
    """Talks to one ШЭП endpoint."""

    def __init__(
        self, session: aiohttp.ClientSession, *, endpoint: str, codec: ShepCodec, timeout_seconds: float, peer: str
    ) -> None:
        self.session = session
        self.endpoint = endpoint
        self.codec = codec
        self.timeout_seconds = timeout_seconds
        self.peer = peer

    async def call(self, operation: str, msg: Message) -> Exchange:
        return await self._exchange(operation, lambda: self.codec.build(msg))

    def _envelopes(self, out: bytes, reply: HttpReply | None, attempts: int) -> tuple[EnvelopeIn, ...]:
        sent = tuple(EnvelopeIn("out", self.peer, SOAP11_CONTENT_TYPE, out) for _ in range(max(1, attempts)))
        if reply is None:
            return sent
        return (*sent, EnvelopeIn("in", self.peer, reply.content_type or "application/octet-stream", reply.body))

    async def _exchange(self, operation: str, build: Callable[[], bytes]) -> Exchange:
        try:
            out = build()
        except Exception as exc:  # signing/serialisation is ours, but must not kill a worker
            _log.error("could not build a ШЭП request", operation=operation, error=str(exc)[:300])
            return Exchange(
                operation, None, None, None, f"could not build {operation}: {type(exc).__name__}: {exc}"[:500], ()
            )
        headers = {"Content-Type": SOAP11_CONTENT_TYPE, "SOAPAction": f'"{operation}"'}
        try:
            reply = await post_soap(
                self.session,
                self.endpoint,
                out,
                action=None,
                timeout_seconds=self.timeout_seconds,
                extra_headers=headers,
            )
        except TransportError as exc:
            _log.info("ШЭП: no answer", operation=operation, error=str(exc))
            return Exchange(operation, out, None, None, str(exc), self._envelopes(out, None, exc.attempts))
        envelopes = self._envelopes(out, reply, reply.attempts)
        try:
            message = self.codec.parse(reply.body)
        except ShepFormatError as exc:
            error = f"HTTP {reply.status}: not a ШЭП answer ({exc.code}: {exc})"[:500]
            return Exchange(operation, out, reply, None, error, envelopes)
        return Exchange(operation, out, reply, message, None, envelopes)

"""The SMEV 3 transport client: SOAP 1.1 exchanges over the gateway's one aiohttp session.

Each operation (SendRequest, GetResponse, Ack, GetStatus; GetRequest and SendResponse on the
provider side) is one HTTP POST with
``Content-Type: text/xml; charset=utf-8`` and ``SOAPAction: "urn:<Operation>"``. In-call retries
are :func:`gateway.wire.transport.post_soap`'s: only a refused or reset connection, once (the
request most likely never reached SMEV); anything else is returned at once and retries across
time belong to the delivery core.

Every exchange returns an :class:`Exchange` with the exact envelopes sent and received as
:class:`~gateway.model.EnvelopeIn` (one "out" per attempt, the "in" answer when there was one),
the parsed answer (a SOAP fault is a :class:`~adapters.smev3.messages.Fault` value), or an
``error`` for no usable answer. Nothing SMEV or the network does raises out of here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import aiohttp

from adapters.smev3 import messages as m
from adapters.smev3.codec import SOAP_ACTIONS, Message, Smev3Codec, Smev3FormatError
from adapters.smev3.mtom import MtomError, Part, content_id_for, pack, parse_message, to_xop
from gateway.common.clock import Clock, SystemClock
from gateway.common.logs import get_logger
from gateway.model import EnvelopeIn
from gateway.wire.soap11 import SOAP11_CONTENT_TYPE
from gateway.wire.transport import HttpReply, TransportError, post_soap

__all__ = ["Exchange", "Smev3Client"]

_log: Final = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Exchange:
    """One operation's outcome. ``message`` is the parsed answer (a Fault too); ``error`` says
    why there is none (no HTTP answer, or an answer that is not an SMEV 3 message)."""

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
    def fault(self) -> m.Fault | None:
        return self.message if isinstance(self.message, m.Fault) else None


class Smev3Client:
    """Talks to one SMEV 3 endpoint with one codec (namespace version, ЭП-ОВ signer)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        endpoint: str,
        codec: Smev3Codec,
        timeout_seconds: float,
        peer: str,
        clock: Clock | None = None,
    ) -> None:
        self.session = session
        self.endpoint = endpoint
        self.codec = codec
        self.timeout_seconds = timeout_seconds
        self.peer = peer
        self.clock: Clock = clock or SystemClock()

    async def send_request(self, msg: m.SendRequestRequest) -> Exchange:
        """SendRequest; attachments in ``msg.attachments`` travel by MTOM (the envelope is signed
        with empty Content elements, which the signature does not cover, then made the XOP root)."""
        if not msg.attachments:
            return await self._exchange("SendRequest", lambda: self.codec.send_request(msg))
        empty = tuple(m.AttachmentContent(a.id, b"") for a in msg.attachments)
        bare = dataclasses.replace(msg, attachments=empty)
        return await self._exchange("SendRequest", lambda: self.codec.send_request(bare), attachments=msg.attachments)

    async def get_response(self, selector: m.MessageTypeSelector | None = None) -> Exchange:
        chosen = selector or m.MessageTypeSelector(timestamp=self.clock.now())
        return await self._exchange("GetResponse", lambda: self.codec.get_response(m.GetResponseRequest(chosen)))

    async def ack(self, message_id: str, accepted: bool) -> Exchange:
        return await self._exchange("Ack", lambda: self.codec.ack(m.AckRequest(message_id, accepted)))

    async def get_status(self, timestamp: datetime | None = None) -> Exchange:
        stamp = timestamp or self.clock.now()
        return await self._exchange("GetStatus", lambda: self.codec.get_status(m.GetStatusRequest(stamp)))

    # -- the provider side: the information system answering requests --------------------------

    async def get_request(self, selector: m.MessageTypeSelector | None = None) -> Exchange:
        chosen = selector or m.MessageTypeSelector(timestamp=self.clock.now())
        return await self._exchange("GetRequest", lambda: self.codec.get_request(m.GetRequestRequest(chosen)))

    async def send_response(self, msg: m.SendResponseRequest) -> Exchange:
        return await self._exchange("SendResponse", lambda: self.codec.send_response(msg))

    def _envelopes(
        self, out: bytes, reply: HttpReply | None, attempts: int, out_type: str = SOAP11_CONTENT_TYPE
    ) -> tuple[EnvelopeIn, ...]:
        sent = tuple(EnvelopeIn("out", self.peer, out_type, out) for _ in range(max(1, attempts)))
        if reply is None:
            return sent
        return (*sent, EnvelopeIn("in", self.peer, reply.content_type or "application/octet-stream", reply.body))

    async def _exchange(
        self, operation: str, build: Callable[[], bytes], *, attachments: tuple[m.AttachmentContent, ...] = ()
    ) -> Exchange:
        content_type, out_type = SOAP11_CONTENT_TYPE, SOAP11_CONTENT_TYPE
        try:
            out = body = build()
            if attachments:
                hrefs = {a.id: content_id_for(a.id) for a in attachments}
                out = to_xop(out, hrefs)  # what the journal keeps: the XOP root, not the parts
                content_type, body = pack(out, [Part(hrefs[a.id], a.content) for a in attachments])
                out_type = "application/xop+xml"
        except Exception as exc:  # signing/serialisation is ours, but must not kill a worker
            _log.error("could not build an SMEV 3 request", operation=operation, error=str(exc)[:300])
            error = f"could not build {operation}Request: {type(exc).__name__}: {exc}"[:500]
            return Exchange(operation, None, None, None, error, ())
        headers = {"Content-Type": content_type, "SOAPAction": f'"{SOAP_ACTIONS[operation]}"'}
        try:
            reply = await post_soap(
                self.session,
                self.endpoint,
                body,
                action=None,
                timeout_seconds=self.timeout_seconds,
                extra_headers=headers,
            )
        except TransportError as exc:
            _log.info("SMEV 3: no answer", operation=operation, error=str(exc))
            return Exchange(operation, out, None, None, str(exc), self._envelopes(out, None, exc.attempts, out_type))
        envelopes = self._envelopes(out, reply, reply.attempts, out_type)
        try:
            message, xml = parse_message(self.codec, reply.content_type, reply.body)
        except (Smev3FormatError, MtomError) as exc:
            error = f"HTTP {reply.status}: not an SMEV 3 answer ({exc.code}: {exc})"[:500]
            return Exchange(operation, out, reply, None, error, envelopes)
        if xml is not reply.body:
            # MTOM answer: the reply is its XOP root (what signatures are checked on); each
            # attachment is recorded beside it, so what is Acked was durably kept whole
            reply = dataclasses.replace(reply, body=xml, content_type="application/xop+xml")
            parts = tuple(
                EnvelopeIn("in", self.peer, "application/octet-stream", a.content)
                for a in getattr(message, "attachments", ())
            )
            envelopes = (*self._envelopes(out, reply, reply.attempts, out_type), *parts)
        return Exchange(operation, out, reply, message, None, envelopes)

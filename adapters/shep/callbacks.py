"""The AsyncChannel client callback: ``POST <prefix>/callback`` where ШЭП calls
``changeMassageStatusNotification`` (IAsyncChannelClient; the misspelling is ШЭП's) when the
delivery state of one of our messages changes.

Who calls is checked before the body is read (the instance's ``auth``: addresses, client
certificate); the body is read within the size limit, parsed safely off the event loop, and its
WS-Security signature must verify with a pinned certificate. A status is recorded as progress on
the submission its messageId names (never final: the conclusion comes by getMessages), then
answered with a signed ``changeMassageStatusNotificationResponse``. Anything else gets a SOAP 1.1
fault with ErrorInfo and nothing is recorded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Final

from aiohttp import web

from adapters.shep import messages as m
from adapters.shep.codec import ShepCodec, ShepFormatError, new_session_id
from gateway.common.logs import get_logger
from gateway.errors import PayloadTooLarge
from gateway.model import EnvelopeIn
from gateway.peers.auth import PeerGuard, Refusal
from gateway.peers.contract import PeerSink, Progress, RefusalLog
from gateway.signatures.certificates import Certificate
from gateway.signatures.xml.wssecurity import verify_wssecurity_body
from gateway.wire.safexml import XmlSecurityError, XmlSyntaxError, parse_xml
from gateway.wire.soap11 import SOAP11_CONTENT_TYPE

__all__ = ["CALLBACK_SUFFIX", "callback_routes"]

CALLBACK_SUFFIX: Final = "/callback"
_log: Final = get_logger(__name__)
_OPERATION: Final = "changeMassageStatusNotification"


def callback_routes(
    sink: PeerSink,
    *,
    codec: ShepCodec,
    pinned: Callable[[], Sequence[Certificate]],
    peer: str,
    prefix: str,
    max_bytes: int,
    guard: PeerGuard | None = None,
    on_refusal: RefusalLog | None = None,
) -> web.RouteTableDef:
    routes = web.RouteTableDef()

    def fault(code: str, text: str, status: int) -> web.Response:
        error = m.ErrorInfo(code, text[:500], datetime.now(UTC))
        body = codec.fault(m.ShepFault("soap:Client" if status < 500 else "soap:Server", text[:500], error, _OPERATION))
        return web.Response(body=body, status=status, headers={"Content-Type": SOAP11_CONTENT_TYPE})

    async def refuse(request: web.Request, refusal: Refusal) -> web.Response:
        _log.warning("ШЭП callback: caller not authenticated", peer=peer, path=request.path, code=refusal.code)
        if on_refusal is not None:
            await on_refusal(peer, request.path, request.remote, refusal)
        return fault(refusal.code, refusal.reason, 403)

    async def handle(request: web.Request) -> web.Response:
        refusal = guard.check_request(request) if guard is not None else None
        if refusal is not None:
            return await refuse(request, refusal)
        if request.content_length is not None and request.content_length > max_bytes:
            return fault("PAYLOAD_TOO_LARGE", f"request body exceeds {max_bytes} bytes", 413)
        try:
            raw = await request.content.read(max_bytes + 1)
        except PayloadTooLarge:
            raw = b""
        if len(raw) > max_bytes:
            return fault("PAYLOAD_TOO_LARGE", f"request body exceeds {max_bytes} bytes", 413)
        try:
            root = await asyncio.to_thread(parse_xml, raw, max_bytes=max_bytes)
        except (XmlSecurityError, XmlSyntaxError) as exc:
            return fault("SHEP_MALFORMED", str(exc)[:200], 400)
        why = await asyncio.to_thread(verify_wssecurity_body, root, list(pinned()))
        if why is not None:
            return await refuse(request, Refusal("PEER_SIGNATURE_INVALID", why))
        try:
            msg = codec.parse(raw, max_bytes=max_bytes)
        except ShepFormatError as exc:
            return fault(exc.code, str(exc)[:200], 400)
        if not isinstance(msg, m.ChangeStatusNotify):
            return fault("UNKNOWN_OPERATION", f"{type(msg).__name__} is not {_OPERATION}", 400)
        details: dict[str, object] = {"state": str(msg.state), "status_date": msg.status_date.isoformat()}
        if msg.error is not None:
            details["error"] = [c for c, _ in msg.error.answer_codes()]
        try:
            await sink.progress(
                Progress(
                    peer=peer,
                    local_uid="",
                    organization_oid=None,
                    status=f"shep-{str(msg.state).lower().replace('_', '-')}",
                    message=f"ШЭП: {msg.status_code} {msg.status_message}"[:500],
                    relates_to=msg.message_id,
                    peer_message_id=msg.notification_id,
                    details=details,
                    envelopes=(EnvelopeIn("in", peer, request.headers.get("Content-Type", SOAP11_CONTENT_TYPE), raw),),
                )
            )
        except Exception as exc:  # not durable: ШЭП must call again
            _log.error("ШЭП callback not recorded", peer=peer, error=str(exc)[:300])
            return fault("NOT_RECORDED", "the notification could not be recorded; call again", 503)
        answer = codec.build(m.ChangeStatusNotifyResponse(datetime.now(UTC), new_session_id()))
        return web.Response(body=answer, headers={"Content-Type": SOAP11_CONTENT_TYPE})

    routes.post(prefix + CALLBACK_SUFFIX)(handle)
    return routes

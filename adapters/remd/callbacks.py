"""The endpoints REMD calls on the gateway: the registerDocumentResult callback and getDocumentFile.

Both paths accept either message (REMD's addressing of the two is not public, so the body element
decides). A callback is acknowledged only after the core's sink returned, i.e. once the outcome is
durable; when the sink fails the answer is a SOAP fault, so REMD may try again.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Final

from aiohttp import web

from adapters.remd import codec, mapping
from adapters.remd.messages import DocumentFile, DocumentRegisteredNotification, GetDocumentFileResponse
from adapters.remd.soap import (
    SOAP12_CONTENT_TYPE,
    Addressing,
    Envelope,
    EnvelopeError,
    SoapFault,
    build_envelope,
    parse_envelope,
)
from adapters.remd.webutil import check_content_type, fault_response, overloaded_response, read_body, soap_response
from gateway.common.logs import get_logger
from gateway.common.pii import summarise_body
from gateway.errors import GatewayError, Overloaded, PayloadTooLarge
from gateway.model import EnvelopeIn
from gateway.peers.auth import PeerGuard, Refusal
from gateway.peers.contract import CallbackSink, RefusalLog
from gateway.wire.budget import body_budget, xml_parse_cost
from gateway.wire.safexml import DEFAULT_MAX_BYTES

__all__ = [
    "CALLBACK_PATH",
    "CALLBACK_SUFFIX",
    "GET_DOCUMENT_FILE_PATH",
    "GET_DOCUMENT_FILE_SUFFIX",
    "DocumentSource",
    "callback_routes",
]

CALLBACK_SUFFIX: Final = "/callback"
GET_DOCUMENT_FILE_SUFFIX: Final = "/getDocumentFile"
CALLBACK_PATH: Final = "/remd" + CALLBACK_SUFFIX  # the instance named "remd"
GET_DOCUMENT_FILE_PATH: Final = "/remd" + GET_DOCUMENT_FILE_SUFFIX

DocumentSource = Callable[[str, str], Awaitable[bytes | None]]
AddressedNotice = Callable[[DocumentRegisteredNotification], Awaitable[None]]
"""What to do when REMD says a document addressed to one of our organisations was registered."""

"""``(local_uid, organization_oid) -> document bytes`` (None: the gateway does not have it)."""

_log: Final = get_logger(__name__)


async def _on_result(env: Envelope, raw: bytes, request_type: str, sink: CallbackSink, peer: str) -> web.Response:
    assert env.body is not None
    try:
        result = codec.parse_register_document_result(env.body)
    except codec.MessageError as exc:
        _log.warning("REMD callback refused: not a registerDocumentResult", error=exc.message, body=summarise_body(raw))
        return fault_response(
            SoapFault("Sender", exc.message, subcode=str(exc.code)), relates_to=env.addressing.message_id
        )
    ack = build_envelope(
        codec.build_result_ack(True),
        addressing=Addressing(
            message_id=str(uuid.uuid4()),
            action=f"{mapping.ACTION_RESULT}Response",
            relates_to=env.addressing.message_id,
        ),
    )
    envelopes = (
        EnvelopeIn("in", peer, request_type or SOAP12_CONTENT_TYPE, raw),
        EnvelopeIn("out", peer, SOAP12_CONTENT_TYPE, ack),
    )
    outcome = mapping.outcome_from_result(
        result, envelopes=envelopes, peer=peer, peer_message_id=env.addressing.message_id
    )
    try:
        await sink(outcome)
    except GatewayError as exc:
        _log.warning("REMD callback not recorded", local_uid=result.local_uid, code=str(exc.code), error=exc.message)
        code = "Sender" if exc.http_status < 500 else "Receiver"
        return fault_response(SoapFault(code, exc.message, subcode=str(exc.code)), relates_to=env.addressing.message_id)
    except Exception:
        _log.exception("REMD callback not recorded", local_uid=result.local_uid)
        return fault_response(
            SoapFault("Receiver", "the result could not be recorded, try again later", subcode="INTERNAL_ERROR"),
            relates_to=env.addressing.message_id,
        )
    _log.info(
        "REMD callback recorded",
        local_uid=result.local_uid,
        success=result.success,
        relates_to=result.relates_to_message,
        codes=[c for c, _ in outcome.codes],
    )
    return web.Response(body=ack, status=200, headers={"Content-Type": SOAP12_CONTENT_TYPE})


async def _on_get_file(env: Envelope, document_source: DocumentSource | None) -> web.Response:
    assert env.body is not None
    relates = env.addressing.message_id
    action = "getDocumentFileResponse"
    try:
        req = codec.parse_get_document_file_request(env.body)
    except codec.MessageError as exc:
        return fault_response(SoapFault("Sender", exc.message, subcode=str(exc.code)), relates_to=relates)
    not_sent = GetDocumentFileResponse(False, errors=(("FILE_WAS_NOT_SENT", "ИС не передала файл ЭМД"),))
    if document_source is None:
        return soap_response(codec.build_get_document_file_response(not_sent), action=action, relates_to=relates)
    try:
        data = await document_source(req.local_uid, req.organization)
    except Exception:
        _log.exception("getDocumentFile failed", local_uid=req.local_uid)
        failed = GetDocumentFileResponse(False, errors=(("RMIS_ERROR", "внутренняя ошибка шлюза при выдаче файла"),))
        return soap_response(codec.build_get_document_file_response(failed), action=action, relates_to=relates)
    if data is None:
        _log.info("getDocumentFile: unknown document", local_uid=req.local_uid)
        return soap_response(codec.build_get_document_file_response(not_sent), action=action, relates_to=relates)
    _log.info("getDocumentFile served", local_uid=req.local_uid, size=len(data))
    ok = GetDocumentFileResponse(True, document=DocumentFile.of(data))
    return soap_response(codec.build_get_document_file_response(ok), action=action, relates_to=relates)


async def _on_addressed(env: Envelope, on_addressed: AddressedNotice, peer: str) -> web.Response:
    """A document addressed to one of our organisations was registered: discovery is woken (it
    searches and fetches, idempotently). Acknowledged once the core was told."""
    assert env.body is not None
    relates = env.addressing.message_id
    try:
        notice = codec.parse_document_registered_notification(env.body)
    except codec.MessageError as exc:
        return fault_response(SoapFault("Sender", exc.message, subcode="VALIDATION_ERROR"), relates_to=relates)
    await on_addressed(notice)
    _log.info("REMD: document addressed to us registered", peer=peer, emdr_id=notice.emdr_id, kind=notice.kind)
    action = "documentRegisteredNotificationResponse"
    return soap_response(codec.build_notification_ack(True), action=action, relates_to=relates)


def callback_routes(
    sink: CallbackSink,
    *,
    document_source: DocumentSource | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    prefix: str = "/remd",
    peer: str = mapping.PEER,
    guard: PeerGuard | None = None,
    on_refusal: RefusalLog | None = None,
    on_addressed: AddressedNotice | None = None,
) -> web.RouteTableDef:
    """POST <prefix>/callback and POST <prefix>/getDocumentFile (``/remd/...`` for the instance
    named ``remd``). Malformed or hostile bodies get a SOAP 1.2 fault with a code; their content
    is never logged (only size and hash). With a ``guard``, the caller is authenticated (address,
    client certificate) before the body is read, and the peer's signature checked once it is
    parsed; a refusal is answered with a fault and reported to ``on_refusal``."""
    routes = web.RouteTableDef()

    async def refuse(request: web.Request, refusal: Refusal, relates_to: str | None = None) -> web.Response:
        _log.warning("REMD endpoint: caller not authenticated", peer=peer, path=request.path, code=refusal.code)
        if on_refusal is not None:
            await on_refusal(peer, request.path, request.remote, refusal)
        fault = SoapFault("Sender", refusal.reason, subcode=refusal.code)
        return fault_response(fault, relates_to=relates_to, status=403)

    async def handle(request: web.Request) -> web.Response:
        # Who is calling is checked before the body is read; the body and its parse cost are
        # then held in the process's budget, and parsed off the event loop (issue 14).
        refusal = guard.check_request(request) if guard is not None else None
        if refusal is not None:
            return await refuse(request, refusal)
        try:
            check_content_type(request)
            announced = request.content_length if request.content_length is not None else max_bytes
            async with body_budget(request).hold(min(announced, max_bytes)) as hold:
                raw = await read_body(request, max_bytes)
                hold.resize(xml_parse_cost(raw))
                env = await asyncio.to_thread(parse_envelope, raw, max_bytes=max_bytes)
                return await dispatch(request, env, raw)
        except EnvelopeError as exc:
            _log.warning("REMD endpoint refused a body", path=request.path, code=exc.code, error=exc.message[:200])
            return fault_response(exc)
        except Overloaded as exc:
            _log.warning("REMD endpoint shed a request", path=request.path, error=exc.message)
            return overloaded_response(exc)
        except PayloadTooLarge as exc:
            return fault_response(EnvelopeError(str(exc.code), exc.message, http_status=413))

    async def dispatch(request: web.Request, env: Envelope, raw: bytes) -> web.Response:
        if guard is not None and env.root is not None:
            refusal = await asyncio.to_thread(guard.check_message, env.root)
            if refusal is not None:
                return await refuse(request, refusal, env.addressing.message_id)
        if env.operation == "registerDocumentResult":
            return await _on_result(env, raw, request.headers.get("Content-Type", ""), sink, peer)
        if env.operation == "getDocumentFileRequest":
            return await _on_get_file(env, document_source)
        if env.operation == "documentRegisteredNotification" and on_addressed is not None:
            return await _on_addressed(env, on_addressed, peer)
        _log.warning(
            "REMD endpoint: unknown operation", path=request.path, operation=env.operation, body=summarise_body(raw)
        )
        return fault_response(
            SoapFault("Sender", f"unknown operation {env.operation!r}", subcode="UNKNOWN_OPERATION"),
            relates_to=env.addressing.message_id,
        )

    routes.post(prefix + CALLBACK_SUFFIX)(handle)
    routes.post(prefix + GET_DOCUMENT_FILE_SUFFIX)(handle)
    return routes

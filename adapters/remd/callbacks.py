"""The endpoints REMD calls on the gateway: the registerDocumentResult callback and getDocumentFile.

Both paths accept either message (REMD's addressing of the two is not public, so the body element
decides). A callback is acknowledged only after the core's sink returned, i.e. once the outcome is
durable; when the sink fails the answer is a SOAP fault, so REMD may try again.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Final

from aiohttp import web

from adapters.remd import codec, mapping
from adapters.remd.messages import DocumentFile, GetDocumentFileResponse
from adapters.remd.soap import (
    SOAP12_CONTENT_TYPE,
    Addressing,
    Envelope,
    EnvelopeError,
    SoapFault,
    build_envelope,
    parse_envelope,
)
from adapters.remd.webutil import fault_response, read_body, soap_response
from gateway.common.logs import get_logger
from gateway.common.pii import summarise_body
from gateway.errors import GatewayError
from gateway.model import EnvelopeIn
from gateway.peers.contract import CallbackSink
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
    outcome = mapping.outcome_from_result(result, envelopes=envelopes, peer=peer)
    try:
        await sink(outcome)
    except GatewayError as exc:
        _log.warning("REMD callback not recorded", local_uid=result.local_uid, code=str(exc.code), error=exc.message)
        code = "Sender" if exc.http_status < 500 else "Receiver"
        return fault_response(SoapFault(code, exc.message, subcode=str(exc.code)), relates_to=env.addressing.message_id)
    except Exception as exc:
        _log.error("REMD callback not recorded", local_uid=result.local_uid, error=f"{type(exc).__name__}: {exc}"[:300])
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
    except Exception as exc:
        _log.error("getDocumentFile failed", local_uid=req.local_uid, error=f"{type(exc).__name__}: {exc}"[:300])
        failed = GetDocumentFileResponse(False, errors=(("RMIS_ERROR", "внутренняя ошибка шлюза при выдаче файла"),))
        return soap_response(codec.build_get_document_file_response(failed), action=action, relates_to=relates)
    if data is None:
        _log.info("getDocumentFile: unknown document", local_uid=req.local_uid)
        return soap_response(codec.build_get_document_file_response(not_sent), action=action, relates_to=relates)
    _log.info("getDocumentFile served", local_uid=req.local_uid, size=len(data))
    ok = GetDocumentFileResponse(True, document=DocumentFile.of(data))
    return soap_response(codec.build_get_document_file_response(ok), action=action, relates_to=relates)


def callback_routes(
    sink: CallbackSink,
    *,
    document_source: DocumentSource | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    prefix: str = "/remd",
    peer: str = mapping.PEER,
) -> web.RouteTableDef:
    """POST <prefix>/callback and POST <prefix>/getDocumentFile (``/remd/...`` for the instance
    named ``remd``). Malformed or hostile bodies get a SOAP 1.2 fault with a code; their content
    is never logged (only size and hash)."""
    routes = web.RouteTableDef()

    async def handle(request: web.Request) -> web.Response:
        try:
            raw = await read_body(request, max_bytes)
            env = parse_envelope(raw, max_bytes=max_bytes)
        except EnvelopeError as exc:
            _log.warning("REMD endpoint refused a body", path=request.path, code=exc.code, error=exc.message[:200])
            return fault_response(exc)
        if env.operation == "registerDocumentResult":
            return await _on_result(env, raw, request.headers.get("Content-Type", ""), sink, peer)
        if env.operation == "getDocumentFileRequest":
            return await _on_get_file(env, document_source)
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

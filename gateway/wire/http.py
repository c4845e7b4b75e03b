"""HTTP helpers of the SOAP endpoints peers serve: answers, faults and a bounded body read."""

from __future__ import annotations

import uuid

from aiohttp import web
from lxml import etree

from gateway.model import ErrorCode
from gateway.wire.addressing import WSA_FAULT_ACTION, Addressing
from gateway.wire.soap import SOAP12_CONTENT_TYPE, EnvelopeError, SoapFault, build_envelope, build_fault
from gateway.wire.soap import fault_http_status as _fault_status

__all__ = ["fault_response", "read_body", "soap_response"]


def soap_response(
    body: etree._Element,
    *,
    action: str,
    relates_to: str | None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """A SOAP 1.2 answer with a fresh wsa:MessageID and wsa:RelatesTo the request's MessageID."""
    addressing = Addressing(message_id=str(uuid.uuid4()), action=action, relates_to=relates_to)
    return web.Response(
        body=build_envelope(body, addressing=addressing),
        status=status,
        headers={"Content-Type": SOAP12_CONTENT_TYPE, **(headers or {})},
    )


def fault_response(
    fault: SoapFault | EnvelopeError,
    *,
    relates_to: str | None = None,
    status: int | None = None,
    detail_ns: tuple[str, str] | None = None,
) -> web.Response:
    """A SOAP 1.2 fault; HTTP status per the SOAP 1.2 HTTP binding unless given. ``detail_ns``:
    (prefix, namespace) of the fault's ``errors/item`` detail (see :func:`gateway.wire.soap.build_fault`)."""
    if isinstance(fault, EnvelopeError):
        status = status if status is not None else fault.http_status
        fault = fault.to_fault()
    addressing = Addressing(message_id=str(uuid.uuid4()), action=WSA_FAULT_ACTION, relates_to=relates_to)
    return web.Response(
        body=build_fault(fault, addressing=addressing, detail_ns=detail_ns),
        status=status if status is not None else _fault_status(fault.code),
        headers={"Content-Type": SOAP12_CONTENT_TYPE},
    )


async def read_body(request: web.Request, max_bytes: int) -> bytes:
    """The request body, refused (EnvelopeError PAYLOAD_TOO_LARGE, HTTP 413) beyond ``max_bytes``
    before more than that is read."""
    too_large = EnvelopeError(ErrorCode.PAYLOAD_TOO_LARGE, f"request body exceeds {max_bytes} bytes", http_status=413)
    if request.content_length is not None and request.content_length > max_bytes:
        raise too_large
    chunks: list[bytes] = []
    total = 0
    try:
        async for chunk in request.content.iter_chunked(64 * 1024):
            total += len(chunk)
            if total > max_bytes:
                raise too_large
            chunks.append(chunk)
    except web.HTTPRequestEntityTooLarge:
        raise too_large from None
    return b"".join(chunks)

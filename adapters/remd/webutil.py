"""Small helpers shared by the SOAP endpoints this package serves (callbacks, front door, twin)."""

from __future__ import annotations

import uuid

from aiohttp import web
from lxml import etree

from adapters.remd.soap import SOAP12_CONTENT_TYPE, Addressing, EnvelopeError, SoapFault, build_envelope, build_fault
from adapters.remd.soap import fault_http_status as _fault_status
from gateway.errors import Overloaded
from gateway.model import ErrorCode

__all__ = ["check_content_type", "fault_response", "overloaded_response", "read_body", "soap_response"]

# SOAP 1.2 (application/soap+xml), SOAP 1.1's text/xml (answered with a VersionMismatch fault once
# the envelope shows it), plain XML, and no Content-Type at all (aiohttp reports
# application/octet-stream): MIS differ, and REMD tolerates them. A form, JSON or text body is not
# an envelope and is refused before it is read.
_XML_TYPES = frozenset({"application/soap+xml", "text/xml", "application/xml", "application/octet-stream"})


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
    fault: SoapFault | EnvelopeError, *, relates_to: str | None = None, status: int | None = None
) -> web.Response:
    """A SOAP 1.2 fault; HTTP status per the SOAP 1.2 HTTP binding unless given."""
    if isinstance(fault, EnvelopeError):
        status = status if status is not None else fault.http_status
        fault = fault.to_fault()
    addressing = Addressing(
        message_id=str(uuid.uuid4()), action="http://www.w3.org/2005/08/addressing/soap/fault", relates_to=relates_to
    )
    return web.Response(
        body=build_fault(fault, addressing=addressing),
        status=status if status is not None else _fault_status(fault.code),
        headers={"Content-Type": SOAP12_CONTENT_TYPE},
    )


def check_content_type(request: web.Request) -> None:
    """Raise EnvelopeError UNSUPPORTED_MEDIA_TYPE (HTTP 415) for a body that is not XML."""
    if request.content_type not in _XML_TYPES:
        raise EnvelopeError(
            ErrorCode.UNSUPPORTED_MEDIA_TYPE,
            f"send a SOAP 1.2 envelope as application/soap+xml, not {request.content_type[:80]}",
            http_status=415,
        )


def overloaded_response(exc: Overloaded) -> web.Response:
    """The budget is exhausted: a Receiver fault (the sender may retry), 503 with Retry-After."""
    response = fault_response(SoapFault("Receiver", exc.message, subcode=str(exc.code)), status=503)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


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

"""The core's SOAP endpoint helpers (:mod:`gateway.wire.http`) with REMD's fault detail namespace."""

from __future__ import annotations

from aiohttp import web

from adapters.remd.soap import SERVICE_NS, EnvelopeError, SoapFault
from gateway.errors import Overloaded
from gateway.model import ErrorCode
from gateway.wire import http
from gateway.wire.http import read_body, soap_response

__all__ = ["check_content_type", "fault_response", "overloaded_response", "read_body", "soap_response"]

# SOAP 1.2 (application/soap+xml), SOAP 1.1's text/xml (answered with a VersionMismatch fault once
# the envelope shows it), plain XML, and no Content-Type at all (aiohttp reports
# application/octet-stream): MIS differ, and REMD tolerates them. A form, JSON or text body is not
# an envelope and is refused before it is read.
_XML_TYPES = frozenset({"application/soap+xml", "text/xml", "application/xml", "application/octet-stream"})


def fault_response(
    fault: SoapFault | EnvelopeError, *, relates_to: str | None = None, status: int | None = None
) -> web.Response:
    """A SOAP 1.2 fault whose ``errors/item`` detail is in REMD's service namespace."""
    return http.fault_response(fault, relates_to=relates_to, status=status, detail_ns=("emdr", SERVICE_NS))


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

"""The core's SOAP endpoint helpers (:mod:`gateway.wire.http`) with REMD's fault detail namespace."""

from __future__ import annotations

from aiohttp import web

from adapters.remd.soap import SERVICE_NS, EnvelopeError, SoapFault
from gateway.wire import http
from gateway.wire.http import read_body, soap_response

__all__ = ["fault_response", "read_body", "soap_response"]


def fault_response(
    fault: SoapFault | EnvelopeError, *, relates_to: str | None = None, status: int | None = None
) -> web.Response:
    """A SOAP 1.2 fault whose ``errors/item`` detail is in REMD's service namespace."""
    return http.fault_response(fault, relates_to=relates_to, status=status, detail_ns=("emdr", SERVICE_NS))

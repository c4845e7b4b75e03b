"""SOAP 1.2 envelopes as REMD exchanges them: the EGISZ transport header (clientEntityId) and REMD's
fault detail (``errors/item`` in the service namespace) over the core's protocol-independent SOAP
and WS-Addressing (:mod:`gateway.wire.soap`, :mod:`gateway.wire.addressing`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from lxml import etree

from gateway.wire import soap as wire
from gateway.wire.addressing import WSA_ANONYMOUS, WSA_NS, Addressing
from gateway.wire.safexml import DEFAULT_MAX_BYTES
from gateway.wire.soap import (
    FAULT_NS,
    SOAP11_NS,
    SOAP12_CONTENT_TYPE,
    SOAP12_NS,
    EnvelopeError,
    SoapFault,
    child,
    child_text,
    children,
    content_type,
    fault_http_status,
    local_name,
    text_element,
)

__all__ = [
    "CALLBACK_NS",
    "EGIS_NS",
    "FAULT_NS",
    "SERVICE_NS",
    "SOAP11_NS",
    "SOAP12_CONTENT_TYPE",
    "SOAP12_NS",
    "WSA_ANONYMOUS",
    "WSA_NS",
    "Addressing",
    "Envelope",
    "EnvelopeError",
    "SoapFault",
    "build_envelope",
    "build_fault",
    "child",
    "child_text",
    "children",
    "content_type",
    "fault_http_status",
    "local_name",
    "parse_envelope",
]

EGIS_NS: Final = "http://egisz.rosminzdrav.ru"
SERVICE_NS: Final = "http://egisz.rosminzdrav.ru/iehr/emdr/service/"
CALLBACK_NS: Final = "http://egisz.rosminzdrav.ru/iehr/emdr/callback/"
# REMD's fault detail: <emdr:errors><emdr:item><emdr:code/><emdr:message/></emdr:item></emdr:errors>
_DETAIL: Final = ("emdr", SERVICE_NS)
_CLIENT_ENTITY: Final = f"{{{EGIS_NS}}}transportHeader/{{{EGIS_NS}}}authInfo/{{{EGIS_NS}}}clientEntityId"


@dataclass(frozen=True, slots=True)
class Envelope:
    """A parsed REMD envelope: its addressing headers, the EGISZ clientEntityId, and either the
    first element child of env:Body or a fault."""

    addressing: Addressing
    client_entity_id: str | None
    body: etree._Element | None
    fault: SoapFault | None = None
    root: etree._Element | None = None  # the whole envelope, for checking a peer's signature

    @property
    def operation(self) -> str | None:
        """Local name of the body element (``registerDocumentRequest``, ...)."""
        return local_name(self.body) if self.body is not None else None


def parse_envelope(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Envelope:
    """Parse a SOAP 1.2 envelope from untrusted bytes (:func:`gateway.wire.soap.parse_envelope`:
    the same coded EnvelopeError) and read the EGISZ transport header."""
    env = wire.parse_envelope(data, max_bytes=max_bytes)
    entity = None
    if env.header is not None:
        found = env.header.find(_CLIENT_ENTITY)
        if found is not None and found.text:
            entity = found.text.strip() or None
    return Envelope(env.addressing, entity, env.body, env.fault, env.root)


def build_envelope(
    body: etree._Element | None,
    *,
    addressing: Addressing = Addressing(),
    client_entity_id: str | None = None,
    fault: SoapFault | None = None,
) -> bytes:
    """Serialise a SOAP 1.2 envelope (UTF-8, with declaration) around ``body`` or ``fault``."""

    def transport_header(header: etree._Element) -> None:
        if client_entity_id is not None:
            transport = etree.SubElement(header, f"{{{EGIS_NS}}}transportHeader")
            auth = etree.SubElement(transport, f"{{{EGIS_NS}}}authInfo")
            text_element(auth, f"{{{EGIS_NS}}}clientEntityId", client_entity_id)

    return wire.build_envelope(
        body,
        addressing=addressing,
        write_headers=transport_header,
        nsmap={"egis": EGIS_NS} if client_entity_id is not None else None,
        fault=fault,
        detail_ns=_DETAIL,
    )


def build_fault(fault: SoapFault, *, addressing: Addressing = Addressing()) -> bytes:
    return build_envelope(None, addressing=addressing, fault=fault)

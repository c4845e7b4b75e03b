"""SOAP 1.2 envelopes as REMD exchanges them: WS-Addressing headers, the EGISZ transport header,
and SOAP 1.2 faults.

Everything that arrives from outside is parsed here through :func:`gateway.wire.safexml.parse_xml` and
turned into a coded :class:`EnvelopeError` when it is not a usable SOAP 1.2 envelope, so no handler
ever sees an lxml exception. Building is plain lxml.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from lxml import etree

from gateway.model import ErrorCode
from gateway.wire.safexml import DEFAULT_MAX_BYTES, XmlSecurityError, XmlSyntaxError, parse_xml

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

SOAP12_NS: Final = "http://www.w3.org/2003/05/soap-envelope"
SOAP11_NS: Final = "http://schemas.xmlsoap.org/soap/envelope/"
WSA_NS: Final = "http://www.w3.org/2005/08/addressing"
WSA_ANONYMOUS: Final = "http://www.w3.org/2005/08/addressing/anonymous"
EGIS_NS: Final = "http://egisz.rosminzdrav.ru"
SERVICE_NS: Final = "http://egisz.rosminzdrav.ru/iehr/emdr/service/"
CALLBACK_NS: Final = "http://egisz.rosminzdrav.ru/iehr/emdr/callback/"
# Namespace of the gateway's own fault subcodes (the gateway's ErrorCode values).
FAULT_NS: Final = "urn:mse-gateway:faults"
SOAP12_CONTENT_TYPE: Final = "application/soap+xml; charset=utf-8"

_ENV: Final = f"{{{SOAP12_NS}}}"
_WSA: Final = f"{{{WSA_NS}}}"


@dataclass(frozen=True, slots=True)
class Addressing:
    """The WS-Addressing headers of one message (all optional on the wire)."""

    message_id: str | None = None
    action: str | None = None
    to: str | None = None
    reply_to: str | None = None
    relates_to: str | None = None


@dataclass(frozen=True, slots=True)
class SoapFault:
    """A SOAP 1.2 fault. ``code`` is the env:Code value without prefix (Sender, Receiver,
    VersionMismatch, MustUnderstand, DataEncodingUnknown); ``subcode`` is the first subcode's local
    part (the gateway puts its ErrorCode there); ``errors`` are REMD-style errors/item pairs carried
    in env:Detail."""

    code: str
    reason: str
    subcode: str | None = None
    errors: tuple[tuple[str, str], ...] = ()

    def codes(self) -> tuple[tuple[str, str], ...]:
        """The fault as (code, message) pairs: the detail's REMD codes when present, else the
        subcode, else the generic SOAP_FAULT (classified transient by the core)."""
        if self.errors:
            return self.errors
        return ((self.subcode or "SOAP_FAULT", f"SOAP fault {self.code}: {self.reason}"),)


@dataclass(frozen=True, slots=True)
class Envelope:
    """A parsed SOAP 1.2 envelope: its addressing headers, the EGISZ clientEntityId, and either the
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


class EnvelopeError(Exception):
    """The input is not a usable SOAP 1.2 envelope. ``code`` is stable (the gateway's ErrorCode
    values); ``fault_code`` says which SOAP fault answers it."""

    def __init__(self, code: str, message: str, *, fault_code: str = "Sender", http_status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fault_code = fault_code
        self.http_status = http_status if http_status is not None else fault_http_status(fault_code)

    def to_fault(self) -> SoapFault:
        return SoapFault(code=self.fault_code, reason=self.message, subcode=self.code)


def fault_http_status(fault_code: str) -> int:
    """HTTP status of a fault per the SOAP 1.2 HTTP binding (part 2, 7.5.2): Sender → 400, the
    rest → 500."""
    return 400 if fault_code == "Sender" else 500


def content_type(action: str | None = None) -> str:
    """SOAP 1.2 content type; the action travels as the media type's ``action`` parameter."""
    return f'{SOAP12_CONTENT_TYPE}; action="{action}"' if action else SOAP12_CONTENT_TYPE


def local_name(el: etree._Element) -> str:
    return etree.QName(el).localname


def children(el: etree._Element, name: str) -> list[etree._Element]:
    """Element children with local name ``name``, whatever their namespace (peers differ in how
    they qualify nested elements; the names are what the protocol fixes)."""
    return [c for c in el if isinstance(c.tag, str) and etree.QName(c).localname == name]


def child(el: etree._Element, name: str) -> etree._Element | None:
    found = children(el, name)
    return found[0] if found else None


def child_text(el: etree._Element, name: str) -> str | None:
    """Stripped text of the first child named ``name``; None when absent or empty."""
    c = child(el, name)
    if c is None or c.text is None:
        return None
    text = c.text.strip()
    return text or None


def _elements(el: etree._Element) -> list[etree._Element]:
    return [c for c in el if isinstance(c.tag, str)]


def _parse_fault(fault: etree._Element) -> SoapFault:
    def strip_prefix(value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        return value.rsplit(":", 1)[-1] if value else None

    code_el = child(fault, "Code")
    code = strip_prefix(child_text(code_el, "Value")) if code_el is not None else None
    sub = child(code_el, "Subcode") if code_el is not None else None
    subcode = strip_prefix(child_text(sub, "Value")) if sub is not None else None
    reason_el = child(fault, "Reason")
    reason = child_text(reason_el, "Text") if reason_el is not None else None
    errors: list[tuple[str, str]] = []
    detail = child(fault, "Detail")
    if detail is not None:
        for holder in detail.iter():
            if isinstance(holder.tag, str) and local_name(holder) == "item" and child_text(holder, "code"):
                errors.append((child_text(holder, "code") or "", child_text(holder, "message") or ""))
    return SoapFault(code=code or "Receiver", reason=reason or "", subcode=subcode, errors=tuple(errors))


def _header_text(header: etree._Element | None, ns: str, name: str) -> str | None:
    if header is None:
        return None
    el = header.find(f"{{{ns}}}{name}")
    if el is None or el.text is None:
        return None
    return el.text.strip() or None


def parse_envelope(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Envelope:
    """Parse a SOAP 1.2 envelope from untrusted bytes.

    Raises EnvelopeError: XML_FORBIDDEN_CONSTRUCT (DTD, entities, oversize — refused before the
    content is looked at), XML_MALFORMED (not XML, not an envelope, no body), VersionMismatch for a
    SOAP 1.1 envelope.
    """
    try:
        root = parse_xml(data, max_bytes=max_bytes)
    except XmlSecurityError as exc:
        raise EnvelopeError(ErrorCode.XML_FORBIDDEN_CONSTRUCT, str(exc)[:300]) from None
    except XmlSyntaxError as exc:
        raise EnvelopeError(ErrorCode.XML_MALFORMED, str(exc)[:300]) from None
    qname = etree.QName(root)
    if qname.localname == "Envelope" and qname.namespace == SOAP11_NS:
        # HTTP 400, not the binding's 500: the sender's mistake, and the gateway keeps 5xx for its
        # own failures (monitoring and the fuzz runs count them).
        raise EnvelopeError(
            "VERSION_MISMATCH",
            "SOAP 1.1 envelope: this endpoint speaks SOAP 1.2",
            fault_code="VersionMismatch",
            http_status=400,
        )
    if qname.localname != "Envelope" or qname.namespace != SOAP12_NS:
        raise EnvelopeError(ErrorCode.XML_MALFORMED, f"not a SOAP 1.2 envelope: root element {qname.localname!r}")
    header = root.find(f"{_ENV}Header")
    body = root.find(f"{_ENV}Body")
    if body is None:
        raise EnvelopeError(ErrorCode.XML_MALFORMED, "SOAP envelope without env:Body")
    reply_to = None
    if header is not None:
        reply_el = header.find(f"{_WSA}ReplyTo")
        if reply_el is not None:
            address = reply_el.find(f"{_WSA}Address")
            if address is not None and address.text:
                reply_to = address.text.strip() or None
    entity = None
    if header is not None:
        found = header.find(f"{{{EGIS_NS}}}transportHeader/{{{EGIS_NS}}}authInfo/{{{EGIS_NS}}}clientEntityId")
        if found is not None and found.text:
            entity = found.text.strip() or None
    addressing = Addressing(
        message_id=_header_text(header, WSA_NS, "MessageID"),
        action=_header_text(header, WSA_NS, "Action"),
        to=_header_text(header, WSA_NS, "To"),
        reply_to=reply_to,
        relates_to=_header_text(header, WSA_NS, "RelatesTo"),
    )
    content = _elements(body)
    if not content:
        raise EnvelopeError(ErrorCode.XML_MALFORMED, "empty env:Body")
    first = content[0]
    if etree.QName(first).namespace == SOAP12_NS and local_name(first) == "Fault":
        return Envelope(addressing, entity, None, _parse_fault(first), root)
    return Envelope(addressing, entity, first, None, root)


def _text_el(parent: etree._Element, tag: str, text: str) -> etree._Element:
    el = etree.SubElement(parent, tag)
    el.text = text
    return el


def build_envelope(
    body: etree._Element | None,
    *,
    addressing: Addressing = Addressing(),
    client_entity_id: str | None = None,
    fault: SoapFault | None = None,
) -> bytes:
    """Serialise a SOAP 1.2 envelope (UTF-8, with declaration) around ``body`` or ``fault``."""
    nsmap = {"soap": SOAP12_NS, "wsa": WSA_NS}
    if client_entity_id is not None:
        nsmap["egis"] = EGIS_NS
    env = etree.Element(f"{_ENV}Envelope", nsmap=nsmap)
    header = etree.SubElement(env, f"{_ENV}Header")
    if client_entity_id is not None:
        transport = etree.SubElement(header, f"{{{EGIS_NS}}}transportHeader")
        auth = etree.SubElement(transport, f"{{{EGIS_NS}}}authInfo")
        _text_el(auth, f"{{{EGIS_NS}}}clientEntityId", client_entity_id)
    a = addressing
    if a.message_id:
        _text_el(header, f"{_WSA}MessageID", a.message_id)
    if a.action:
        _text_el(header, f"{_WSA}Action", a.action)
    if a.to:
        _text_el(header, f"{_WSA}To", a.to)
    if a.reply_to:
        reply = etree.SubElement(header, f"{_WSA}ReplyTo")
        _text_el(reply, f"{_WSA}Address", a.reply_to)
    if a.relates_to:
        _text_el(header, f"{_WSA}RelatesTo", a.relates_to)
    body_el = etree.SubElement(env, f"{_ENV}Body")
    if fault is not None:
        body_el.append(_fault_element(fault))
    elif body is not None:
        body_el.append(body)
    return bytes(etree.tostring(env, xml_declaration=True, encoding="UTF-8"))


def _fault_element(fault: SoapFault) -> etree._Element:
    el = etree.Element(f"{_ENV}Fault", nsmap={"soap": SOAP12_NS, "gw": FAULT_NS})
    code = etree.SubElement(el, f"{_ENV}Code")
    _text_el(code, f"{_ENV}Value", f"soap:{fault.code}")
    if fault.subcode:
        sub = etree.SubElement(code, f"{_ENV}Subcode")
        _text_el(sub, f"{_ENV}Value", f"gw:{fault.subcode}")
    reason = etree.SubElement(el, f"{_ENV}Reason")
    text = _text_el(reason, f"{_ENV}Text", fault.reason)
    text.set("{http://www.w3.org/XML/1998/namespace}lang", "ru")
    if fault.errors:
        detail = etree.SubElement(el, f"{_ENV}Detail")
        errors = etree.SubElement(detail, f"{{{SERVICE_NS}}}errors", nsmap={"emdr": SERVICE_NS})
        for code_value, message in fault.errors:
            item = etree.SubElement(errors, f"{{{SERVICE_NS}}}item")
            _text_el(item, f"{{{SERVICE_NS}}}code", code_value)
            _text_el(item, f"{{{SERVICE_NS}}}message", message)
    return el


def build_fault(fault: SoapFault, *, addressing: Addressing = Addressing()) -> bytes:
    return build_envelope(None, addressing=addressing, fault=fault)

"""SOAP 1.2 envelopes and faults, protocol-independent (the peers' own headers and namespaces are
theirs: an adapter adds its header elements and names its fault-detail namespace).

Everything that arrives from outside is parsed here through :func:`gateway.wire.safexml.parse_xml` and
turned into a coded :class:`EnvelopeError` when it is not a usable SOAP 1.2 envelope (a SOAP 1.1
envelope is answered with a VersionMismatch fault), so no handler ever sees an lxml exception.
Building is plain lxml.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from lxml import etree

from gateway.model import ErrorCode
from gateway.wire.addressing import WSA_NS, Addressing, add_addressing, read_addressing
from gateway.wire.safexml import DEFAULT_MAX_BYTES, XmlSecurityError, XmlSyntaxError, parse_xml

__all__ = [
    "FAULT_NS",
    "SOAP11_NS",
    "SOAP12_CONTENT_TYPE",
    "SOAP12_NS",
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
    "text_element",
    "text_language",
]

SOAP12_NS: Final = "http://www.w3.org/2003/05/soap-envelope"
SOAP11_NS: Final = "http://schemas.xmlsoap.org/soap/envelope/"
# Namespace of the gateway's own fault subcodes (the gateway's ErrorCode values).
FAULT_NS: Final = "urn:mse-gateway:faults"
SOAP12_CONTENT_TYPE: Final = "application/soap+xml; charset=utf-8"

_ENV: Final = f"{{{SOAP12_NS}}}"


@dataclass(frozen=True, slots=True)
class SoapFault:
    """A SOAP 1.2 fault. ``code`` is the env:Code value without prefix (Sender, Receiver,
    VersionMismatch, MustUnderstand, DataEncodingUnknown); ``subcode`` is the first subcode's local
    part (the gateway puts its ErrorCode there); ``errors`` are (code, message) pairs carried in
    env:Detail as ``errors/item/{code,message}`` (REMD's convention, in the peer's namespace)."""

    code: str
    reason: str
    subcode: str | None = None
    errors: tuple[tuple[str, str], ...] = ()

    def codes(self) -> tuple[tuple[str, str], ...]:
        """The fault as (code, message) pairs: the detail's codes when present, else the subcode,
        else the generic SOAP_FAULT (classified transient by the core)."""
        if self.errors:
            return self.errors
        return ((self.subcode or "SOAP_FAULT", f"SOAP fault {self.code}: {self.reason}"),)


@dataclass(frozen=True, slots=True)
class Envelope:
    """A parsed SOAP 1.2 envelope: its addressing headers, the env:Header element (for the peer's
    own headers) and either the first element child of env:Body or a fault."""

    addressing: Addressing
    header: etree._Element | None
    body: etree._Element | None
    fault: SoapFault | None = None
    root: etree._Element | None = None  # the whole envelope, for checking a peer's signature

    @property
    def operation(self) -> str | None:
        """Local name of the body element."""
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
    addressing = read_addressing(header)
    content = _elements(body)
    if not content:
        raise EnvelopeError(ErrorCode.XML_MALFORMED, "empty env:Body")
    first = content[0]
    if etree.QName(first).namespace == SOAP12_NS and local_name(first) == "Fault":
        return Envelope(addressing, header, None, _parse_fault(first), root)
    return Envelope(addressing, header, first, None, root)


def text_element(parent: etree._Element, tag: str, text: str) -> etree._Element:
    """A child ``tag`` of ``parent`` holding ``text``."""
    el = etree.SubElement(parent, tag)
    el.text = text
    return el


def build_envelope(
    body: etree._Element | None,
    *,
    addressing: Addressing = Addressing(),
    write_headers: Callable[[etree._Element], None] | None = None,
    nsmap: Mapping[str, str] | None = None,
    fault: SoapFault | None = None,
    detail_ns: tuple[str, str] | None = None,
) -> bytes:
    """Serialise a SOAP 1.2 envelope (UTF-8, with declaration) around ``body`` or ``fault``.

    ``write_headers`` adds the peer's own header elements to env:Header (before the addressing
    headers); ``nsmap`` adds prefixes to the envelope; ``detail_ns`` is the (prefix, namespace) of a
    fault's ``errors/item`` detail."""
    env_nsmap = {"soap": SOAP12_NS, "wsa": WSA_NS, **(nsmap or {})}
    env = etree.Element(f"{_ENV}Envelope", nsmap=env_nsmap)
    header = etree.SubElement(env, f"{_ENV}Header")
    if write_headers is not None:
        write_headers(header)
    add_addressing(header, addressing)
    body_el = etree.SubElement(env, f"{_ENV}Body")
    if fault is not None:
        body_el.append(_fault_element(fault, detail_ns))
    elif body is not None:
        body_el.append(body)
    return bytes(etree.tostring(env, xml_declaration=True, encoding="UTF-8"))


_CYRILLIC: Final = re.compile(r"[\u0400-\u04FF]")


def text_language(text: str) -> str:
    """The xml:lang of a fault reason: ``ru`` when it is written in Russian (any Cyrillic letter:
    REMD's own messages, the FLK's), else ``en`` (the gateway's own reasons). Until 2026-12 every
    reason was tagged ``ru``, English ones included."""
    return "ru" if _CYRILLIC.search(text) else "en"


def _fault_element(fault: SoapFault, detail_ns: tuple[str, str] | None) -> etree._Element:
    el = etree.Element(f"{_ENV}Fault", nsmap={"soap": SOAP12_NS, "gw": FAULT_NS})
    code = etree.SubElement(el, f"{_ENV}Code")
    text_element(code, f"{_ENV}Value", f"soap:{fault.code}")
    if fault.subcode:
        sub = etree.SubElement(code, f"{_ENV}Subcode")
        text_element(sub, f"{_ENV}Value", f"gw:{fault.subcode}")
    reason = etree.SubElement(el, f"{_ENV}Reason")
    text = text_element(reason, f"{_ENV}Text", fault.reason)
    text.set("{http://www.w3.org/XML/1998/namespace}lang", text_language(fault.reason))
    if fault.errors:
        detail = etree.SubElement(el, f"{_ENV}Detail")
        q = f"{{{detail_ns[1]}}}" if detail_ns else ""
        errors = etree.SubElement(detail, f"{q}errors", nsmap=dict([detail_ns]) if detail_ns else None)
        for code_value, message in fault.errors:
            item = etree.SubElement(errors, f"{q}item")
            text_element(item, f"{q}code", code_value)
            text_element(item, f"{q}message", message)
    return el


def build_fault(
    fault: SoapFault, *, addressing: Addressing = Addressing(), detail_ns: tuple[str, str] | None = None
) -> bytes:
    return build_envelope(None, addressing=addressing, fault=fault, detail_ns=detail_ns)

"""SOAP 1.1 envelopes and faults, protocol-neutral (SMEV 3 speaks SOAP 1.1).

Building is plain lxml. Parsing goes through :func:`gateway.wire.safexml.parse_xml` and turns
anything that is not a usable SOAP 1.1 envelope into a :class:`Soap11Error` with a stable code,
so a caller never sees an lxml exception. A fault is returned as :class:`Soap11Fault` with its
``detail`` children kept as elements: what they mean is the protocol's business.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from lxml import etree

from gateway.wire.safexml import DEFAULT_MAX_BYTES, XmlSecurityError, XmlSyntaxError, parse_xml

__all__ = [
    "SOAP11_CONTENT_TYPE",
    "SOAP11_NS",
    "Soap11Envelope",
    "Soap11Error",
    "Soap11Fault",
    "build_envelope",
    "build_fault",
    "parse_envelope",
    "serialize",
]

SOAP11_NS: Final = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP11_CONTENT_TYPE: Final = "text/xml; charset=utf-8"
_ENV: Final = f"{{{SOAP11_NS}}}"


class Soap11Error(ValueError):
    """The bytes are not a usable SOAP 1.1 envelope. ``code``: XML_FORBIDDEN_CONSTRUCT,
    XML_MALFORMED, NOT_SOAP11 (another root or namespace), NO_BODY, EMPTY_BODY."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Soap11Fault:
    """A SOAP 1.1 fault: ``faultcode`` as written (``soap:Server``), its local part in
    ``code`` (Server, Client, VersionMismatch, MustUnderstand), ``faultstring``, optional
    ``faultactor`` and the element children of ``detail``."""

    faultcode: str
    faultstring: str
    faultactor: str | None = None
    detail: tuple[etree._Element, ...] = ()

    @property
    def code(self) -> str:
        return self.faultcode.rpartition(":")[2]


@dataclass(frozen=True, slots=True)
class Soap11Envelope:
    """A parsed envelope: the root, the Header children, the first Body child (None when the
    Body holds a fault) and the fault when there is one."""

    root: etree._Element
    headers: tuple[etree._Element, ...] = ()
    payload: etree._Element | None = None
    fault: Soap11Fault | None = None
    body_children: tuple[etree._Element, ...] = field(default_factory=tuple)


def build_envelope(payload: etree._Element, *, headers: Sequence[etree._Element] = ()) -> etree._Element:
    """``payload`` (moved, not copied) inside ``soap:Envelope/soap:Body``; a Header is written
    (empty when there are no headers: SMEV refuses envelopes without one, PoorSOAPEnvelopeFormat)."""
    envelope = etree.Element(f"{_ENV}Envelope", nsmap={"soap": SOAP11_NS})
    header = etree.SubElement(envelope, f"{_ENV}Header")
    for item in headers:
        header.append(item)
    body = etree.SubElement(envelope, f"{_ENV}Body")
    body.append(payload)
    return envelope


def build_fault(
    faultcode: str, faultstring: str, *, detail: Sequence[etree._Element] = (), faultactor: str | None = None
) -> etree._Element:
    """A fault envelope. ``faultcode`` is a local name in the SOAP namespace (``Server``,
    ``Client``) or an already prefixed QName."""
    fault = etree.Element(f"{_ENV}Fault")
    # faultcode/faultstring/detail are unqualified in SOAP 1.1
    etree.SubElement(fault, "faultcode").text = faultcode if ":" in faultcode else f"soap:{faultcode}"
    etree.SubElement(fault, "faultstring").text = faultstring
    if faultactor is not None:
        etree.SubElement(fault, "faultactor").text = faultactor
    if detail:
        holder = etree.SubElement(fault, "detail")
        for item in detail:
            holder.append(item)
    return build_envelope(fault)


def serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _elements(parent: etree._Element) -> list[etree._Element]:
    return [c for c in parent if isinstance(c.tag, str)]


def _fault(element: etree._Element) -> Soap11Fault:
    def text(name: str) -> str | None:
        found = element.find(name)
        if found is None:  # some stacks qualify them: accept that too
            found = element.find(f"{_ENV}{name}")
        return None if found is None else (found.text or "").strip()

    detail = element.find("detail")
    if detail is None:
        detail = element.find(f"{_ENV}detail")
    return Soap11Fault(
        faultcode=text("faultcode") or "",
        faultstring=text("faultstring") or "",
        faultactor=text("faultactor"),
        detail=tuple(_elements(detail)) if detail is not None else (),
    )


def parse_envelope(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Soap11Envelope:
    """Parse a SOAP 1.1 envelope safely. Raises :class:`Soap11Error` only."""
    try:
        root = parse_xml(data, max_bytes=max_bytes)
    except XmlSecurityError as exc:
        raise Soap11Error("XML_FORBIDDEN_CONSTRUCT", str(exc)) from None
    except XmlSyntaxError as exc:
        raise Soap11Error("XML_MALFORMED", str(exc)) from None
    if root.tag != f"{_ENV}Envelope":
        raise Soap11Error("NOT_SOAP11", f"root element is {root.tag}, not a SOAP 1.1 Envelope")
    header = root.find(f"{_ENV}Header")
    body = root.find(f"{_ENV}Body")
    if body is None:
        raise Soap11Error("NO_BODY", "the envelope has no Body")
    children = _elements(body)
    headers = tuple(_elements(header)) if header is not None else ()
    if not children:
        raise Soap11Error("EMPTY_BODY", "the Body is empty")
    if children[0].tag == f"{_ENV}Fault":
        return Soap11Envelope(root, headers, None, _fault(children[0]), tuple(children))
    return Soap11Envelope(root, headers, children[0], None, tuple(children))

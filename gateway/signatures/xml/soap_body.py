"""Signed SOAP messages between the gateway and a peer: the peer signs the SOAP Body (a
ds:Signature in the Header referencing the Body by wsu:Id), and the gateway checks it against
the peer's certificates pinned in configuration — pinning is the trust decision, so no chain is
built. Used by plug-ins to authenticate what peers send (callbacks, file requests) and by their
sandbox twins to sign what they send."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Final

from cryptography.exceptions import InvalidSignature
from lxml import etree

from gateway.signatures.certificates import Certificate
from gateway.signatures.keys import PrivateKey
from gateway.signatures.xml.sign import sign_xml
from gateway.signatures.xml.xmldsig import (
    ReferenceDigestMismatch,
    XmlSignatureFormatError,
    check_references,
    check_signature_value,
    find_signatures,
    parse_signature,
)
from gateway.wire.safexml import parse_xml

__all__ = ["WSU_NS", "sign_soap_body", "verify_soap_body"]

WSU_NS: Final = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
_SOAP_NS: Final = ("http://www.w3.org/2003/05/soap-envelope", "http://schemas.xmlsoap.org/soap/envelope/")
_HEADER: Final = "/*[local-name()='Envelope']/*[local-name()='Header']"


def _body(root: etree._Element) -> etree._Element | None:
    for ns in _SOAP_NS:
        body = root.find(f"{{{ns}}}Body")
        if body is not None:
            return body
    return None


def sign_soap_body(envelope: bytes, key: PrivateKey, cert: Certificate) -> bytes:
    """``envelope`` (which must have a Header) with its Body signed by ``key``."""
    root = parse_xml(envelope)
    body = _body(root)
    if body is None:
        raise ValueError("not a SOAP envelope with a Body")
    ident = body.get(f"{{{WSU_NS}}}Id") or f"body-{uuid.uuid4()}"
    body.set(f"{{{WSU_NS}}}Id", ident)
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return sign_xml(data, key, cert, style="enveloped", reference_id=ident, container=_HEADER)


def verify_soap_body(root: etree._Element, pinned: Sequence[Certificate]) -> str | None:
    """None when a signature over the Body verifies with one of ``pinned``; else why not."""
    body = _body(root)
    if body is None:
        return "no SOAP Body"
    signatures = find_signatures(root)
    if not signatures:
        return "the message is not signed"
    reason = "no signature covers the SOAP Body"
    for index, element in enumerate(signatures):
        try:
            parsed = parse_signature(element, index, root)
        except XmlSignatureFormatError as exc:
            reason = f"malformed signature: {exc}"
            continue
        if not any(ref.element is body for ref in parsed.references):
            continue
        try:
            check_references(parsed)
        except ReferenceDigestMismatch:
            return "the Body does not match its signature"
        except Exception as exc:  # an unsupported transform or digest is a refusal, not a crash
            return f"signature cannot be checked: {type(exc).__name__}"
        for cert in pinned:
            try:
                check_signature_value(parsed, cert)
            except (InvalidSignature, ValueError, TypeError):
                continue
            except Exception:  # noqa: S112 — an algorithm that does not fit this key: try the next pin
                continue
            return None
        reason = "signed, but not by a pinned certificate"
    return reason

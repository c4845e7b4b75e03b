"""WS-Security (OASIS SOAP Message Security 1.0, X.509 token profile) on SOAP envelopes,
protocol-neutral: what the Kazakh e-government gateway (ШЭП) requires on every message.

The layout written (as ШЭП and NCANode's ``/wsse/sign`` use it)::

    soap:Header/wsse:Security/ds:Signature
        SignedInfo: exc-c14n, the key's scheme (KZ GOST 2015-512 ``pkigovkz`` URIs, RSA-SHA256, ...),
                    one Reference URI="#<the Body's wsu:Id>" with the exc-c14n transform alone
        KeyInfo/wsse:SecurityTokenReference/wsse:KeyIdentifier
                    ValueType="...#X509v3" EncodingType="...#Base64Binary": the signer's certificate
    soap:Body wsu:Id="..."

``reference="binary-token"`` writes a ``wsse:BinarySecurityToken`` in the Security header instead and
a ``wsse:Reference`` to it. Verification is the one XMLDSig verifier's
(:mod:`gateway.signatures.xml.verify`): :func:`gateway.signatures.xml.xmldsig.key_info_certificates`
reads the certificate from either form, so ``mse-gateway verify`` reports a WS-Security envelope
like any XMLDSig. :func:`verify_wssecurity_body` is the check a peer adapter makes on what it
receives: a signature in wsse:Security that covers the Body and verifies with a pinned certificate.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from typing import Final, Literal

from lxml import etree

from gateway.signatures.certificates import Certificate
from gateway.signatures.keys import PrivateKey
from gateway.signatures.xml import uris
from gateway.signatures.xml.sign import XmlSignError, sign_xml
from gateway.signatures.xml.soap_body import verify_soap_body
from gateway.wire.safexml import parse_xml

__all__ = [
    "BASE64_BINARY",
    "WSSE_NS",
    "WSU_NS",
    "X509V3",
    "TokenStyle",
    "security_header",
    "sign_wssecurity",
    "verify_wssecurity_body",
]

WSSE_NS: Final = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU_NS: Final = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
X509V3: Final = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
BASE64_BINARY: Final = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
_SOAP_NS: Final = ("http://schemas.xmlsoap.org/soap/envelope/", "http://www.w3.org/2003/05/soap-envelope")

TokenStyle = Literal["key-identifier", "binary-token"]


def _soap_parts(root: etree._Element) -> tuple[str, etree._Element | None, etree._Element]:
    for ns in _SOAP_NS:
        if root.tag == f"{{{ns}}}Envelope":
            body = root.find(f"{{{ns}}}Body")
            if body is None:
                break
            return ns, root.find(f"{{{ns}}}Header"), body
    raise XmlSignError("not a SOAP envelope with a Body")


def security_header(root: etree._Element) -> etree._Element | None:
    """The envelope's wsse:Security header (None when there is none)."""
    for ns in _SOAP_NS:
        header = root.find(f"{{{ns}}}Header")
        if header is not None:
            return header.find(f"{{{WSSE_NS}}}Security")
    return None


def sign_wssecurity(
    envelope: bytes, key: PrivateKey, cert: Certificate, *, reference: TokenStyle = "key-identifier"
) -> bytes:
    """``envelope`` with its Body signed in a wsse:Security header (created, with a Header when
    missing). Raises XmlSignError for what is not a SOAP envelope, UnsupportedAlgorithm for a key
    without an XMLDSig scheme."""
    root = parse_xml(envelope)
    soap_ns, header, body = _soap_parts(root)
    if header is None:
        header = etree.Element(f"{{{soap_ns}}}Header")
        body.addprevious(header)
    security = header.find(f"{{{WSSE_NS}}}Security")
    if security is None:
        security = etree.SubElement(header, f"{{{WSSE_NS}}}Security", nsmap={"wsse": WSSE_NS, "wsu": WSU_NS})
    ident = body.get(f"{{{WSU_NS}}}Id") or f"id-{uuid.uuid4()}"
    body.set(f"{{{WSU_NS}}}Id", ident)
    token_id = None
    if reference == "binary-token":
        token_id = f"X509-{uuid.uuid4()}"
        bst = etree.SubElement(
            security,
            f"{{{WSSE_NS}}}BinarySecurityToken",
            {"EncodingType": BASE64_BINARY, "ValueType": X509V3, f"{{{WSU_NS}}}Id": token_id},
        )
        bst.text = base64.b64encode(cert.der).decode("ascii")
    signed = sign_xml(
        etree.tostring(root, xml_declaration=True, encoding="UTF-8"),
        key,
        cert,
        style="enveloped",
        reference_id=ident,
        container="/*/*[local-name()='Header']/wsse:Security",
        namespaces={"wsse": WSSE_NS},
        transforms=[uris.EXC_C14N],
    )
    # KeyInfo is outside SignedInfo: the token reference replaces X509Data after signing.
    out = parse_xml(signed)
    sec = security_header(out)
    assert sec is not None
    key_info = sec.find(f"{{{uris.DS_NS}}}Signature/{{{uris.DS_NS}}}KeyInfo")
    assert key_info is not None
    for child in list(key_info):
        key_info.remove(child)
    ref = etree.SubElement(key_info, f"{{{WSSE_NS}}}SecurityTokenReference")
    if token_id is None:
        kid = etree.SubElement(ref, f"{{{WSSE_NS}}}KeyIdentifier", {"EncodingType": BASE64_BINARY, "ValueType": X509V3})
        kid.text = base64.b64encode(cert.der).decode("ascii")
    else:
        etree.SubElement(ref, f"{{{WSSE_NS}}}Reference", {"URI": f"#{token_id}", "ValueType": X509V3})
    return etree.tostring(out.getroottree(), xml_declaration=True, encoding="UTF-8")


def verify_wssecurity_body(root: etree._Element, pinned: Sequence[Certificate]) -> str | None:
    """None when a ds:Signature in the envelope's wsse:Security covers the Body and verifies with
    one of ``pinned``; else why not (for the journal and the security log)."""
    try:
        _soap_parts(root)
    except XmlSignError as exc:
        return str(exc)
    security = security_header(root)
    if security is None:
        return "no wsse:Security header"
    if security.find(f"{{{uris.DS_NS}}}Signature") is None:
        return "wsse:Security holds no ds:Signature"
    if not pinned:
        return "no certificate is trusted for this peer"
    return verify_soap_body(root, pinned)

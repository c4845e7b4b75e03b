"""XAdES-BES / XAdES-B qualifying properties of one ds:Signature.

What is checked: the xades:SignedProperties element is covered by a Reference of the same signature
(otherwise nothing in it is signed and it is ignored, with an error when XAdES is required);
SigningTime becomes the signing time; the first xades:Cert of SigningCertificateV2 (or
SigningCertificate) must hash to the certificate that verified the signature (like ESSCertID in
CAdES). Unsigned properties (timestamps of B-T/LT/LTA) are not interpreted.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lxml import etree

from gateway.signatures.certificates import Certificate
from gateway.signatures.codes import SignatureErrorCode
from gateway.signatures.errors import SignatureLayerError
from gateway.signatures.xml import uris
from gateway.signatures.xml.xmldsig import DS, XADES_NAMESPACES, ParsedSignature, XmlSignatureFormatError

__all__ = [
    "SIGNED_PROPERTIES_TYPE",
    "XADES_NAMESPACES",
    "SigningCertificateMismatch",
    "XadesProperties",
    "check_signing_certificate",
    "read_xades",
]

SIGNED_PROPERTIES_TYPE = "http://uri.etsi.org/01903#SignedProperties"


class SigningCertificateMismatch(SignatureLayerError):
    """SigningCertificate(V2) names another certificate than the one that verifies the signature."""

    code = SignatureErrorCode.SIGNATURE_VERIFICATION_ERROR


@dataclass(frozen=True, slots=True)
class CertDigest:
    digest_uri: str
    value: bytes


@dataclass(slots=True)
class XadesProperties:
    """The signed XAdES properties of a signature (only those covered by one of its References)."""

    signed_properties: etree._Element
    signing_time: datetime | None
    cert_digests: list[CertDigest] = field(default_factory=list)
    v2: bool = False

    @property
    def bes(self) -> bool:
        return bool(self.cert_digests)


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _xades(element: etree._Element) -> bool:
    return isinstance(element.tag, str) and etree.QName(element).namespace in XADES_NAMESPACES


def _parse_time(text: str | None) -> datetime | None:
    if not text or not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise XmlSignatureFormatError("xades:SigningTime is not an xs:dateTime") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def read_xades(parsed: ParsedSignature) -> XadesProperties | None:
    """The SignedProperties a Reference of ``parsed`` covers, or None when there are none.

    Raises XmlSignatureFormatError for properties that are present but unreadable."""
    for ref in parsed.references:
        element = ref.element
        if ref.whole_document or not _xades(element) or _local(element) != "SignedProperties":
            continue
        signing_time: datetime | None = None
        digests: list[CertDigest] = []
        v2 = False
        for node in element.iter():
            if not _xades(node):
                continue
            name = _local(node)
            if name == "SigningTime":
                signing_time = _parse_time(node.text)
            elif name in ("SigningCertificate", "SigningCertificateV2") and not digests:
                v2 = name.endswith("V2")
                for cert_digest in node.iter():
                    if _xades(cert_digest) and _local(cert_digest) == "CertDigest":
                        method = cert_digest.find(f"{{{DS}}}DigestMethod")
                        value = cert_digest.findtext(f"{{{DS}}}DigestValue")
                        try:
                            raw = base64.b64decode("".join((value or "").split()), validate=True)
                        except (binascii.Error, ValueError):
                            raise XmlSignatureFormatError("xades:CertDigest value is not base64") from None
                        uri = "" if method is None else method.get("Algorithm") or ""
                        digests.append(CertDigest(uri, raw))
        return XadesProperties(element, signing_time, digests, v2)
    return None


def check_signing_certificate(props: XadesProperties, cert: Certificate) -> None:
    """The first xades:Cert must be the signer's certificate (raises SigningCertificateMismatch)."""
    for entry in props.cert_digests[:1]:
        digest = uris.digest_for_uri(entry.digest_uri)
        if cert.digest(digest.name, digest.hash) != entry.value:
            raise SigningCertificateMismatch("xades:SigningCertificate names another certificate")

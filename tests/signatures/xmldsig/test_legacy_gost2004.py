"""The Kazakh legacy GOST 34.310-2004 (``xmldsig-more#gost34310-gost34311``), verification only:
the GOST 34.311-95 hash against the standard's test vectors, the real NCA test certificate's
signature checked with its CA's key (the published conventions: hash read little-endian,
SignatureValue r||s little-endian, curve CryptoPro A), and an XML / WS-Security signature made
with those conventions verifying with the project's verifier."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

from gateway.signatures import algorithms, oids
from gateway.signatures.certificates import Certificate, certificate_from_der, load_certificates
from gateway.signatures.errors import InvalidSignature, UnsupportedAlgorithm
from gateway.signatures.gost._ec import base_mult, sign_ints
from gateway.signatures.gost.curves import curve_by_oid
from gateway.signatures.gost.gost341194 import gost341194
from gateway.signatures.keys import generate_key, gost_spki, parse_public_key
from gateway.signatures.pki.builder import build_certificate, build_name
from gateway.signatures.xml import uris
from gateway.signatures.xml.transforms import canonicalize
from gateway.signatures.xml.verify import XmlVerifier
from gateway.signatures.xml.wssecurity import BASE64_BINARY, WSSE_NS, WSU_NS, X509V3, verify_wssecurity_body
from gateway.wire.safexml import parse_xml

NCA = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "nca-test"
SIG_URI = "http://www.w3.org/2001/04/xmldsig-more#gost34310-gost34311"
DIGEST_URI = "http://www.w3.org/2001/04/xmldsig-more#gost34311"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (b"", "ce85b99cc46752fffee35cab9a7b0278abb4c2d2055cff685af4912c49490f8d"),
        (b"a", "d42c539e367c66e9c88a801f6649349c21871b4344c6a573f849fdce62f314dd"),
        (b"abc", "f3134348c44fb1b2a277729e2285ebb5cb5e0f29c975bc753b70497c06a4d51d"),
        (b"message digest", "ad4434ecb18f2c99b60cbe59ec3d2469582b65273f48de72db2fde16a4889a4d"),
        (
            b"The quick brown fox jumps over the lazy dog",
            "77b7fa410c9ac58a25f49bca7d0468c9296529315eaca76bd1a10f376d1f4294",
        ),
    ],
)
def test_gost34311_test_vectors(message: bytes, expected: str) -> None:
    assert gost341194(message).hex() == expected


def test_the_nca_test_certificate_verifies_with_its_ca_key() -> None:
    """A real vector: NCA's GOST 34.310-2004 test CA signed the test CEO certificate."""
    ca = load_certificates((NCA / "nca_gost_test.crt").read_bytes())[0]
    ee = load_certificates((NCA / "ceo_valid_sign_2004_gost.cer").read_bytes())[0]
    key = ca.public_key
    assert (key.algorithm_oid, key.bits, key.kazakh) == (oids.KZ_KEY_GOST2004, 256, True)
    scheme = algorithms.resolve_signature_algorithm(ee.asn1["signature_algorithm"]["algorithm"].dotted, None, key)
    assert scheme.name == "gost34310-2004"
    tbs = ee.asn1["tbs_certificate"].dump()
    signature = ee.asn1["signature_value"].native
    algorithms.verify_digest(key, scheme, scheme.digest.hash(tbs), signature)
    with pytest.raises(InvalidSignature):
        algorithms.verify_digest(key, scheme, scheme.digest.hash(tbs + b"\x00"), signature)
    with pytest.raises(UnsupportedAlgorithm):  # never used to sign
        algorithms.default_signature_algorithm(key)


def _legacy_identity() -> tuple[int, Certificate]:
    """A GOST 34.310-2004 key on CryptoPro A and a certificate for it (issued by an ECDSA key: the
    chain is not what these tests are about)."""
    curve = curve_by_oid(oids.CRYPTOPRO_CURVE_A)
    d = secrets.randbelow(curve.q - 1) + 1
    point = base_mult(curve, d)
    assert point is not None
    raw = point[0].to_bytes(32, "little") + point[1].to_bytes(32, "little")
    public = parse_public_key(gost_spki(oids.KZ_KEY_GOST2004, oids.KZ_GOST2004_CURVE_A, None, raw))
    issuer = generate_key("ecdsa")
    now = datetime.now(UTC)
    cert = build_certificate(
        subject=build_name([("2.5.4.3", "legacy ШЭП participant")]),
        subject_key=public,
        issuer_key=issuer,
        issuer=None,
        serial=7,
        not_before=now - timedelta(days=1),
        not_after=now + timedelta(days=30),
    )
    return d, certificate_from_der(cert.der)


def _legacy_sign(envelope: bytes, d: int, cert: Certificate) -> bytes:
    """A WS-Security signature over the Body written by hand with the published conventions."""
    root = parse_xml(envelope)
    body = root.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
    assert body is not None
    body.set(f"{{{WSU_NS}}}Id", "body-1")
    header = root.find("{http://schemas.xmlsoap.org/soap/envelope/}Header")
    assert header is not None
    security = etree.SubElement(header, f"{{{WSSE_NS}}}Security", nsmap={"wsse": WSSE_NS})
    ds = uris.DS_NS
    sig = etree.SubElement(security, f"{{{ds}}}Signature", nsmap={"ds": ds})
    si = etree.SubElement(sig, f"{{{ds}}}SignedInfo")
    etree.SubElement(si, f"{{{ds}}}CanonicalizationMethod", Algorithm=uris.EXC_C14N)
    etree.SubElement(si, f"{{{ds}}}SignatureMethod", Algorithm=SIG_URI)
    ref = etree.SubElement(si, f"{{{ds}}}Reference", URI="#body-1")
    etree.SubElement(etree.SubElement(ref, f"{{{ds}}}Transforms"), f"{{{ds}}}Transform", Algorithm=uris.EXC_C14N)
    etree.SubElement(ref, f"{{{ds}}}DigestMethod", Algorithm=DIGEST_URI)
    etree.SubElement(ref, f"{{{ds}}}DigestValue").text = base64.b64encode(
        gost341194(canonicalize(body, uris.EXC_C14N, node_set=False))
    ).decode()
    value = etree.SubElement(sig, f"{{{ds}}}SignatureValue")
    key_info = etree.SubElement(sig, f"{{{ds}}}KeyInfo")
    token = etree.SubElement(
        etree.SubElement(key_info, f"{{{WSSE_NS}}}SecurityTokenReference"), f"{{{WSSE_NS}}}KeyIdentifier"
    )
    token.set("ValueType", X509V3)
    token.set("EncodingType", BASE64_BINARY)
    token.text = base64.b64encode(cert.der).decode()
    curve = curve_by_oid(oids.CRYPTOPRO_CURVE_A)
    e = int.from_bytes(gost341194(canonicalize(si, uris.EXC_C14N, node_set=False)), "little")
    rs = None
    while rs is None:
        rs = sign_ints(curve, d, e, secrets.randbelow(curve.q - 1) + 1)
    r, s = rs
    value.text = base64.b64encode(r.to_bytes(32, "little") + s.to_bytes(32, "little")).decode()
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


ENVELOPE = b"""<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header/><soap:Body>
<ns:getMessageStatus xmlns:ns="http://bip.bee.kz/AsyncChannel/v10/Types"><request><messageId>m-1</messageId>
<requestDate>2025-07-01T15:59:00.000+05:00</requestDate><sender><senderId>mis</senderId></sender></request>
</ns:getMessageStatus></soap:Body></soap:Envelope>"""


def test_a_legacy_wssecurity_signature_verifies() -> None:
    d, cert = _legacy_identity()
    signed = _legacy_sign(ENVELOPE, d, cert)
    result = XmlVerifier().verify_xml(signed)
    [report] = result.report.signatures
    assert report.integrity == "valid" and report.algorithm == "gost34310-2004", result.report.to_json()
    assert verify_wssecurity_body(parse_xml(signed), [cert]) is None
    tampered = signed.replace(b"<messageId>m-1</messageId>", b"<messageId>m-2</messageId>")
    assert verify_wssecurity_body(parse_xml(tampered), [cert]) == "the Body does not match its signature"
    assert XmlVerifier().verify_xml(tampered).report.signatures[0].integrity != "valid"
    forged = signed.replace(b"<ds:SignatureValue>", b"<ds:SignatureValue>AAAA")
    assert XmlVerifier().verify_xml(forged).report.signatures[0].integrity != "valid"

"""The project's own XML signatures: every algorithm and style verifies with the project's verifier,
RSA also with signxml (and signxml's RSA/ECDSA signatures with ours)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from _xmldsig_helpers import KZ_DOCUMENT, NS, SMEV_EXPECT, SMEV_EXPECT_NS, SMEV_REQUEST, chain_of, verifier_for
from cryptography import x509 as crypto_x509
from cryptography.hazmat.primitives import serialization
from lxml import etree
from signxml.algorithms import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConstructionMethod,
    SignatureMethod,
)
from signxml.signer import XMLSigner
from signxml.verifier import XMLVerifier

from gateway.signatures.pki import IssuedCertificate, TestPki
from gateway.signatures.xml import uris
from gateway.signatures.xml.sign import XmlSignError, sign_xml

CASES = [
    ("gost2012-256", "vk-chair", "gost2012-256"),
    ("gost2012-512", "mse-head", "gost2012-512"),
    ("gost2015-kz-512", "kz-vkk-chair", "gost2015-512"),
    ("rsa", "kz-org", "rsa-sha256"),
    ("ecdsa", "doctor", "ecdsa-sha256"),
]


@pytest.mark.parametrize(("algorithm", "profile", "name"), CASES)
def test_smev_style_signature_verifies(
    algorithm: str,
    profile: str,
    name: str,
    pki_factory: Callable[[str], TestPki],
    issued_factory: Callable[[str, str], IssuedCertificate],
) -> None:
    pki, signer = pki_factory(algorithm), issued_factory(algorithm, profile)
    signed = sign_xml(
        SMEV_REQUEST,
        signer.key,
        signer.certificate,
        style="smev",
        reference_id="SIGNED_BY_CONSUMER",
        chain=chain_of(pki),
    )
    root = etree.fromstring(signed)
    # SMEV layout: the Signature sits in CallerInformationSystemSignature, next to the signed element
    holder = root.find(".//ns:CallerInformationSystemSignature", NS)
    assert holder is not None and holder[0].tag == f"{{{uris.DS_NS}}}Signature"
    transforms = [t.get("Algorithm") for t in holder.iter(f"{{{uris.DS_NS}}}Transform")]
    assert transforms == [uris.EXC_C14N, uris.SMEV_TRANSFORM]
    result = verifier_for(pki).verify_xml(signed, expected=SMEV_EXPECT, namespaces=SMEV_EXPECT_NS)
    [sig] = result.report.signatures
    assert result.valid, result.report.to_json()
    assert sig.algorithm == name
    assert sig.chain == "trusted" and sig.revocation == "good"
    [element] = result.signed_elements()
    assert element.get("Id") == "SIGNED_BY_CONSUMER"


@pytest.mark.parametrize(("algorithm", "profile", "name"), CASES)
def test_enveloped_xades_signature_verifies(
    algorithm: str,
    profile: str,
    name: str,
    pki_factory: Callable[[str], TestPki],
    issued_factory: Callable[[str, str], IssuedCertificate],
) -> None:
    pki, signer = pki_factory(algorithm), issued_factory(algorithm, profile)
    moment = datetime.now(UTC).replace(microsecond=0)
    signed = sign_xml(KZ_DOCUMENT, signer.key, signer.certificate, xades=True, signing_time=moment, chain=chain_of(pki))
    result = verifier_for(pki).verify_xml(signed)
    [sig] = result.report.signatures
    assert result.valid, result.report.to_json()
    assert sig.algorithm == name
    assert sig.cades_bes is True
    assert sig.signing_time == moment.isoformat().replace("+00:00", "Z")
    assert sig.signing_time_source == "signed-attribute"


def test_kazakh_signature_uses_pkigovkz_uris_and_nca_byte_order(
    issued_factory: Callable[[str, str], IssuedCertificate],
) -> None:
    from gateway.signatures import algorithms, gost
    from gateway.signatures.xml.xmldsig import find_signatures, parse_signature

    signer = issued_factory("gost2015-kz-512", "kz-vkk-chair")
    signed = sign_xml(KZ_DOCUMENT, signer.key, signer.certificate)
    root = etree.fromstring(signed)
    method = root.find(".//ds:SignatureMethod", NS)
    assert method is not None
    assert (
        method.get("Algorithm") == "urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:gostr34102015-gostr34112015-512"
    )
    parsed = parse_signature(find_signatures(root)[0], 0, root)
    key = signer.certificate.public_key
    digest = algorithms.digest_by_name("streebog512").hash(parsed.signed_info_octets)
    # the stored value is NCA r||s little-endian: the Russian layout is its byte reversal
    gost.verify_digest(key.gost_curve, key.gost_point, digest, parsed.signature_value[::-1])  # type: ignore[arg-type]
    with pytest.raises(gost.InvalidSignature):
        gost.verify_digest(key.gost_curve, key.gost_point, digest, parsed.signature_value)  # type: ignore[arg-type]


def _crypto_cert(signer: IssuedCertificate) -> crypto_x509.Certificate:
    return crypto_x509.load_der_x509_certificate(signer.certificate.der)


@pytest.mark.parametrize("xades", [False, True])
def test_project_rsa_signature_verifies_with_signxml(
    xades: bool, issued_factory: Callable[[str, str], IssuedCertificate]
) -> None:
    signer = issued_factory("rsa", "kz-org")
    signed = sign_xml(KZ_DOCUMENT, signer.key, signer.certificate, xades=xades)
    results = XMLVerifier().verify(signed, x509_cert=_crypto_cert(signer), expect_references=2 if xades else 1)
    first = results[0] if isinstance(results, list) else results
    assert first.signed_xml is not None
    assert etree.QName(first.signed_xml).localname == "document"


def test_project_smev_style_rsa_signature_verifies_with_signxml(
    issued_factory: Callable[[str, str], IssuedCertificate],
) -> None:
    """signxml does not know the SMEV transform; with an exc-c14n-only signature of the same shape
    (element by Id, detached from it) it agrees with us."""
    signer = issued_factory("rsa", "kz-org")
    signed = sign_xml(
        SMEV_REQUEST, signer.key, signer.certificate, style="enveloped", reference_id="SIGNED_BY_CONSUMER"
    )
    result = XMLVerifier().verify(signed, x509_cert=_crypto_cert(signer))
    assert not isinstance(result, list)
    assert result.signed_xml is not None and result.signed_xml.get("Id") == "SIGNED_BY_CONSUMER"


@pytest.mark.parametrize(
    ("algorithm", "method"),
    [("rsa", SignatureMethod.RSA_SHA256), ("ecdsa", SignatureMethod.ECDSA_SHA256)],
)
def test_signxml_signatures_verify_with_the_project(
    algorithm: str,
    method: SignatureMethod,
    pki_factory: Callable[[str], TestPki],
    issued_factory: Callable[[str, str], IssuedCertificate],
) -> None:
    pki, signer = pki_factory(algorithm), issued_factory(algorithm, "doctor")
    key_pem = signer.key.to_pem()
    cert_pem = _crypto_cert(signer).public_bytes(serialization.Encoding.PEM)
    signed_root = XMLSigner(
        method=SignatureConstructionMethod.enveloped,
        signature_algorithm=method,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    ).sign(etree.fromstring(KZ_DOCUMENT), key=key_pem, cert=cert_pem.decode("ascii"))
    data = etree.tostring(signed_root)
    result = verifier_for(pki).verify_xml(data, certificates=chain_of(pki))
    assert result.valid, result.report.to_json()
    assert result.report.signatures[0].algorithm == f"{'rsa' if algorithm == 'rsa' else 'ecdsa'}-sha256"
    tampered = data.replace(b"031-77", b"031-78")
    [sig] = verifier_for(pki).verify_xml(tampered).report.signatures
    assert sig.integrity == "invalid"


def test_smev_style_needs_an_id(issued_factory: Callable[[str, str], IssuedCertificate]) -> None:
    signer = issued_factory("gost2012-256", "vk-chair")
    with pytest.raises(XmlSignError):
        sign_xml(SMEV_REQUEST, signer.key, signer.certificate, style="smev")
    with pytest.raises(XmlSignError):
        sign_xml(SMEV_REQUEST, signer.key, signer.certificate, style="smev", reference_id="NO_SUCH_ID")

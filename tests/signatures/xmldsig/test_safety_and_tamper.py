"""Hostile XML is refused before any cryptography; one-character changes break integrity only
inside what is signed; the report carries the signer's identity fields."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from _xmldsig_helpers import KZ_DOCUMENT, SMEV_REQUEST, chain_of, verifier_for

from gateway.signatures.codes import SignatureErrorCode as C
from gateway.signatures.pki import IssuedCertificate, TestPki
from gateway.signatures.xml import xmldsig
from gateway.signatures.xml.sign import sign_xml
from gateway.signatures.xml.verify import verify_xml

HOSTILE = {
    "internal-dtd": b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>',
    "external-entity": b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>',
    "billion-laughs": b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><l>&b;</l>',
    "external-dtd": b'<?xml version="1.0"?><!DOCTYPE a SYSTEM "http://example.invalid/a.dtd"><a/>',
    "undeclared-entity": b"<a>&x;</a>",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_xml_is_refused_before_any_crypto(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*_: object, **__: object) -> None:
        raise AssertionError("crypto reached for refused XML")

    monkeypatch.setattr(xmldsig, "check_signature_value", forbidden)
    monkeypatch.setattr(xmldsig, "check_references", forbidden)
    monkeypatch.setattr(xmldsig, "parse_signature", forbidden)
    report = verify_xml(HOSTILE[name]).report
    assert not report.valid
    assert report.signatures == []
    assert [e.code for e in report.errors] == [C.SIGNATURE_DECODING_ERROR]


def test_hostile_dtd_wrapped_around_a_genuine_signature_is_refused(
    issued_factory: Callable[[str, str], IssuedCertificate],
) -> None:
    signer = issued_factory("gost2012-256", "vk-chair")
    signed = sign_xml(KZ_DOCUMENT, signer.key, signer.certificate)
    hostile = signed.replace(b"?>", b'?><!DOCTYPE document [<!ENTITY e "x">]>', 1)
    report = verify_xml(hostile).report
    assert report.signatures == [] and report.errors[0].code is C.SIGNATURE_DECODING_ERROR
    assert "DTD" in report.errors[0].detail or "DOCTYPE" in report.errors[0].detail


def test_malformed_and_unsigned_xml() -> None:
    assert verify_xml(b"<a><b></a>").report.errors[0].code is C.SIGNATURE_DECODING_ERROR
    report = verify_xml(b"<a/>").report
    assert not report.valid and [e.code for e in report.errors] == [C.NO_SIGNATURE]


@pytest.mark.parametrize(("algorithm", "profile"), [("gost2012-256", "vk-chair"), ("gost2015-kz-512", "kz-org")])
def test_one_character_in_the_signed_element_breaks_integrity(
    algorithm: str,
    profile: str,
    pki_factory: Callable[[str], TestPki],
    issued_factory: Callable[[str, str], IssuedCertificate],
) -> None:
    pki, signer = pki_factory(algorithm), issued_factory(algorithm, profile)
    verifier = verifier_for(pki)
    signed = sign_xml(
        SMEV_REQUEST,
        signer.key,
        signer.certificate,
        style="smev",
        reference_id="SIGNED_BY_CONSUMER",
        chain=chain_of(pki),
    )
    assert verifier.verify_xml(signed).valid
    for old, new in [
        (b"<m:Amount>100<", b"<m:Amount>101<"),  # text
        (b'kind="121"', b'kind="122"'),  # attribute
        (b"db0486d0-3c08", b"db0486d1-3c08"),  # MessageID
    ]:
        assert old in signed
        [sig] = verifier.verify_xml(signed.replace(old, new, 1)).report.signatures
        assert sig.integrity == "invalid"
        assert C.DIGEST_MISMATCH in sig.codes
    # outside the signed element: the SOAP header, the envelope's own attributes
    outside = signed.replace(b"outside the signed element", b"outside the signed elemenT")
    assert outside != signed
    assert verifier.verify_xml(outside).valid
    # inside SignedInfo: the signature value no longer matches
    tampered = signed.replace(b"<ds:SignatureMethod", b'<ds:SignatureMethod Id="x"', 1)
    assert tampered != signed
    [sig] = verifier.verify_xml(tampered).report.signatures
    assert C.SIGNATURE_VERIFICATION_ERROR in sig.codes


def test_enveloped_document_one_character_change(
    pki_factory: Callable[[str], TestPki], issued_factory: Callable[[str, str], IssuedCertificate]
) -> None:
    pki, signer = pki_factory("rsa"), issued_factory("rsa", "kz-org")
    signed = sign_xml(KZ_DOCUMENT, signer.key, signer.certificate, xades=True, chain=chain_of(pki))
    verifier = verifier_for(pki)
    assert verifier.verify_xml(signed).valid
    [sig] = verifier.verify_xml(signed.replace("ВКК".encode(), "ВКЯ".encode())).report.signatures
    assert C.DIGEST_MISMATCH in sig.codes


def test_signing_certificate_v2_must_name_the_signer(
    pki_factory: Callable[[str], TestPki], issued_factory: Callable[[str, str], IssuedCertificate]
) -> None:
    """A signature re-made with another key but the first signer's SignedProperties is refused."""
    pki = pki_factory("gost2015-kz-512")
    first, second = issued_factory("gost2015-kz-512", "kz-org"), issued_factory("gost2015-kz-512", "kz-individual")
    signed = sign_xml(KZ_DOCUMENT, first.key, first.certificate, xades=True, chain=chain_of(pki))
    from gateway.signatures.xml import xades

    result = verifier_for(pki).verify_xml(signed)
    parsed = xmldsig.parse_signature(xmldsig.find_signatures(result.root)[0], 0, result.root)  # type: ignore[arg-type]
    props = xades.read_xades(parsed)
    assert props is not None and props.v2
    xades.check_signing_certificate(props, first.certificate)
    with pytest.raises(xades.SigningCertificateMismatch):
        xades.check_signing_certificate(props, second.certificate)


def test_identity_fields_russian_and_kazakh(
    pki_factory: Callable[[str], TestPki], issued_factory: Callable[[str, str], IssuedCertificate]
) -> None:
    ru_pki, ru = pki_factory("gost2012-256"), issued_factory("gost2012-256", "vk-chair")
    ru_sig = verifier_for(ru_pki).verify_xml(sign_xml(KZ_DOCUMENT, ru.key, ru.certificate)).report.signatures[0]
    assert ru_sig.signer is not None
    expected = ru.certificate.identity()
    assert ru_sig.signer.snils == expected.snils and ru_sig.signer.snils
    assert ru_sig.signer.ogrn == expected.ogrn and ru_sig.signer.ogrn
    assert ru_sig.signer.inn == expected.inn and ru_sig.signer.inn
    assert ru_sig.signer.title == "Председатель врачебной комиссии"

    kz_pki, kz = pki_factory("gost2015-kz-512"), issued_factory("gost2015-kz-512", "kz-vkk-chair")
    kz_report = verifier_for(kz_pki).verify_xml(sign_xml(KZ_DOCUMENT, kz.key, kz.certificate)).report
    kz_sig = kz_report.signatures[0].to_dict()["signer"]
    assert kz_sig["iin"] and kz_sig["iin"] == kz.certificate.identity().iin
    assert kz_sig["bin"] and kz_sig["bin"] == kz.certificate.identity().bin
    assert set(kz_sig["kz_roles"]) == {"ORGANIZATION", "EMPLOYEE"}


def test_revoked_signer_is_reported(fresh_pki: TestPki) -> None:
    signer = fresh_pki.issue("vk-chair")
    signed = sign_xml(KZ_DOCUMENT, signer.key, signer.certificate, chain=chain_of(fresh_pki))
    assert verifier_for(fresh_pki).verify_xml(signed).valid
    fresh_pki.revoke(signer.serial_hex)
    report = verifier_for(fresh_pki).verify_xml(signed).report
    assert not report.valid
    assert report.signatures[0].chain == "revoked"
    assert C.CERT_REVOKED in report.codes

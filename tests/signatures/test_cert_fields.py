"""Certificate fields (Russian qualified and Kazakh NCA), real NCA and TK26 certificates and CRLs."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from _sig_helpers import VECTORS, load_vector

from gateway.signatures.certificates import load_certificates
from gateway.signatures.chain import ChainStatus, PathValidator
from gateway.signatures.codes import SignatureErrorCode
from gateway.signatures.pki import IssuedCertificate, TestPki
from gateway.signatures.revocation import CrlStore, RevocationState, load_crls
from gateway.signatures.trust import TrustStore

JUNE_2022 = datetime(2022, 6, 1, tzinfo=UTC)


def _cert(name: str):  # type: ignore[no-untyped-def]
    return load_certificates(load_vector("certs", name))[0]


def test_nca_individual_identity() -> None:
    identity = _cert("individual_valid_sign_2004_rsa.cer").identity()
    assert identity.iin == "123456789011"
    assert identity.bin is None
    assert identity.kz_roles == ("INDIVIDUAL",)
    assert identity.country == "KZ"
    assert identity.common_name == "ТЕСТОВ ТЕСТ"
    assert identity.surname == "ТЕСТОВ"


def test_nca_ceo_identity() -> None:
    identity = _cert("ceo_valid_sign_2004_gost.cer").identity()
    assert identity.iin == "123456789011"
    assert identity.bin == "123456789021"
    assert identity.kz_roles == ("ORGANIZATION", "CEO")
    assert identity.organization == 'АО "ТЕСТ"'
    assert 'O=АО \\"ТЕСТ\\"' in identity.subject  # RFC 4514 escaping


def test_nca_rsa_chain_and_crl_at_a_date_inside_validity() -> None:
    ca = _cert("nca_rsa_test.crt")
    leaf = _cert("individual_valid_sign_2004_rsa.cer")
    crl = load_crls(load_vector("certs", "nca_rsa_test.crl"))[0]
    assert crl.signed_by(ca)
    assert len(crl.revoked) == 126
    assert leaf.serial not in crl.revoked
    validator = PathValidator(TrustStore([ca]), CrlStore(crls=[crl]))
    result = validator.validate(leaf, [], reference_time=JUNE_2022, check_time=JUNE_2022)
    assert result.status is ChainStatus.TRUSTED, result.errors
    assert result.revocation is not None and result.revocation.state is RevocationState.GOOD
    assert [p.serial for p in result.path] == [leaf.serial, ca.serial]


def test_nca_certificate_expired_at_check_time_is_a_warning() -> None:
    ca = _cert("nca_rsa_test.crt")
    leaf = _cert("individual_valid_sign_2004_rsa.cer")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    result = PathValidator(TrustStore([ca])).validate(leaf, [], reference_time=JUNE_2022, check_time=now)
    assert result.status is ChainStatus.TRUSTED
    assert not result.valid_at_check and result.valid_at_reference
    assert [w.code for w in result.warnings] == [SignatureErrorCode.PERSONAL_SIG_CERT_NOT_ACTUAL_ON_CHECK_DT]
    strict = PathValidator(TrustStore([ca]), require_valid_at_check_time=True)
    assert SignatureErrorCode.PERSONAL_SIG_CERT_NOT_ACTUAL_ON_CHECK_DT in [
        e.code for e in strict.validate(leaf, [], reference_time=JUNE_2022, check_time=now).errors
    ]


def test_crl_of_another_ca_is_not_used() -> None:
    """A CRL counts only if it verifies with the issuer's key: here the issuer differs."""
    leaf = _cert("individual_valid_sign_2004_rsa.cer")
    ca = _cert("nca_rsa_test.crt")
    other_crl = load_crls(load_vector("gost", "tk26/rfc4491bis-256-a.crl.pem"))[0]
    assert not other_crl.signed_by(ca)
    status = CrlStore(crls=[other_crl]).status(leaf, ca, now=JUNE_2022)
    assert status.state is RevocationState.UNKNOWN


def test_old_kazakh_gost_2004_chain_is_checked() -> None:
    """GOST 34.310-2004 keys are verified (issue 17: legacy signatures still seen on ШЭП): the NCA
    test CEO certificate chains to its test CA; the same certificate with one byte of its
    to-be-signed part changed does not."""
    ca = _cert("nca_gost_test.crt")
    leaf = _cert("ceo_valid_sign_2004_gost.cer")
    assert ca.public_key.algorithm_oid == "1.2.398.3.10.1.1.1.1"
    result = PathValidator(TrustStore([ca])).validate(leaf, [], reference_time=JUNE_2022, check_time=JUNE_2022)
    assert result.status is ChainStatus.TRUSTED, result.errors
    der = bytearray(leaf.der)
    der[200] ^= 1  # inside the subject name
    tampered = load_certificates(bytes(der))[0]
    bad = PathValidator(TrustStore([ca])).validate(tampered, [], reference_time=JUNE_2022, check_time=JUNE_2022)
    assert bad.status is not ChainStatus.TRUSTED


def test_kazakh_gost_2015_key_and_real_crl() -> None:
    """The NCA GOST 2015 CA key parses (asn1crypto cannot) and its real CRL verifies only with the
    Kazakh byte order, through the same layer as every other signature."""
    ca = _cert("nca_gost2015_test.cer")
    key = ca.public_key
    assert key.kazakh and key.bits == 512 and key.gost_curve_oid == "1.2.398.3.10.1.1.2.2.1"
    crl_path = VECTORS / "gost" / "nca" / "nca_gost2022_test.crl"
    if not crl_path.exists():
        pytest.skip(f"{crl_path} (kept by the GOST primitives' vectors) is not there")
    crl = load_crls(crl_path.read_bytes())[0]
    assert crl.signature_algorithm_oid == "1.2.398.3.10.1.1.2.3.2"
    assert crl.signed_by(ca)
    tampered = load_crls(crl.der[:-5] + bytes([crl.der[-5] ^ 1]) + crl.der[-4:])[0]
    assert not tampered.signed_by(ca)


@pytest.mark.parametrize("name", ["tk26iok-256-xcha", "tk26iok-512-b", "rfc4491bis-256-a"])
def test_tk26_example_certificates_verify_through_the_chain_layer(name: str) -> None:
    cert = load_certificates(load_vector("gost", f"tk26/{name}.cert.pem"))[0]
    at = datetime(2025, 1, 1, tzinfo=UTC)
    result = PathValidator(TrustStore([cert])).validate(cert, [], reference_time=at, check_time=at)
    assert result.status is ChainStatus.TRUSTED
    keys = json.loads(load_vector("gost", "tk26/keys.json"))
    assert cert.public_key.gost_curve_oid == keys[name]["curve"]


def test_tk26_example_crl_signature() -> None:
    cert = load_certificates(load_vector("gost", "tk26/rfc4491bis-256-a.cert.pem"))[0]
    crl = load_crls(load_vector("gost", "tk26/rfc4491bis-256-a.crl.pem"))[0]
    assert crl.signed_by(cert)


def test_russian_qualified_fields_from_the_test_pki(gost_pki: TestPki) -> None:
    issued = gost_pki.issue(
        "vk-chair",
        {
            "snils": "11223344595",
            "inn": "500100732259",
            "ogrn": "1027700132195",
            "inn_le": "7707083893",
            "title": "Председатель врачебной комиссии",
        },
    )
    identity = issued.certificate.identity()
    assert identity.snils == "11223344595"
    assert identity.inn == "500100732259"
    assert identity.ogrn == "1027700132195"
    assert identity.inn_le == "7707083893"
    assert identity.title == "Председатель врачебной комиссии"
    assert identity.surname == "Тестов" and identity.given_name == "Иван Петрович"
    assert identity.email == "test@example.invalid"
    assert "SNILS=11223344595" in identity.subject and "T=Председатель врачебной комиссии" in identity.subject
    assert issued.certificate.key_usage == frozenset({"digital_signature", "non_repudiation"})


def test_snils_is_numeric_string_as_fsb_795_requires(gost_signer: IssuedCertificate) -> None:
    from asn1crypto import core

    for rdn in gost_signer.certificate.asn1.subject.chosen:
        for attribute in rdn:
            if attribute["type"].dotted in ("1.2.643.100.3", "1.2.643.100.1", "1.2.643.3.131.1.1"):
                assert isinstance(attribute["value"].parsed, core.NumericString)


def test_kazakh_profile_fields(issued_factory: Callable[[str, str], IssuedCertificate]) -> None:
    identity = issued_factory("gost2015-kz-512", "kz-vkk-chair").certificate.identity()
    assert identity.iin is not None and len(identity.iin) == 12
    assert identity.bin is not None and len(identity.bin) == 12
    assert identity.kz_roles == ("ORGANIZATION", "EMPLOYEE")
    org = issued_factory("rsa", "kz-org").certificate.identity()
    assert org.kz_roles == ("ORGANIZATION", "CEO")


def test_load_certificates_formats(gost_signer: IssuedCertificate) -> None:
    import base64

    der = gost_signer.certificate.der
    assert load_certificates(der)[0] == gost_signer.certificate
    assert load_certificates(base64.b64encode(der))[0] == gost_signer.certificate
    assert load_certificates(gost_signer.cert_path.read_bytes())[0] == gost_signer.certificate
    with pytest.raises(ValueError):
        load_certificates(b"not a certificate")

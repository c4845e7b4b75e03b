"""CMS SignedData / CAdES-BES verification: every algorithm, attached/detached, signed attributes or
not, several signers, certificates inside or supplied, and the container-level codes."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from _sig_helpers import load_vector
from asn1crypto import cms

from gateway.signatures import gost
from gateway.signatures.certificates import load_certificates
from gateway.signatures.cms import parse_cms
from gateway.signatures.codes import SignatureErrorCode as C
from gateway.signatures.errors import MissingContentError
from gateway.signatures.pki import IssuedCertificate, TestPki
from gateway.signatures.pki.builder import build_crl
from gateway.signatures.revocation import Crl, CrlStore
from gateway.signatures.sign import SignerSpec, sign_cms, sign_cms_multi
from gateway.signatures.trust import TrustStore
from gateway.signatures.verify import Verifier, VerifyPolicy

DOC = "Направление на МСЭ (тест)".encode() * 40
ALGORITHMS = ["gost2012-256", "gost2012-512", "gost2015-kz-512", "rsa", "ecdsa"]
NAMES = {"gost2012-256": "gost2012-256", "gost2012-512": "gost2012-512", "gost2015-kz-512": "gost2015-512",
         "rsa": "rsa-sha256", "ecdsa": "ecdsa-sha256"}  # fmt: skip


def _verifier(pki: TestPki, **policy: bool) -> Verifier:
    return Verifier(pki.trust_dir, [pki.crl_path, pki.root_crl_path], policy=VerifyPolicy(**policy))


@pytest.mark.parametrize("attached", [False, True], ids=["detached", "attached"])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_valid_signature_every_algorithm(
    algorithm: str,
    attached: bool,
    pki_factory: Callable[[str], TestPki],
    issued_factory: Callable[[str, str], IssuedCertificate],
) -> None:
    pki, signer = pki_factory(algorithm), issued_factory(algorithm, "vk-chair")
    signature = sign_cms(DOC, signer.key, signer.certificate, chain=[pki.ca], attached=attached)
    report = _verifier(pki).verify_cms(signature, None if attached else DOC)
    assert report.valid, report.to_json()
    sig = report.signatures[0]
    assert (sig.integrity, sig.chain, sig.algorithm) == ("valid", "trusted", NAMES[algorithm])
    assert sig.revocation == "good"
    assert sig.cades_bes
    assert sig.signing_time_source == "signed-attribute"
    assert report.detached is (not attached)
    assert sig.signer is not None and sig.signer.snils == signer.certificate.identity().snils
    assert [c["serial_hex"] for c in sig.chain_certificates] == [pki.ca.serial_hex, pki.root.serial_hex]


def test_report_json_shape(gost_pki: TestPki, gost_signer: IssuedCertificate) -> None:
    signature = sign_cms(DOC, gost_signer.key, gost_signer.certificate, chain=[gost_pki.ca])
    data = _verifier(gost_pki).verify_cms(signature, DOC).to_dict()
    assert data["valid"] is True and data["format"] == "cms"
    sig = data["signatures"][0]
    assert {"integrity", "chain", "algorithm", "signing_time", "signer", "certificate", "errors"} <= sig.keys()
    assert {"subject", "common_name", "title", "snils", "ogrn", "inn", "iin", "bin", "kz_roles", "email"} <= sig[
        "signer"
    ].keys()
    assert {"serial_hex", "issuer", "not_before", "not_after"} <= sig["certificate"].keys()
    assert sig["signing_time"].endswith("Z")


def test_without_signed_attributes(gost_pki: TestPki, gost_signer: IssuedCertificate) -> None:
    signature = sign_cms(DOC, gost_signer.key, gost_signer.certificate, chain=[gost_pki.ca], signed_attributes=False)
    report = _verifier(gost_pki).verify_cms(signature, DOC)
    assert report.valid
    assert report.signatures[0].signing_time is None and not report.signatures[0].cades_bes
    tampered = _verifier(gost_pki).verify_cms(signature, DOC[:-1] + b"!")
    assert tampered.codes == [C.SIGNATURE_VERIFICATION_ERROR]
    strict = _verifier(gost_pki, require_cades_bes=True).verify_cms(signature, DOC)
    assert not strict.valid and C.WRONG_SIGNATURE_FORMAT in strict.codes


def test_document_time_stands_in_for_signing_time(gost_pki: TestPki, gost_signer: IssuedCertificate) -> None:
    signature = sign_cms(DOC, gost_signer.key, gost_signer.certificate, chain=[gost_pki.ca], signed_attributes=False)
    before = gost_signer.certificate.not_before - timedelta(days=3)
    report = _verifier(gost_pki).verify_cms(signature, DOC, document_time=before)
    sig = report.signatures[0]
    assert sig.signing_time_source == "caller"
    assert C.DOC_DATE_MISMATCH_CERT_NOT_BEFORE in sig.codes
    assert not report.valid


def test_several_signers(
    pki_factory: Callable[[str], TestPki], issued_factory: Callable[[str, str], IssuedCertificate]
) -> None:
    """The chair (GOST 256) and the organisation (GOST 512, another PKI) sign one referral."""
    chair, org = issued_factory("gost2012-256", "vk-chair"), issued_factory("gost2012-512", "mo-org")
    pki256, pki512 = pki_factory("gost2012-256"), pki_factory("gost2012-512")
    signature = sign_cms_multi(
        DOC,
        [SignerSpec(chair.key, chair.certificate, (pki256.ca,)), SignerSpec(org.key, org.certificate, (pki512.ca,))],
    )
    trust = TrustStore([pki256.root, pki512.root])
    report = Verifier(trust).verify_cms(signature, DOC)
    assert report.valid, report.to_json()
    by_serial = {s.certificate.serial_hex: s for s in report.signatures if s.certificate}
    assert by_serial[chair.serial_hex].algorithm == "gost2012-256"
    org_report = by_serial[org.serial_hex]
    assert org_report.algorithm == "gost2012-512"
    assert org_report.signer is not None and org_report.signer.ogrn == org.certificate.identity().ogrn
    single = Verifier(trust, policy=VerifyPolicy(single_signer=True)).verify_cms(signature, DOC)
    assert not single.valid and single.codes == [C.MULTIPLE_SIGNERS]


def test_same_certificate_twice_is_duplication(gost_pki: TestPki, gost_signer: IssuedCertificate) -> None:
    spec = SignerSpec(gost_signer.key, gost_signer.certificate, (gost_pki.ca,))
    report = _verifier(gost_pki).verify_cms(sign_cms_multi(DOC, [spec, spec]), DOC)
    assert not report.valid and C.SIGNATURE_DUPLICATION in report.codes


def _merge(a: bytes, b: bytes) -> bytes:
    """One SignedData holding the SignerInfos of two CMS (each signed over different content)."""
    first, second = cms.ContentInfo.load(a), cms.ContentInfo.load(b)
    sd = first["content"]
    infos = list(sd["signer_infos"]) + list(second["content"]["signer_infos"])
    certs = list(sd["certificates"]) + list(second["content"]["certificates"])
    merged = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": sd["digest_algorithms"],
            "encap_content_info": sd["encap_content_info"],
            "certificates": certs,
            "signer_infos": infos,
        }
    )
    out: bytes = cms.ContentInfo({"content_type": "signed_data", "content": merged}).dump()
    return out


def test_signers_of_different_documents(
    gost_pki: TestPki, issued_factory: Callable[[str, str], IssuedCertificate]
) -> None:
    chair, doctor = issued_factory("gost2012-256", "vk-chair"), issued_factory("gost2012-256", "doctor")
    merged = _merge(
        sign_cms(DOC, chair.key, chair.certificate, chain=[gost_pki.ca]),
        sign_cms(DOC + b"x", doctor.key, doctor.certificate, chain=[gost_pki.ca]),
    )
    report = _verifier(gost_pki).verify_cms(merged, DOC)
    assert C.INCONSISTENT_DIGESTS in [e.code for e in report.errors]
    # a SET OF is sorted when encoded: find each signer by certificate, not by position
    by_serial = {s.certificate.serial_hex: s for s in report.signatures if s.certificate}
    assert by_serial[chair.serial_hex].valid
    assert by_serial[doctor.serial_hex].codes == [C.DIGEST_MISMATCH]
    assert not report.valid


def test_certificates_supplied_separately(gost_pki: TestPki, gost_signer: IssuedCertificate) -> None:
    signature = sign_cms(DOC, gost_signer.key, gost_signer.certificate, embed_certificates=False)
    assert parse_cms(signature).certificates == []
    missing = _verifier(gost_pki).verify_cms(signature, DOC)
    assert missing.codes == [C.NO_END_ENTITY_CERTIFICATE]
    assert missing.signatures[0].integrity == "invalid"
    supplied = _verifier(gost_pki).verify_cms(signature, DOC, certificates=[gost_signer.certificate, gost_pki.ca])
    assert supplied.valid, supplied.to_json()


def test_intermediate_missing_is_an_untrusted_chain(gost_pki: TestPki, gost_signer: IssuedCertificate) -> None:
    signature = sign_cms(DOC, gost_signer.key, gost_signer.certificate)  # no --chain
    report = _verifier(gost_pki).verify_cms(signature, DOC)
    assert report.signatures[0].chain == "untrusted"
    assert report.codes == [C.CANT_BUILD_CERT_CHAIN_TO_ACCREDITED_CA_CERT]


def test_input_encodings(gost_pki: TestPki, gost_signer: IssuedCertificate) -> None:
    der = sign_cms(DOC, gost_signer.key, gost_signer.certificate, chain=[gost_pki.ca])
    pem = sign_cms(DOC, gost_signer.key, gost_signer.certificate, chain=[gost_pki.ca], pem=True)
    assert pem.startswith(b"-----BEGIN CMS-----")
    verifier = _verifier(gost_pki)
    for blob in (der, pem, base64.b64encode(der), base64.encodebytes(der)):
        assert verifier.verify_cms(blob, DOC).valid


def test_ber_indefinite_length_goes_through_the_full_parser(gost_pki: TestPki, gost_signer: IssuedCertificate) -> None:
    """CryptoPro writes BER; the fast DER reader must hand such input to asn1crypto."""
    der = sign_cms(DOC, gost_signer.key, gost_signer.certificate, chain=[gost_pki.ca], attached=True)
    header = 2 + (der[1] & 0x7F if der[1] & 0x80 else 0)
    ber = b"\x30\x80" + der[header:] + b"\x00\x00"
    assert parse_cms(ber).signers == parse_cms(der).signers
    assert _verifier(gost_pki).verify_cms(ber).valid


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_fast_and_full_parsers_agree(
    algorithm: str, pki_factory: Callable[[str], TestPki], issued_factory: Callable[[str, str], IssuedCertificate]
) -> None:
    signer = issued_factory(algorithm, "vk-chair")
    for attached in (False, True):
        der = sign_cms(DOC, signer.key, signer.certificate, chain=[pki_factory(algorithm).ca], attached=attached)
        fast, full = parse_cms(der), parse_cms(der, fast=False)
        assert (fast.signers, fast.content, fast.certificates, fast.econtent_type) == (
            full.signers,
            full.content,
            full.certificates,
            full.econtent_type,
        )


@pytest.mark.parametrize("bits", [256, 512])
def test_openssl_made_vectors(bits: int) -> None:
    cert = load_certificates(load_vector("cms", f"openssl-gost{bits}.pem"))
    verifier = Verifier(TrustStore(cert))
    detached = verifier.verify_cms(
        load_vector("cms", f"openssl-gost{bits}-detached.p7s"), load_vector("cms", "document.txt")
    )
    assert detached.valid and detached.signatures[0].algorithm == f"gost2012-{bits}"
    attached = verifier.verify_cms(load_vector("cms", f"openssl-gost{bits}-attached.p7s"))
    assert attached.valid
    assert not verifier.verify_cms(load_vector("cms", f"openssl-gost{bits}-detached.p7s"), b"other").valid


def test_forced_pure_backend(gost_pki: TestPki, gost_signer: IssuedCertificate) -> None:
    signature = sign_cms(DOC, gost_signer.key, gost_signer.certificate, chain=[gost_pki.ca])
    with gost.use_backend("pure"):
        assert gost.backend_info().name == "pure-python"
        assert _verifier(gost_pki).verify_cms(signature, DOC).valid
        bad = _verifier(gost_pki).verify_cms(signature, DOC.replace(b"\xd0", b"\xd1", 1))
        assert bad.codes == [C.DIGEST_MISMATCH]
        made_pure = sign_cms(DOC, gost_signer.key, gost_signer.certificate, chain=[gost_pki.ca])
    assert _verifier(gost_pki).verify_cms(made_pure, DOC).valid


def test_container_errors(gost_pki: TestPki, gost_signer: IssuedCertificate) -> None:
    verifier = _verifier(gost_pki)
    garbage = verifier.verify_cms(b"\x30\x03\x02\x01")
    assert garbage.codes == [C.SIGNATURE_DECODING_ERROR] and not garbage.valid and garbage.signatures == []
    assert verifier.verify_cms(b"just text, not base64 !!").codes == [C.SIGNATURE_DECODING_ERROR]
    assert verifier.verify_cms(b"<?xml version='1.0'?><a/>").codes == [C.WRONG_SIGNATURE_FORMAT]
    data_info = cms.ContentInfo({"content_type": "data", "content": b"hello"}).dump()
    assert verifier.verify_cms(data_info).codes == [C.WRONG_SIGNATURE_FORMAT]

    detached = sign_cms(DOC, gost_signer.key, gost_signer.certificate, chain=[gost_pki.ca])
    with pytest.raises(MissingContentError):
        verifier.verify_cms(detached)
    attached = sign_cms(DOC, gost_signer.key, gost_signer.certificate, chain=[gost_pki.ca], attached=True)
    assert verifier.verify_cms(attached, DOC).valid
    assert C.DIGEST_MISMATCH in verifier.verify_cms(attached, DOC + b" ").codes

    empty = cms.ContentInfo.load(attached)
    sd = empty["content"]
    no_signers = cms.ContentInfo(
        {
            "content_type": "signed_data",
            "content": cms.SignedData(
                {
                    "version": "v1",
                    "digest_algorithms": sd["digest_algorithms"],
                    "encap_content_info": sd["encap_content_info"],
                    "signer_infos": [],
                }
            ),
        }
    ).dump()
    assert verifier.verify_cms(no_signers).codes == [C.NO_SIGNATURE]


def test_unknown_digest_algorithm(gost_pki: TestPki, gost_signer: IssuedCertificate) -> None:
    signature = sign_cms(DOC, gost_signer.key, gost_signer.certificate, chain=[gost_pki.ca])
    swapped = signature.replace(bytes.fromhex("06082a85030701010202"), bytes.fromhex("06082a85030701010209"))
    assert swapped != signature
    report = _verifier(gost_pki).verify_cms(swapped, DOC)
    assert C.UNKNOWN_ALGORITHM in report.codes and not report.valid


def test_no_trust_configured_means_not_checked(gost_signer: IssuedCertificate, gost_pki: TestPki) -> None:
    signature = sign_cms(DOC, gost_signer.key, gost_signer.certificate, chain=[gost_pki.ca])
    report = Verifier().verify_cms(signature, DOC)
    assert report.signatures[0].integrity == "valid"
    assert report.signatures[0].chain == "not-checked"
    assert not report.valid


def test_check_time_parameter(gost_pki: TestPki, gost_signer: IssuedCertificate) -> None:
    signature = sign_cms(DOC, gost_signer.key, gost_signer.certificate, chain=[gost_pki.ca])
    later = gost_signer.certificate.not_after + timedelta(days=1)
    # CRLs current at the check time (the CA keeps publishing after the certificate expired)
    current = CrlStore(
        crls=[
            Crl(build_crl(issuer=c, issuer_key=k, revoked=[], this_update=later - timedelta(days=1),
                          next_update=later + timedelta(days=30), number=99))
            for c, k in ((gost_pki.ca, gost_pki.ca_key), (gost_pki.root, gost_pki.root_key))
        ]
    )  # fmt: skip
    report = Verifier(gost_pki.trust_dir, current).verify_cms(signature, DOC, check_time=later)
    sig = report.signatures[0]
    assert report.valid  # valid at signing time: a warning, not an error
    assert {w.code for w in sig.warnings} == {C.PERSONAL_SIG_CERT_NOT_ACTUAL_ON_CHECK_DT}
    # with only the PKI's own CRLs (nextUpdate in 30 days) the revocation status at that time is
    # unknown: INDETERMINATE, not a pass
    stale = _verifier(gost_pki).verify_cms(signature, DOC, check_time=later)
    assert not stale.valid and stale.signatures[0].chain == "indeterminate"
    assert C.CA_INACCESSIBILITY in stale.codes
    assert sig.certificate is not None and not sig.certificate.valid_at_check_time
    assert report.checked_at.startswith(later.astimezone(UTC).strftime("%Y-%m-%dT%H:%M"))
    assert datetime.fromisoformat(report.checked_at) == later

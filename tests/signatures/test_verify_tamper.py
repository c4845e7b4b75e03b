"""One changed byte — of the content, of a signed attribute, of the signature — must be caught, with
the right code, for every algorithm and with the pure-Python fallback too."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest
from _sig_helpers import flip

from gateway.signatures import gost
from gateway.signatures.cms import parse_cms
from gateway.signatures.codes import SignatureErrorCode as C
from gateway.signatures.pki import IssuedCertificate, TestPki
from gateway.signatures.sign import sign_cms
from gateway.signatures.verify import Verifier

DOC = b"<ClinicalDocument>referral to MSE, test only</ClinicalDocument>\n" * 20
CASES = [
    ("gost2012-256", "auto"),
    ("gost2012-256", "fallback"),
    ("gost2012-256", "pure"),
    ("gost2012-512", "auto"),
    ("gost2015-kz-512", "auto"),
    ("rsa", "auto"),
    ("ecdsa", "auto"),
]


@contextlib.contextmanager
def _backend(name: str) -> Iterator[None]:
    with gost.use_backend(name):
        yield


@pytest.fixture(params=CASES, ids=[f"{a}-{b}" for a, b in CASES])
def setup(
    request: pytest.FixtureRequest,
    pki_factory: Callable[[str], TestPki],
    issued_factory: Callable[[str, str], IssuedCertificate],
) -> Iterator[tuple[Verifier, IssuedCertificate, TestPki]]:
    algorithm, backend = request.param
    pki = pki_factory(algorithm)
    with _backend(backend):
        yield Verifier(pki.trust_dir, [pki.crl_path]), issued_factory(algorithm, "vk-chair"), pki


def _signing_time_digit(der: bytes) -> int:
    """Index of the last seconds digit of the signingTime UTCTime inside the signed attributes."""
    view = parse_cms(der).signers[0]
    assert view.signed_attrs_der is not None
    attrs_at = der.index(view.signed_attrs_der[1:])
    time_at = der.index(b"\x17\x0d", attrs_at)  # UTCTime, 13 characters: YYMMDDHHMMSSZ
    return time_at + 2 + 11


def test_untouched_is_valid(setup: tuple[Verifier, IssuedCertificate, TestPki]) -> None:
    verifier, signer, pki = setup
    signature = sign_cms(DOC, signer.key, signer.certificate, chain=[pki.ca])
    assert verifier.verify_cms(signature, DOC).valid


def test_one_byte_of_detached_content(setup: tuple[Verifier, IssuedCertificate, TestPki]) -> None:
    verifier, signer, pki = setup
    signature = sign_cms(DOC, signer.key, signer.certificate, chain=[pki.ca])
    report = verifier.verify_cms(signature, flip(DOC, 100))
    assert report.codes == [C.DIGEST_MISMATCH]
    assert report.signatures[0].integrity == "invalid" and not report.valid


def test_one_byte_of_attached_content(setup: tuple[Verifier, IssuedCertificate, TestPki]) -> None:
    verifier, signer, pki = setup
    signature = sign_cms(DOC, signer.key, signer.certificate, chain=[pki.ca], attached=True)
    report = verifier.verify_cms(flip(signature, signature.index(DOC) + 7))
    assert report.codes == [C.DIGEST_MISMATCH]


def test_one_byte_of_a_signed_attribute(setup: tuple[Verifier, IssuedCertificate, TestPki]) -> None:
    verifier, signer, pki = setup
    signature = sign_cms(DOC, signer.key, signer.certificate, chain=[pki.ca])
    tampered = flip(signature, _signing_time_digit(signature))
    assert parse_cms(tampered).signers[0].signing_time != parse_cms(signature).signers[0].signing_time
    report = verifier.verify_cms(tampered, DOC)
    assert report.codes == [C.SIGNATURE_VERIFICATION_ERROR]
    assert report.signatures[0].integrity == "invalid"


def test_one_byte_of_the_message_digest_attribute(setup: tuple[Verifier, IssuedCertificate, TestPki]) -> None:
    verifier, signer, pki = setup
    signature = sign_cms(DOC, signer.key, signer.certificate, chain=[pki.ca])
    digest = parse_cms(signature).signers[0].message_digest
    assert digest is not None
    report = verifier.verify_cms(flip(signature, signature.index(digest) + 3), DOC)
    assert report.codes == [C.DIGEST_MISMATCH]


def test_one_byte_of_the_signature(setup: tuple[Verifier, IssuedCertificate, TestPki]) -> None:
    verifier, signer, pki = setup
    signature = sign_cms(DOC, signer.key, signer.certificate, chain=[pki.ca])
    value = parse_cms(signature).signers[0].signature
    report = verifier.verify_cms(flip(signature, signature.index(value) + len(value) // 2), DOC)
    assert report.codes == [C.SIGNATURE_VERIFICATION_ERROR]
    assert report.signatures[0].chain == "trusted"  # the certificate is fine, the signature is not


def test_signing_certificate_v2_must_name_the_signer(
    setup: tuple[Verifier, IssuedCertificate, TestPki],
    monkeypatch: pytest.MonkeyPatch,
    issued_factory: Callable[[str, str], IssuedCertificate],
) -> None:
    """A validly signed CMS whose ESSCertIDv2 hashes another certificate is rejected."""
    from gateway.signatures import sign as sign_module

    verifier, signer, pki = setup
    other = issued_factory("ecdsa", "doctor").certificate
    original = sign_module._signing_certificate_v2
    monkeypatch.setattr(sign_module, "_signing_certificate_v2", lambda cert, key: original(other, key))
    signature = sign_cms(DOC, signer.key, signer.certificate, chain=[pki.ca])
    report = verifier.verify_cms(signature, DOC)
    assert report.codes == [C.SIGNATURE_VERIFICATION_ERROR]
    assert "signingCertificate" in report.signatures[0].errors[0].detail

"""Certificates and chains: validity at signing time vs check time, revocation (files and HTTP, with
caching), untrusted issuers, key usage, CA constraints."""

from __future__ import annotations

import http.server
import secrets
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest

from gateway.signatures.codes import SignatureErrorCode as C
from gateway.signatures.keys import generate_key
from gateway.signatures.pki import IssuedCertificate, TestPki
from gateway.signatures.pki.builder import build_certificate, build_name
from gateway.signatures.revocation import CrlStore
from gateway.signatures.sign import sign_cms
from gateway.signatures.trust import TrustStore
from gateway.signatures.verify import Verifier, VerifyPolicy

DOC = b"results of MSE, test" * 30
NOW = datetime.now(UTC).replace(microsecond=0)


def _verify(pki: TestPki, signature: bytes, **kwargs: object) -> object:
    return Verifier(pki.trust_dir, [pki.crl_path, pki.root_crl_path]).verify_cms(signature, DOC, **kwargs)  # type: ignore[arg-type]


def test_expired_certificate_at_signing_time(gost_pki: TestPki) -> None:
    old = gost_pki.issue("vk-chair", not_before=NOW - timedelta(days=500), not_after=NOW - timedelta(days=100))
    report = Verifier(gost_pki.trust_dir).verify_cms(sign_cms(DOC, old.key, old.certificate, chain=[gost_pki.ca]), DOC)
    sig = report.signatures[0]
    assert not report.valid
    assert sig.integrity == "valid" and sig.chain == "expired"
    assert sig.codes == [C.DOC_DATE_MISMATCH_CERT_NOT_AFTER]
    assert [w.code for w in sig.warnings] == [C.PERSONAL_SIG_CERT_NOT_ACTUAL_ON_CHECK_DT]
    assert sig.certificate is not None
    assert (sig.certificate.valid_at_signing_time, sig.certificate.valid_at_check_time) == (False, False)


def test_signed_while_valid_checked_after_expiry(gost_pki: TestPki) -> None:
    old = gost_pki.issue("mse-head", not_before=NOW - timedelta(days=500), not_after=NOW - timedelta(days=100))
    signed_at = NOW - timedelta(days=200)
    signature = sign_cms(DOC, old.key, old.certificate, chain=[gost_pki.ca], signing_time=signed_at)
    report = Verifier(gost_pki.trust_dir).verify_cms(signature, DOC)
    sig = report.signatures[0]
    assert report.valid  # REMD's rule for the document date; the check-date problem is reported apart
    assert sig.chain == "trusted"
    assert [w.code for w in sig.warnings] == [C.PERSONAL_SIG_CERT_NOT_ACTUAL_ON_CHECK_DT]
    assert sig.signing_time == signed_at.isoformat().replace("+00:00", "Z")
    strict = Verifier(gost_pki.trust_dir, policy=VerifyPolicy(require_valid_at_check_time=True))
    assert strict.verify_cms(signature, DOC).codes == [C.PERSONAL_SIG_CERT_NOT_ACTUAL_ON_CHECK_DT]


def test_not_yet_valid_certificate(gost_pki: TestPki) -> None:
    future = gost_pki.issue("vk-chair", not_before=NOW + timedelta(days=10))
    report = Verifier(gost_pki.trust_dir).verify_cms(
        sign_cms(DOC, future.key, future.certificate, chain=[gost_pki.ca]), DOC
    )
    sig = report.signatures[0]
    assert sig.chain == "expired"
    assert sig.codes == [C.DOC_DATE_MISMATCH_CERT_NOT_BEFORE]
    assert not report.valid


def test_revoked_certificate(fresh_pki: TestPki) -> None:
    signer = fresh_pki.issue("vk-chair")
    signature = sign_cms(DOC, signer.key, signer.certificate, chain=[fresh_pki.ca])
    store = CrlStore([fresh_pki.crl_path, fresh_pki.root_crl_path], file_check_interval=0)
    verifier = Verifier(fresh_pki.trust_dir, store)
    assert verifier.verify_cms(signature, DOC).valid
    fresh_pki.revoke(signer.serial_hex, reason="key_compromise")
    report = verifier.verify_cms(signature, DOC)  # the same verifier picks up the rewritten CRL file
    sig = report.signatures[0]
    assert not report.valid
    assert (sig.integrity, sig.chain, sig.revocation) == ("valid", "revoked", "revoked")
    assert sig.revoked_at is not None
    assert sig.codes == [C.CERT_REVOKED]
    entry = report.to_dict()["signatures"][0]["errors"][0]
    assert entry["remd_code"] == "PERSONAL_SIG_CERT_NOT_ACTUAL_ON_CHECK_DT"
    assert entry["message"] == "Сертификат ЭП отозван удостоверяющим центром"


def test_revoked_issuing_ca(fresh_pki: TestPki) -> None:
    signer = fresh_pki.issue("mse-official")
    signature = sign_cms(DOC, signer.key, signer.certificate, chain=[fresh_pki.ca])
    fresh_pki.revoke(fresh_pki.ca.serial_hex)
    report = _verify(fresh_pki, signature)
    sig = report.signatures[0]  # type: ignore[attr-defined]
    assert sig.chain == "revoked" and sig.revocation == "good"  # the signer itself is not revoked
    assert sig.codes == [C.CERT_REVOKED]
    assert "CA certificate" in sig.errors[0].detail


def test_untrusted_issuer(
    gost_signer: IssuedCertificate, gost_pki: TestPki, pki_factory: Callable[[str], TestPki]
) -> None:
    other = pki_factory("gost2012-512")
    signature = sign_cms(DOC, gost_signer.key, gost_signer.certificate, chain=[gost_pki.ca])
    report = Verifier(other.trust_dir).verify_cms(signature, DOC)
    assert report.signatures[0].chain == "untrusted"
    assert report.codes == [C.CANT_BUILD_CERT_CHAIN_TO_ACCREDITED_CA_CERT]


def test_intermediate_as_trust_anchor(gost_signer: IssuedCertificate, gost_pki: TestPki) -> None:
    """Russia's accredited-CA list is a list of issuing CAs: an intermediate can be the anchor."""
    report = Verifier(TrustStore([gost_pki.ca])).verify_cms(
        sign_cms(DOC, gost_signer.key, gost_signer.certificate), DOC
    )
    assert report.valid
    assert report.signatures[0].chain_certificates == [
        {"serial_hex": gost_pki.ca.serial_hex, "subject": gost_pki.ca.subject,
         "not_after": gost_pki.ca.not_after.isoformat().replace("+00:00", "Z")}
    ]  # fmt: skip


def _custom_leaf(pki: TestPki, *, key_usage: tuple[str, ...], issuer_is_leaf: IssuedCertificate | None = None):  # type: ignore[no-untyped-def]
    key = generate_key(pki.algorithm)
    issuer_cert = pki.ca if issuer_is_leaf is None else issuer_is_leaf.certificate
    issuer_key = pki.ca_key if issuer_is_leaf is None else issuer_is_leaf.key
    cert = build_certificate(
        subject=build_name([("2.5.4.6", "RU"), ("2.5.4.3", "Тест ключа")]),
        subject_key=key.public,
        issuer_key=issuer_key,
        issuer=issuer_cert,
        serial=secrets.randbits(100),
        not_before=NOW - timedelta(days=1),
        not_after=NOW + timedelta(days=30),
        key_usage=key_usage,
    )
    return key, cert


def test_key_usage_without_signing_bits(gost_pki: TestPki) -> None:
    key, cert = _custom_leaf(gost_pki, key_usage=("key_encipherment",))
    report = Verifier(gost_pki.trust_dir).verify_cms(sign_cms(DOC, key, cert, chain=[gost_pki.ca]), DOC)
    assert report.signatures[0].integrity == "valid"
    assert report.codes == [C.INVALID_CERT_KEY_USAGE]
    assert not report.valid


def test_end_entity_cannot_issue(gost_pki: TestPki, gost_signer: IssuedCertificate) -> None:
    key, cert = _custom_leaf(gost_pki, key_usage=("digital_signature",), issuer_is_leaf=gost_signer)
    signature = sign_cms(DOC, key, cert, chain=[gost_signer.certificate, gost_pki.ca])
    report = Verifier(gost_pki.trust_dir).verify_cms(signature, DOC)
    assert report.signatures[0].chain == "untrusted"
    assert C.CANT_BUILD_CERT_CHAIN_TO_ACCREDITED_CA_CERT in report.codes
    assert any("not a CA" in e.detail for e in report.signatures[0].errors)


def test_require_revocation_without_crl(gost_pki: TestPki, gost_signer: IssuedCertificate) -> None:
    signature = sign_cms(DOC, gost_signer.key, gost_signer.certificate, chain=[gost_pki.ca])
    policy = VerifyPolicy(require_revocation=True)
    report = Verifier(gost_pki.trust_dir, policy=policy).verify_cms(signature, DOC)
    assert report.codes == [C.CA_INACCESSIBILITY] and not report.valid
    with_crl = Verifier(gost_pki.trust_dir, [gost_pki.crl_path, gost_pki.root_crl_path], policy=policy)
    assert with_crl.verify_cms(signature, DOC).valid


class _CountingHandler(http.server.SimpleHTTPRequestHandler):
    hits: list[str]

    def do_GET(self) -> None:
        self.hits.append(self.path)
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:  # quiet test output
        return


@pytest.fixture
def crl_server(fresh_pki: TestPki) -> Iterator[tuple[str, list[str]]]:
    hits: list[str] = []
    handler = type("Handler", (_CountingHandler,), {"hits": hits})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(fresh_pki.directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


def test_crl_over_http_is_cached(fresh_pki: TestPki, crl_server: tuple[str, list[str]]) -> None:
    base, hits = crl_server
    signer = fresh_pki.issue("vk-chair")
    signature = sign_cms(DOC, signer.key, signer.certificate, chain=[fresh_pki.ca])
    verifier = Verifier(fresh_pki.trust_dir, [f"{base}/crl/ca.crl", f"{base}/crl/root.crl"])
    for _ in range(5):
        report = verifier.verify_cms(signature, DOC)
        assert report.valid and report.signatures[0].revocation == "good"
    assert sorted(hits) == ["/crl/ca.crl", "/crl/root.crl"]  # fetched once, not per verification

    fresh_pki.revoke(signer.serial_hex)
    eager = CrlStore([f"{base}/crl/ca.crl", f"{base}/crl/root.crl"], refresh_interval=0, file_check_interval=0)
    assert Verifier(fresh_pki.trust_dir, eager).verify_cms(signature, DOC).codes == [C.CERT_REVOKED]


def test_unreachable_crl_is_ca_inaccessibility(
    gost_pki: TestPki, gost_signer: IssuedCertificate, tmp_path: Path
) -> None:
    signature = sign_cms(DOC, gost_signer.key, gost_signer.certificate, chain=[gost_pki.ca])
    store = CrlStore(["http://127.0.0.1:9/ca.crl"], url_timeout=2)
    assert "http://127.0.0.1:9/ca.crl" in store.errors
    report = Verifier(gost_pki.trust_dir, store).verify_cms(signature, DOC)
    assert report.signatures[0].revocation == "unavailable"
    assert set(report.codes) == {C.CA_INACCESSIBILITY} and not report.valid  # for the signer and the CA
    missing_file = CrlStore([tmp_path / "absent.crl"])
    assert set(Verifier(gost_pki.trust_dir, missing_file).verify_cms(signature, DOC).codes) == {C.CA_INACCESSIBILITY}


def test_trust_directory_reload(tmp_path: Path, gost_pki: TestPki, gost_signer: IssuedCertificate) -> None:
    trust = tmp_path / "trust"
    trust.mkdir()
    signature = sign_cms(DOC, gost_signer.key, gost_signer.certificate, chain=[gost_pki.ca])
    verifier = Verifier(trust, reload_interval=0)
    assert verifier.verify_cms(signature, DOC).signatures[0].chain == "not-checked"
    (trust / "root.pem").write_bytes(gost_pki.root.der)
    assert verifier.verify_cms(signature, DOC).valid


def test_a_crl_past_next_update_makes_the_verdict_indeterminate(fresh_pki: TestPki) -> None:
    """Issue 14 finding 8: a CRL that could not be refreshed past its nextUpdate was a warning and
    the signature passed; a revocation published since would have been missed."""
    signer = fresh_pki.issue("vk-chair")
    signature = sign_cms(DOC, signer.key, signer.certificate, chain=[fresh_pki.ca])
    sources = [fresh_pki.crl_path, fresh_pki.root_crl_path]
    fresh_pki.write_crls(now=datetime.now(UTC) - timedelta(days=40))  # nextUpdate 10 days ago
    store = CrlStore(sources)
    report = Verifier(fresh_pki.trust_dir, store).verify_cms(signature, DOC)
    sig = report.signatures[0]
    assert not report.valid
    assert sig.chain == "indeterminate" and sig.revocation == "good"  # not listed, but not current either
    assert C.CA_INACCESSIBILITY in report.codes
    assert any("past its nextUpdate" in e.detail for e in sig.errors)
    assert set(store.stale(datetime.now(UTC))) == {str(p) for p in sources}
    # the CA publishes a current CRL: the file store picks it up and the signature is valid again
    fresh_pki.write_crls()
    store.refresh(force=True)
    assert Verifier(fresh_pki.trust_dir, store).verify_cms(signature, DOC).valid
    assert store.stale(datetime.now(UTC)) == {}


def test_a_crl_url_that_fails_to_refresh_is_indeterminate(
    fresh_pki: TestPki, crl_server: tuple[str, list[str]]
) -> None:
    base, _ = crl_server
    signer = fresh_pki.issue("vk-chair")
    signature = sign_cms(DOC, signer.key, signer.certificate, chain=[fresh_pki.ca])
    fresh_pki.write_crls(now=datetime.now(UTC) - timedelta(days=40))
    urls = [f"{base}/crl/ca.crl", f"{base}/crl/root.crl"]
    store = CrlStore(urls, retry_interval=0, file_check_interval=0)
    fresh_pki.crl_path.unlink()  # the distribution point stops answering
    fresh_pki.root_crl_path.unlink()
    report = Verifier(fresh_pki.trust_dir, store).verify_cms(signature, DOC)
    assert report.signatures[0].chain == "indeterminate" and not report.valid
    stale = store.stale(datetime.now(UTC))
    assert set(stale) == set(urls) and all("refresh failed" in why for why in stale.values())

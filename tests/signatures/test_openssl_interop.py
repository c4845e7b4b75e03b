"""Interoperability with OpenSSL + the GOST engine, both ways.

* project -> OpenSSL: certificates, CRLs, PKCS#8 GOST keys and CMS made by the project are accepted by
  ``openssl verify`` / ``openssl cms -verify -engine gost``;
* OpenSSL -> project: CMS made by ``openssl cms -sign -engine gost`` (with the project's keys and with
  OpenSSL's own) verify in the project, with both backends.

Needs the Debian ``libengine-gost-openssl`` engine; skipped with a visible reason where it is missing
(CI installs it).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from _sig_helpers import openssl_gost_available

from gateway.signatures import gost
from gateway.signatures.certificates import load_certificates
from gateway.signatures.codes import SignatureErrorCode as C
from gateway.signatures.keys import parse_public_key
from gateway.signatures.pki import IssuedCertificate, TestPki
from gateway.signatures.sign import sign_cms
from gateway.signatures.trust import TrustStore
from gateway.signatures.verify import Verifier

pytestmark = pytest.mark.skipif(
    not openssl_gost_available(), reason="openssl with the GOST engine (libengine-gost-openssl) is not installed"
)

RU_GOST = ["gost2012-256", "gost2012-512"]
DOC = "Сведения о результатах проведенной МСЭ (тест)\n".encode() * 100


def _openssl(*args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True, check=check, timeout=60)


@pytest.mark.parametrize("attached", [False, True], ids=["detached", "attached"])
@pytest.mark.parametrize("algorithm", RU_GOST)
def test_openssl_verifies_project_cms(
    algorithm: str,
    attached: bool,
    tmp_path: Path,
    pki_factory: Callable[[str], TestPki],
    issued_factory: Callable[[str, str], IssuedCertificate],
) -> None:
    pki, signer = pki_factory(algorithm), issued_factory(algorithm, "vk-chair")
    (tmp_path / "doc.bin").write_bytes(DOC)
    signature = tmp_path / "doc.p7s"
    signature.write_bytes(sign_cms(DOC, signer.key, signer.certificate, chain=[pki.ca], attached=attached))
    args: list[str | Path] = ["cms", "-verify", "-engine", "gost", "-binary", "-inform", "DER", "-in", signature,
            "-CAfile", pki.root_crl_path.parent.parent / "root.pem", "-out", tmp_path / "out.bin"]  # fmt: skip
    if not attached:
        args += ["-content", tmp_path / "doc.bin"]
    result = _openssl(*args, check=False)
    assert result.returncode == 0, result.stderr
    assert "Verification successful" in result.stderr
    assert (tmp_path / "out.bin").read_bytes() == DOC

    (tmp_path / "doc.bin").write_bytes(DOC[:-1] + b"?")
    if not attached:
        assert _openssl(*args, check=False).returncode != 0


@pytest.mark.parametrize("algorithm", RU_GOST)
def test_openssl_checks_project_chain_and_crl(algorithm: str, tmp_path: Path) -> None:
    pki = TestPki.init(tmp_path / "pki", algorithm)
    good, bad = pki.issue("mse-head"), pki.issue("mse-official")
    pki.revoke(bad.serial_hex)
    crls = tmp_path / "crls.pem"
    crls.write_bytes(
        b"".join(_openssl("crl", "-inform", "DER", "-in", p).stdout.encode() for p in (pki.crl_path, pki.root_crl_path))
    )
    base: list[str | Path] = ["verify", "-engine", "gost", "-CAfile", pki.directory / "root.pem",
                              "-untrusted", pki.chain_path, "-crl_check_all", "-CRLfile", crls]  # fmt: skip
    ok = _openssl(*base, good.cert_path, check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    revoked = _openssl(*base, bad.cert_path, check=False)
    assert revoked.returncode != 0 and "revoked" in (revoked.stdout + revoked.stderr)


@pytest.mark.parametrize("algorithm", RU_GOST)
def test_openssl_reads_project_gost_keys(
    algorithm: str, tmp_path: Path, issued_factory: Callable[[str, str], IssuedCertificate]
) -> None:
    signer = issued_factory(algorithm, "vk-chair")
    result = _openssl("pkey", "-engine", "gost", "-in", signer.key_path, "-pubout", "-outform", "DER",
                      "-out", tmp_path / "pub.der", check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    # OpenSSL names the digest in 512-bit key parameters too, so compare the key, not the DER
    theirs = parse_public_key((tmp_path / "pub.der").read_bytes())
    ours = signer.certificate.public_key
    assert (theirs.gost_point, theirs.gost_curve, theirs.algorithm_oid) == (
        ours.gost_point,
        ours.gost_curve,
        ours.algorithm_oid,
    )


@pytest.mark.parametrize("backend", ["auto", "fallback", "pure"])
@pytest.mark.parametrize("algorithm", RU_GOST)
def test_project_verifies_openssl_cms_made_with_project_keys(
    algorithm: str,
    backend: str,
    tmp_path: Path,
    pki_factory: Callable[[str], TestPki],
    issued_factory: Callable[[str, str], IssuedCertificate],
) -> None:
    pki, signer = pki_factory(algorithm), issued_factory(algorithm, "mse-head")
    (tmp_path / "doc.bin").write_bytes(DOC)
    md = "md_gost12_256" if algorithm.endswith("256") else "md_gost12_512"
    _openssl("cms", "-sign", "-engine", "gost", "-binary", "-in", tmp_path / "doc.bin", "-signer", signer.cert_path,
             "-inkey", signer.key_path, "-certfile", pki.chain_path, "-md", md, "-outform", "DER",
             "-out", tmp_path / "doc.p7s")  # fmt: skip
    signature = (tmp_path / "doc.p7s").read_bytes()
    with gost.use_backend(backend):
        report = Verifier(pki.trust_dir, [pki.crl_path, pki.root_crl_path]).verify_cms(signature, DOC)
        assert report.valid, report.to_json()
        assert report.signatures[0].algorithm == algorithm
        assert report.signatures[0].signer is not None
        assert report.signatures[0].signer.title == "Руководитель бюро медико-социальной экспертизы"
        tampered = Verifier(pki.trust_dir).verify_cms(signature, DOC[:-1] + b"!")
        assert tampered.codes == [C.DIGEST_MISMATCH]


@pytest.mark.parametrize(("algorithm", "paramset", "md"), [("gost2012_256", "A", "md_gost12_256"),
                                                           ("gost2012_256", "B", "md_gost12_256"),
                                                           ("gost2012_512", "C", "md_gost12_512")])  # fmt: skip
def test_project_verifies_cms_entirely_made_by_openssl(algorithm: str, paramset: str, md: str, tmp_path: Path) -> None:
    key, cert = tmp_path / "k.pem", tmp_path / "c.pem"
    _openssl("genpkey", "-engine", "gost", "-algorithm", algorithm, "-pkeyopt", f"paramset:{paramset}", "-out", key)
    _openssl("req", "-engine", "gost", "-x509", "-new", "-key", key, "-days", "30", "-subj", "/CN=OpenSSL signer",
             "-out", cert)  # fmt: skip
    (tmp_path / "doc.bin").write_bytes(DOC)
    _openssl("cms", "-sign", "-engine", "gost", "-binary", "-nodetach", "-in", tmp_path / "doc.bin", "-signer", cert,
             "-inkey", key, "-md", md, "-outform", "DER", "-out", tmp_path / "doc.p7s")  # fmt: skip
    report = Verifier(TrustStore(load_certificates(cert.read_bytes()))).verify_cms((tmp_path / "doc.p7s").read_bytes())
    assert report.valid, report.to_json()

"""Sign with one backend, verify with another: whole CAdES-BES containers across the OpenSSL
engine, the fallback (libgcrypt Streebog + pure-Python GOST R 34.10) and pure Python."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gateway.signatures import gost
from gateway.signatures.pki import IssuedCertificate, TestPki
from gateway.signatures.sign import sign_cms
from gateway.signatures.verify import Verifier

BACKENDS = ["openssl", "fallback", "pure"]
DOC = "Направление на медико-социальную экспертизу, 50 KB: ".encode() * 1000


@pytest.mark.parametrize("algorithm", ["gost2012-256", "gost2012-512"])
def test_sign_with_one_backend_verify_with_every_other(
    require_openssl: None,
    require_gcrypt: None,
    algorithm: str,
    pki_factory: Callable[[str], TestPki],
    issued_factory: Callable[[str, str], IssuedCertificate],
) -> None:
    pki, signer = pki_factory(algorithm), issued_factory(algorithm, "vk-chair")
    made = {}
    for name in BACKENDS:
        with gost.use_backend(name):
            made[name] = sign_cms(DOC, signer.key, signer.certificate, chain=[pki.ca])
    for signed_by, signature in made.items():
        for name in BACKENDS:
            with gost.use_backend(name):
                # A fresh verifier each time: no cached chain verdict from another backend.
                verifier = Verifier(pki.trust_dir, [pki.crl_path, pki.root_crl_path])
                report = verifier.verify_cms(signature, DOC)
                assert report.valid, (signed_by, name, report.to_json())
                assert report.signatures[0].algorithm == algorithm
                tampered = verifier.verify_cms(signature, DOC[:-1] + b"!")
                assert not tampered.valid, (signed_by, name)

"""Signed material made by others verifies with our byte conventions, on both backends.

* TK26 and draft-deremin-rfc4491-bis example certificates, requests and CRLs;
* keys, certificates, CMS and raw signatures made by the OpenSSL GOST engine for every parameter
  set (tests/vectors/gost/make_openssl_vectors.sh);
* real Kazakh NCA test material (GOST 34.10-2015, r || s little-endian).
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from _gost_vectors import (
    VECTORS,
    cert_public_key,
    csr_public_key,
    load_json,
    load_vector,
    pkcs8_private_key,
    split_signed,
)
from asn1crypto import cms
from lxml import etree

from gateway.signatures.gost import (
    TEST_CURVES,
    Curve,
    InvalidSignature,
    curve_by_oid,
    kz_signature_to_ru,
    new_streebog,
    public_key_from_private,
    verify_digest,
)
from gateway.wire.safexml import parse_xml

TK26_KEYS = load_json("tk26/keys.json")
TK26_NAMES = sorted(k for k in TK26_KEYS if not k.startswith("_"))
OPENSSL_SETS = sorted(p.name for p in (VECTORS / "openssl").iterdir() if p.is_dir())
_TEST_BY_OID = {c.oids[0]: c for c in TEST_CURVES.values()}


def _curve(oid: str) -> Curve:
    return _TEST_BY_OID.get(oid) or curve_by_oid(oid)


def _digest(curve: Curve, data: bytes) -> bytes:
    return new_streebog(curve.size * 8, data).digest()


def _check_signed(curve: Curve, public: bytes, der: bytes) -> None:
    tbs, signature = split_signed(der)
    verify_digest(curve, public, _digest(curve, tbs), signature)
    tampered = bytearray(tbs)
    tampered[len(tampered) // 2] ^= 0x01
    with pytest.raises(InvalidSignature):
        verify_digest(curve, public, _digest(curve, bytes(tampered)), signature)


@pytest.mark.parametrize("name", TK26_NAMES)
def test_tk26_and_rfc_examples(gost_backend: str, name: str) -> None:
    meta = TK26_KEYS[name]
    cert = load_vector(f"tk26/{name}.cert.pem")
    curve_oid, public = cert_public_key(cert)
    assert curve_oid == meta["curve"]
    curve = _curve(curve_oid)
    assert curve.size * 8 == meta["bits"]
    assert public_key_from_private(curve, int(meta["private_key"], 16)) == public
    _check_signed(curve, public, cert)  # all examples are self-signed
    for kind in ("csr", "crl"):
        path = VECTORS / "tk26" / f"{name}.{kind}.pem"
        if path.exists():
            der = load_vector(f"tk26/{name}.{kind}.pem")
            if kind == "csr":
                assert csr_public_key(der) == (curve_oid, public)
            _check_signed(curve, public, der)


@pytest.mark.parametrize("paramset", OPENSSL_SETS)
def test_openssl_engine_material(gost_backend: str, paramset: str) -> None:
    folder = f"openssl/{paramset}"
    key_oid, private = pkcs8_private_key(load_vector(f"{folder}/key.pem"))
    cert = load_vector(f"{folder}/cert.pem")
    curve_oid, public = cert_public_key(cert)
    assert key_oid == curve_oid
    curve = curve_by_oid(curve_oid)
    assert curve.size * 8 == int(paramset.split("-")[0])
    # The engine's key pair agrees with our curve constants and key byte order.
    assert public_key_from_private(curve, private) == public

    content = load_vector("openssl/content.txt")
    digest = load_vector(f"{folder}/digest.bin")
    assert _digest(curve, content) == digest
    verify_digest(curve, public, digest, load_vector(f"{folder}/raw.sig"))

    _check_signed(curve, public, cert)

    signed = cms.ContentInfo.load(load_vector(f"{folder}/cms.p7s"))["content"]
    signer = signed["signer_infos"][0]
    attrs = signer["signed_attrs"]
    by_type = {attr["type"].native: attr["values"][0].native for attr in attrs}
    assert by_type["message_digest"] == digest
    der_attrs = b"\x31" + attrs.dump()[1:]  # signed over as SET OF, not [0] IMPLICIT
    signature = signer["signature"].native
    verify_digest(curve, public, _digest(curve, der_attrs), signature)
    with pytest.raises(InvalidSignature):
        verify_digest(curve, public, _digest(curve, der_attrs[:-1] + b"\x00"), signature)


def _nca_ca_key() -> tuple[Curve, bytes]:
    oid, public = cert_public_key(load_vector("nca/nca_gost2015_test.cer"))
    return curve_by_oid(oid), public


def test_nca_crl_signed_by_gost_ca(gost_backend: str) -> None:
    curve, ca_public = _nca_ca_key()
    assert curve.name == "id-tc26-gost-3410-12-512-paramSetA"
    tbs, kz_signature = split_signed(load_vector("nca/nca_gost2022_test.crl"))
    digest = _digest(curve, tbs)
    verify_digest(curve, ca_public, digest, kz_signature_to_ru(kz_signature))
    with pytest.raises(InvalidSignature):  # the Kazakh layout itself is not the Russian one
        verify_digest(curve, ca_public, digest, kz_signature)


def test_nca_xades_signature_and_signer_certificate(gost_backend: str) -> None:
    ds = {"ds": "http://www.w3.org/2000/09/xmldsig#"}
    root = parse_xml((VECTORS / "nca" / "xades-test-signed-b.xml").read_bytes())
    signed_info = root.find(".//ds:SignedInfo", ds)
    assert signed_info is not None
    canonical = etree.tostring(signed_info, method="c14n", exclusive=True)
    signature = base64.b64decode(root.findtext(".//ds:SignatureValue", namespaces=ds) or "")
    cert = base64.b64decode(root.findtext(".//ds:X509Certificate", namespaces=ds) or "")
    oid, public = cert_public_key(cert)
    curve = curve_by_oid(oid)
    assert oid == "1.2.398.3.10.1.1.2.2.1"
    verify_digest(curve, public, _digest(curve, canonical), kz_signature_to_ru(signature))
    with pytest.raises(InvalidSignature):
        verify_digest(curve, public, _digest(curve, canonical.replace(b"ref0", b"ref1")), kz_signature_to_ru(signature))
    # The signer's certificate was issued by the NCA GOST test CA.
    ca_curve, ca_public = _nca_ca_key()
    tbs, kz_cert_signature = split_signed(cert)
    verify_digest(ca_curve, ca_public, _digest(ca_curve, tbs), kz_signature_to_ru(kz_cert_signature))


def test_vector_inventory() -> None:
    """Fail loudly if the generated vectors go missing rather than silently testing nothing."""
    assert len(OPENSSL_SETS) == 12
    assert len(TK26_NAMES) == 5
    assert all((VECTORS / "openssl" / s / "cms.p7s").is_file() for s in OPENSSL_SETS)
    assert Path(VECTORS / "README.md").is_file()

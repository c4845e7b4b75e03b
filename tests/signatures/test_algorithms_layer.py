"""The algorithm layer: OIDs -> digests and verify/sign for RSA, PSS, ECDSA, GOST (RU and KZ order)."""

from __future__ import annotations

import json
import os

import pytest
from _sig_helpers import VECTORS
from asn1crypto import algos
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils

from gateway.signatures import algorithms, gost, oids
from gateway.signatures.errors import InvalidSignature, UnsupportedAlgorithm
from gateway.signatures.keys import generate_key, load_private_key, parse_public_key


def test_streebog_standard_examples_through_digest_table() -> None:
    """GOST R 34.11-2012 appendix A examples M1/M2, reached by OID as CMS code reaches them."""
    data = json.loads((VECTORS / "gost" / "streebog.json").read_text(encoding="utf-8"))
    checked = 0
    for example in data["vectors"]:
        message = bytes.fromhex(example["message_hex"])
        for bits, oid_ru, oid_kz in (
            (256, oids.GOST_DIGEST_256, oids.KZ_DIGEST_256),
            (512, oids.GOST_DIGEST_512, oids.KZ_DIGEST_512),
        ):
            # the standard prints the hash code most significant byte first: memory order is reversed
            expected = bytes.fromhex(example["as_printed"][f"h{bits}"])[::-1]
            assert algorithms.digest_by_oid(oid_ru).hash(message) == expected
            assert algorithms.digest_by_oid(oid_kz).hash(message) == expected
            checked += 1
    assert checked >= 4


@pytest.mark.parametrize("algorithm", ["gost2012-256", "gost2012-512", "gost2015-kz-512", "rsa", "ecdsa"])
def test_sign_verify_roundtrip_and_tamper(algorithm: str) -> None:
    key = generate_key(algorithm)
    scheme = algorithms.default_signature_algorithm(key.public)
    digest = scheme.digest.hash(b"document")
    signature = algorithms.sign_digest(key, scheme, digest)
    algorithms.verify_digest(key.public, scheme, digest, signature)
    bad = bytearray(signature)
    bad[len(bad) // 2] ^= 0x01
    with pytest.raises(InvalidSignature):
        algorithms.verify_digest(key.public, scheme, digest, bytes(bad))
    with pytest.raises(InvalidSignature):
        algorithms.verify_digest(key.public, scheme, scheme.digest.hash(b"other"), signature)


def test_kazakh_signature_is_the_byte_reversal_of_the_russian_one() -> None:
    key = generate_key("gost2015-kz-512")
    kz = algorithms.default_signature_algorithm(key.public)
    assert kz.kazakh and kz.name == "gost2015-512"
    digest = kz.digest.hash(b"form 031/u")
    ru_signature = gost.sign_digest(key.public.gost_curve, key.gost_scalar, digest)  # type: ignore[arg-type]
    algorithms.verify_digest(key.public, kz, digest, ru_signature[::-1])
    with pytest.raises(InvalidSignature):
        algorithms.verify_digest(key.public, kz, digest, ru_signature)


@pytest.mark.parametrize("sig_oid", [oids.GOST_SIG_256, oids.GOST_KEY_256])
def test_gost_resolution_by_combined_or_key_oid(sig_oid: str) -> None:
    key = generate_key("gost2012-256").public
    scheme = algorithms.resolve_signature_algorithm(sig_oid, None, key, oids.GOST_DIGEST_256)
    assert scheme.name == "gost2012-256" and not scheme.kazakh


def test_wrong_digest_size_for_gost_key_is_unknown_algorithm() -> None:
    key = generate_key("gost2012-256").public
    with pytest.raises(UnsupportedAlgorithm):
        algorithms.resolve_signature_algorithm(oids.GOST_KEY_256, None, key, oids.GOST_DIGEST_512)


def test_signature_algorithm_must_fit_the_key() -> None:
    rsa_key = generate_key("rsa").public
    with pytest.raises(UnsupportedAlgorithm):
        algorithms.resolve_signature_algorithm(oids.GOST_SIG_256, None, rsa_key)
    with pytest.raises(UnsupportedAlgorithm):
        algorithms.resolve_signature_algorithm("1.2.840.10045.4.3.2", None, rsa_key)


def test_unknown_oids() -> None:
    key = generate_key("ecdsa").public
    with pytest.raises(UnsupportedAlgorithm):
        algorithms.resolve_signature_algorithm("1.2.3.4", None, key)
    with pytest.raises(UnsupportedAlgorithm):
        algorithms.digest_by_oid("1.2.840.113549.2.5")  # MD5


def test_combined_oid_disagreeing_with_cms_digest() -> None:
    key = generate_key("rsa").public
    with pytest.raises(UnsupportedAlgorithm):
        algorithms.resolve_signature_algorithm("1.2.840.113549.1.1.11", None, key, "2.16.840.1.101.3.4.2.3")


def test_rsa_pss_with_parameters() -> None:
    key = generate_key("rsa")
    params = algos.RSASSAPSSParams(
        {
            "hash_algorithm": {"algorithm": "sha384"},
            "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": {"algorithm": "sha384"}},
            "salt_length": 48,
        }
    ).dump()
    scheme = algorithms.resolve_signature_algorithm("1.2.840.113549.1.1.10", params, key.public)
    assert scheme.name == "rsa-pss-sha384"
    digest = scheme.digest.hash(b"pss")
    assert isinstance(key.crypto, rsa.RSAPrivateKey)
    signature = key.crypto.sign(
        digest,
        padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48),
        utils.Prehashed(hashes.SHA384()),
    )
    algorithms.verify_digest(key.public, scheme, digest, signature)
    with pytest.raises(InvalidSignature):
        algorithms.verify_digest(key.public, scheme, digest, signature[:-1] + bytes([signature[-1] ^ 1]))


@pytest.mark.parametrize("algorithm", ["gost2012-256", "gost2012-512", "gost2015-kz-512", "rsa", "ecdsa"])
def test_pkcs8_roundtrip(algorithm: str) -> None:
    key = generate_key(algorithm)
    again = load_private_key(key.to_pem())
    assert again.public.spki == key.public.spki
    assert load_private_key(key.to_pkcs8_der()).public.spki == key.public.spki


def test_gost_pkcs8_layout_is_the_openssl_engine_one() -> None:
    """privateKey = OCTET STRING { OCTET STRING (scalar, little-endian) }, algorithm as in the SPKI."""
    from asn1crypto import core

    from gateway.signatures._asn1 import RawPrivateKeyInfo

    key = generate_key("gost2012-256")
    info = RawPrivateKeyInfo.load(key.to_pkcs8_der())
    assert info["private_key_algorithm"]["algorithm"].dotted == oids.GOST_KEY_256
    inner = core.OctetString.load(info["private_key"].native).native
    assert len(inner) == 32
    assert int.from_bytes(inner, "little") == key.gost_scalar


def test_gost_private_key_as_big_endian_integer_is_accepted() -> None:
    from asn1crypto import core

    from gateway.signatures._asn1 import RawPrivateKeyInfo

    key = generate_key("gost2012-256")
    info = RawPrivateKeyInfo.load(key.to_pkcs8_der())
    variant = RawPrivateKeyInfo(
        {
            "version": 0,
            "private_key_algorithm": info["private_key_algorithm"].copy(),
            "private_key": core.Integer(key.gost_scalar).dump(),
        }
    )
    assert load_private_key(variant.dump()).gost_scalar == key.gost_scalar


def test_public_key_parse_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        parse_public_key(os.urandom(40))

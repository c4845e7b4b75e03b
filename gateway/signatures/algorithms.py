"""The one algorithm layer: OIDs -> digest functions and signature verify/sign functions.

Everything that checks a signature (CMS signer infos, certificate chains, CRLs) and everything that
makes one (CMS signing, the test PKI) goes through here, so GOST-signed certificates are checked by
the same code as GOST-signed documents.

RSA (PKCS#1 v1.5 and PSS) and ECDSA go to ``cryptography``; GOST R 34.10-2012 (Russian TK26 and
Kazakh NCA encodings) to ``gateway.signatures.gost``. Verification works on a digest computed once by
the caller (``DigestAlgorithm.hash``), so large content is never hashed twice. Failures raise
``InvalidSignature`` (pyca style) or ``UnsupportedAlgorithm``; nothing here builds a report.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from asn1crypto import algos
from cryptography import exceptions as crypto_exceptions
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

from gateway.signatures import gost as _gost
from gateway.signatures import oids
from gateway.signatures.errors import InvalidSignature, UnsupportedAlgorithm
from gateway.signatures.gost.gost341194 import gost341194 as gost34311
from gateway.signatures.keys import KeyKind, PrivateKey, PublicKey

__all__ = [
    "DIGESTS",
    "DigestAlgorithm",
    "SignatureAlgorithm",
    "default_signature_algorithm",
    "digest_by_name",
    "digest_by_oid",
    "resolve_signature_algorithm",
    "sign_digest",
    "verify_digest",
]


@dataclass(frozen=True, slots=True)
class DigestAlgorithm:
    """A hash function with its canonical OID. ``crypto`` is the ``cryptography`` twin (None for Streebog)."""

    name: str
    oid: str
    size: int
    hash: Callable[[bytes], bytes]
    crypto: Callable[[], hashes.HashAlgorithm] | None = None


def _hashlib(name: str) -> Callable[[bytes], bytes]:
    def run(data: bytes) -> bytes:
        return hashlib.new(name, data).digest()

    return run


def _streebog256(data: bytes) -> bytes:
    # Looked up at call time so that ``gost.use_backend`` switches take effect.
    return _gost.streebog256(data)


def _streebog512(data: bytes) -> bytes:
    return _gost.streebog512(data)


_SHA1 = DigestAlgorithm("sha1", "1.3.14.3.2.26", 20, _hashlib("sha1"), hashes.SHA1)
_SHA224 = DigestAlgorithm("sha224", "2.16.840.1.101.3.4.2.4", 28, _hashlib("sha224"), hashes.SHA224)
_SHA256 = DigestAlgorithm("sha256", "2.16.840.1.101.3.4.2.1", 32, _hashlib("sha256"), hashes.SHA256)
_SHA384 = DigestAlgorithm("sha384", "2.16.840.1.101.3.4.2.2", 48, _hashlib("sha384"), hashes.SHA384)
_SHA512 = DigestAlgorithm("sha512", "2.16.840.1.101.3.4.2.3", 64, _hashlib("sha512"), hashes.SHA512)
_STREEBOG256 = DigestAlgorithm("streebog256", oids.GOST_DIGEST_256, 32, _streebog256)
_STREEBOG512 = DigestAlgorithm("streebog512", oids.GOST_DIGEST_512, 64, _streebog512)

# The Kazakh OIDs name the same Streebog functions; kept as separate entries so that what we write
# for a Kazakh key carries the Kazakh OID, as NCA's own software does.
_KZ_STREEBOG256 = DigestAlgorithm("streebog256", oids.KZ_DIGEST_256, 32, _streebog256)
_KZ_STREEBOG512 = DigestAlgorithm("streebog512", oids.KZ_DIGEST_512, 64, _streebog512)
# The Kazakh legacy hash (GOST R 34.11-94 with the test S-box), for verifying GOST 34.310-2004.
_GOST34311 = DigestAlgorithm("gost34311-95", oids.KZ_DIGEST_GOST34311, 32, gost34311)

DIGESTS: Final[dict[str, DigestAlgorithm]] = {
    d.oid: d
    for d in (
        _SHA1,
        _SHA224,
        _SHA256,
        _SHA384,
        _SHA512,
        _STREEBOG256,
        _STREEBOG512,
        _KZ_STREEBOG256,
        _KZ_STREEBOG512,
        _GOST34311,
    )
}
# by name: the canonical (international / TK26) entry
_BY_NAME: Final = {
    d.name: d for d in (_SHA1, _SHA224, _SHA256, _SHA384, _SHA512, _STREEBOG256, _STREEBOG512, _GOST34311)
}


def digest_by_oid(oid: str) -> DigestAlgorithm:
    try:
        return DIGESTS[oid]
    except KeyError:
        raise UnsupportedAlgorithm(oid, "unsupported digest algorithm") from None


def digest_by_name(name: str) -> DigestAlgorithm:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnsupportedAlgorithm(name, "unsupported digest algorithm") from None


@dataclass(frozen=True, slots=True)
class SignatureAlgorithm:
    """A resolved signature scheme.

    ``name`` is what reports show (``gost2012-256``, ``rsa-sha256``…). ``x509_oid`` is the combined
    OID certificates and CRLs use, ``cms_oid`` what our CMS SignerInfo writes (the key OID for
    GOST, as OpenSSL and CryptoPro do). ``kazakh`` selects the NCA signature byte order.
    """

    name: str
    family: str  # "rsa" | "rsa-pss" | "ecdsa" | "gost"
    digest: DigestAlgorithm
    x509_oid: str
    cms_oid: str
    kazakh: bool = False
    pss_salt_length: int | None = None
    pss_mgf_digest: DigestAlgorithm | None = None


_RSA_KEY = "1.2.840.113549.1.1.1"
_RSA_PSS = "1.2.840.113549.1.1.10"
_EC_KEY = "1.2.840.10045.2.1"

# Signature OIDs that name their digest: oid -> (family, digest name)
_COMBINED: Final[dict[str, tuple[str, str]]] = {
    "1.2.840.113549.1.1.5": ("rsa", "sha1"),
    "1.2.840.113549.1.1.14": ("rsa", "sha224"),
    "1.2.840.113549.1.1.11": ("rsa", "sha256"),
    "1.2.840.113549.1.1.12": ("rsa", "sha384"),
    "1.2.840.113549.1.1.13": ("rsa", "sha512"),
    "1.2.840.10045.4.1": ("ecdsa", "sha1"),
    "1.2.840.10045.4.3.1": ("ecdsa", "sha224"),
    "1.2.840.10045.4.3.2": ("ecdsa", "sha256"),
    "1.2.840.10045.4.3.3": ("ecdsa", "sha384"),
    "1.2.840.10045.4.3.4": ("ecdsa", "sha512"),
    oids.GOST_SIG_256: ("gost", "streebog256"),
    oids.GOST_SIG_512: ("gost", "streebog512"),
    oids.KZ_SIG_256: ("gost", "streebog256"),
    oids.KZ_SIG_512: ("gost", "streebog512"),
    oids.KZ_SIG_GOST2004: ("gost", "gost34311-95"),
}
# OIDs of a key type used as a signature algorithm (CMS allows it): the digest comes from the
# SignerInfo's digestAlgorithm.
_KEY_ONLY: Final[dict[str, str]] = {
    _RSA_KEY: "rsa",
    _EC_KEY: "ecdsa",
    oids.GOST_KEY_256: "gost",
    oids.GOST_KEY_512: "gost",
    oids.KZ_KEY_GOST2015: "gost",
}
_KZ_SIGNATURE_OIDS: Final = frozenset({oids.KZ_SIG_256, oids.KZ_SIG_512})
_FAMILY_KEY: Final = {"rsa": KeyKind.RSA, "rsa-pss": KeyKind.RSA, "ecdsa": KeyKind.EC, "gost": KeyKind.GOST}
_RSA_X509: Final = {v[1]: k for k, v in _COMBINED.items() if v[0] == "rsa"}
_ECDSA_X509: Final = {v[1]: k for k, v in _COMBINED.items() if v[0] == "ecdsa"}


def resolve_signature_algorithm(
    sig_oid: str,
    sig_params_der: bytes | None,
    key: PublicKey,
    digest_oid: str | None = None,
) -> SignatureAlgorithm:
    """Turn (signature OID, its parameters, the signer's key, CMS digest OID) into a scheme.

    Raises UnsupportedAlgorithm for unknown OIDs, a key of the wrong type, or a digest that does not
    go with the signature algorithm (e.g. Streebog-512 with a 256-bit GOST key).
    """
    pss_salt: int | None = None
    pss_mgf: DigestAlgorithm | None = None
    if sig_oid == _RSA_PSS:
        family = "rsa-pss"
        digest, pss_mgf, pss_salt = _pss_parameters(sig_params_der)
        if digest_oid is not None and digest_by_oid(digest_oid).name != digest.name:
            raise UnsupportedAlgorithm(sig_oid, "RSASSA-PSS hash differs from the digest algorithm")
    elif sig_oid in _COMBINED:
        family, digest_name = _COMBINED[sig_oid]
        digest = digest_by_name(digest_name)
        if digest_oid is not None and digest_by_oid(digest_oid).name != digest_name:
            raise UnsupportedAlgorithm(sig_oid, "signature algorithm and digest algorithm disagree")
    elif sig_oid in _KEY_ONLY:
        family = _KEY_ONLY[sig_oid]
        if digest_oid is None:
            raise UnsupportedAlgorithm(sig_oid, "signature algorithm names no digest")
        digest = digest_by_oid(digest_oid)
    else:
        raise UnsupportedAlgorithm(sig_oid, "unsupported signature algorithm")

    if key.kind is not _FAMILY_KEY[family]:
        raise UnsupportedAlgorithm(sig_oid, f"signature algorithm does not fit a {key.kind} key")

    if family == "gost" and key.algorithm_oid == oids.KZ_KEY_GOST2004:
        # the legacy scheme: verification only, and only with its own hash
        if digest.name != _GOST34311.name:
            raise UnsupportedAlgorithm(sig_oid, f"{digest.name} with a GOST 34.310-2004 key")
        return LEGACY_KZ_GOST2004
    if family == "gost":
        if digest.name != f"streebog{key.bits}":
            raise UnsupportedAlgorithm(sig_oid, f"{digest.name} with a {key.bits}-bit GOST key")
        kazakh = sig_oid in _KZ_SIGNATURE_OIDS or (sig_oid in _KEY_ONLY and key.kazakh)
        return _gost_algorithm(key.bits, kazakh)
    if family == "rsa":
        return SignatureAlgorithm(f"rsa-{digest.name}", family, digest, _RSA_X509[digest.name], _RSA_KEY)
    if family == "rsa-pss":
        return SignatureAlgorithm(
            f"rsa-pss-{digest.name}", family, digest, _RSA_PSS, _RSA_PSS, False, pss_salt, pss_mgf
        )
    oid = _ECDSA_X509[digest.name]
    return SignatureAlgorithm(f"ecdsa-{digest.name}", family, digest, oid, oid)


LEGACY_KZ_GOST2004: Final = SignatureAlgorithm(
    "gost34310-2004", "gost", _GOST34311, oids.KZ_SIG_GOST2004, oids.KZ_KEY_GOST2004, kazakh=True
)


def _gost_algorithm(bits: int, kazakh: bool) -> SignatureAlgorithm:
    digest = digest_by_name(f"streebog{bits}")
    if kazakh:
        oid = oids.KZ_SIG_512 if bits == 512 else oids.KZ_SIG_256
        kz_digest = _KZ_STREEBOG512 if bits == 512 else _KZ_STREEBOG256
        return SignatureAlgorithm(f"gost2015-{bits}", "gost", kz_digest, oid, oid, kazakh=True)
    x509_oid = oids.GOST_SIG_512 if bits == 512 else oids.GOST_SIG_256
    cms_oid = oids.GOST_KEY_512 if bits == 512 else oids.GOST_KEY_256
    return SignatureAlgorithm(f"gost2012-{bits}", "gost", digest, x509_oid, cms_oid)


def _pss_parameters(der: bytes | None) -> tuple[DigestAlgorithm, DigestAlgorithm, int]:
    if der is None:
        return _SHA1, _SHA1, 20  # RFC 4055 defaults
    try:
        params = algos.RSASSAPSSParams.load(der)
        digest = digest_by_oid(params["hash_algorithm"]["algorithm"].dotted)
        mgf = params["mask_gen_algorithm"]
        if mgf["algorithm"].dotted != "1.2.840.113549.1.1.8":
            raise UnsupportedAlgorithm(mgf["algorithm"].dotted, "unsupported PSS mask generation function")
        mgf_digest = digest_by_oid(mgf["parameters"]["algorithm"].dotted)
        salt: int = params["salt_length"].native
    except (ValueError, TypeError, KeyError) as exc:
        raise UnsupportedAlgorithm(_RSA_PSS, f"unreadable RSASSA-PSS parameters: {exc}") from exc
    return digest, mgf_digest, salt


def default_signature_algorithm(key: PublicKey) -> SignatureAlgorithm:
    """The scheme we sign with for a key: SHA-256 for RSA/EC, Streebog of the key size for GOST."""
    if key.algorithm_oid == oids.KZ_KEY_GOST2004:
        raise UnsupportedAlgorithm(key.algorithm_oid, "GOST 34.310-2004 keys are verified, never used to sign")
    if key.kind is KeyKind.GOST:
        return _gost_algorithm(key.bits, key.kazakh)
    if key.kind is KeyKind.RSA:
        return SignatureAlgorithm("rsa-sha256", "rsa", _SHA256, _RSA_X509["sha256"], _RSA_KEY)
    oid = _ECDSA_X509["sha256"]
    return SignatureAlgorithm("ecdsa-sha256", "ecdsa", _SHA256, oid, oid)


def _crypto_hash(digest: DigestAlgorithm) -> hashes.HashAlgorithm:
    if digest.crypto is None:
        raise UnsupportedAlgorithm(digest.oid, f"{digest.name} cannot be used with RSA/ECDSA")
    return digest.crypto()


def verify_digest(key: PublicKey, algorithm: SignatureAlgorithm, digest: bytes, signature: bytes) -> None:
    """Check ``signature`` over the already computed ``digest``. Returns None or raises InvalidSignature."""
    if len(digest) != algorithm.digest.size:
        raise InvalidSignature("digest has the wrong length for the algorithm")
    if algorithm.family == "gost":
        assert key.gost_curve is not None and key.gost_point is not None
        if len(signature) != key.bits // 4:
            raise InvalidSignature("GOST signature has the wrong length")
        ru_signature = _gost.kz_signature_to_ru(signature) if algorithm.kazakh else signature
        _gost.verify_digest(key.gost_curve, key.gost_point, digest, ru_signature)
        return
    prehashed = utils.Prehashed(_crypto_hash(algorithm.digest))
    try:
        if algorithm.family == "rsa":
            assert isinstance(key.crypto, rsa.RSAPublicKey)
            key.crypto.verify(signature, digest, padding.PKCS1v15(), prehashed)
        elif algorithm.family == "rsa-pss":
            assert isinstance(key.crypto, rsa.RSAPublicKey)
            assert algorithm.pss_mgf_digest is not None and algorithm.pss_salt_length is not None
            pss = padding.PSS(
                mgf=padding.MGF1(_crypto_hash(algorithm.pss_mgf_digest)),
                salt_length=algorithm.pss_salt_length,
            )
            key.crypto.verify(signature, digest, pss, prehashed)
        else:
            assert isinstance(key.crypto, ec.EllipticCurvePublicKey)
            key.crypto.verify(signature, digest, ec.ECDSA(prehashed))
    except crypto_exceptions.InvalidSignature:
        raise InvalidSignature("signature does not verify") from None


def sign_digest(key: PrivateKey, algorithm: SignatureAlgorithm, digest: bytes) -> bytes:
    """Sign an already computed digest with ``algorithm`` (encoding as the verifier expects it)."""
    if algorithm.family == "gost":
        assert key.gost_scalar is not None and key.public.gost_curve is not None
        ru = _gost.sign_digest(key.public.gost_curve, key.gost_scalar, digest)
        return _gost.ru_signature_to_kz(ru) if algorithm.kazakh else ru
    prehashed = utils.Prehashed(_crypto_hash(algorithm.digest))
    if algorithm.family in ("rsa", "rsa-pss"):
        assert isinstance(key.crypto, rsa.RSAPrivateKey)
        if algorithm.family == "rsa":
            return key.crypto.sign(digest, padding.PKCS1v15(), prehashed)
        pss = padding.PSS(mgf=padding.MGF1(_crypto_hash(algorithm.digest)), salt_length=algorithm.digest.size)
        return key.crypto.sign(digest, pss, prehashed)
    assert isinstance(key.crypto, ec.EllipticCurvePrivateKey)
    return key.crypto.sign(digest, ec.ECDSA(prehashed))

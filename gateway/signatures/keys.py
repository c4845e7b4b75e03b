"""Public and private keys of every family the gateway handles (RSA, ECDSA, GOST R 34.10-2012).

RSA and EC keys are handed to ``cryptography``. GOST keys are parsed by hand (asn1crypto cannot, see
``_asn1``) into a curve and raw bytes in the layout the GOST primitives expect.

GOST private keys are stored as PKCS#8 ``PrivateKeyInfo`` exactly as the OpenSSL GOST engine writes
them: algorithm = the public-key OID with the same parameters as in the certificate, privateKey =
an OCTET STRING wrapping an OCTET STRING that holds the scalar **little-endian** (32 or 64 bytes).
Reading also accepts the INTEGER (big-endian) variant some tools write.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass

from asn1crypto import core
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from gateway.signatures import gost as _gost
from gateway.signatures import oids
from gateway.signatures._asn1 import (
    GostKeyParameters,
    RawPrivateKeyInfo,
    RawPublicKeyInfo,
    der_to_pem,
    pem_blocks,
)
from gateway.signatures.errors import UnsupportedAlgorithm

__all__ = [
    "GOST_KEY_OIDS",
    "KeyKind",
    "PrivateKey",
    "PublicKey",
    "generate_key",
    "load_private_key",
    "parse_public_key",
]

RSA_KEY_OID = "1.2.840.113549.1.1.1"
EC_KEY_OID = "1.2.840.10045.2.1"
GOST_KEY_OIDS = frozenset({oids.GOST_KEY_256, oids.GOST_KEY_512, oids.KZ_KEY_GOST2015, oids.KZ_KEY_GOST2004})

# Key algorithm names accepted by ``generate_key`` (and the test PKI's --algorithm).
KEY_ALGORITHMS = ("gost2012-256", "gost2012-512", "gost2015-kz-512", "rsa", "ecdsa")


class KeyKind(enum.StrEnum):
    RSA = "rsa"
    EC = "ec"
    GOST = "gost"


@dataclass(frozen=True, slots=True, eq=False)
class PublicKey:
    """A parsed SubjectPublicKeyInfo.

    ``gost_point`` is x||y with each half little-endian, as the certificate carries it and as
    ``gost.verify_digest`` takes it. ``kazakh`` marks NCA keys, whose signatures use the Kazakh byte
    order. ``bits`` is the key size (modulus, curve or GOST size).
    """

    kind: KeyKind
    algorithm_oid: str
    spki: bytes
    bits: int
    crypto: rsa.RSAPublicKey | ec.EllipticCurvePublicKey | None = None
    gost_curve: _gost.Curve | None = None
    gost_curve_oid: str | None = None
    gost_digest_oid: str | None = None
    gost_point: bytes | None = None
    kazakh: bool = False


@dataclass(frozen=True, slots=True, eq=False)
class PrivateKey:
    """A private key together with its public half. Never logged, never put in a report."""

    kind: KeyKind
    public: PublicKey
    crypto: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None = None
    gost_scalar: int | None = None

    def to_pkcs8_der(self) -> bytes:
        """Unencrypted PKCS#8 DER (the test PKI's format; see module docstring for GOST)."""
        if self.crypto is not None:
            return self.crypto.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        assert self.gost_scalar is not None
        size = self.public.bits // 8
        inner = core.OctetString(self.gost_scalar.to_bytes(size, "little")).dump()
        alg = RawPublicKeyInfo.load(self.public.spki)["algorithm"]
        info = RawPrivateKeyInfo(
            {
                "version": 0,
                "private_key_algorithm": alg.copy(),
                "private_key": inner,
            }
        )
        der: bytes = info.dump()
        return der

    def to_pem(self) -> bytes:
        return der_to_pem(self.to_pkcs8_der(), "PRIVATE KEY")


def _resolve_curve(curve_oid: str) -> _gost.Curve:
    for candidate in (curve_oid, oids.CURVE_ALIASES.get(curve_oid)):
        if candidate is None:
            continue
        try:
            return _gost.curve_by_oid(candidate)
        except (KeyError, LookupError, ValueError):
            continue
    raise UnsupportedAlgorithm(curve_oid, "unknown GOST curve")


@functools.lru_cache(maxsize=512)
def parse_public_key(spki_der: bytes) -> PublicKey:
    """Parse a DER SubjectPublicKeyInfo. Cached: the same certificate key is parsed once per process.

    Raises UnsupportedAlgorithm for key types we cannot verify with, ValueError when malformed.
    """
    try:
        info = RawPublicKeyInfo.load(spki_der)
        alg_oid: str = info["algorithm"]["algorithm"].dotted
        key_bits: bytes = info["public_key"].native
    except (ValueError, TypeError) as exc:
        raise ValueError(f"malformed SubjectPublicKeyInfo: {exc}") from exc

    if alg_oid in (RSA_KEY_OID, EC_KEY_OID):
        try:
            key = serialization.load_der_public_key(spki_der)
        except (ValueError, TypeError) as exc:  # explicit EC parameters, odd curves
            raise UnsupportedAlgorithm(alg_oid, f"key not supported: {exc}") from exc
        if isinstance(key, rsa.RSAPublicKey):
            return PublicKey(KeyKind.RSA, alg_oid, spki_der, key.key_size, crypto=key)
        if isinstance(key, ec.EllipticCurvePublicKey):
            return PublicKey(KeyKind.EC, alg_oid, spki_der, key.curve.key_size, crypto=key)
        raise UnsupportedAlgorithm(alg_oid)

    if alg_oid in GOST_KEY_OIDS:
        params_any = info["algorithm"]["parameters"]
        if isinstance(params_any, core.Void):
            raise ValueError("GOST public key without parameters")
        try:
            params = GostKeyParameters.load(params_any.dump())
            curve_oid: str = params["public_key_param_set"].dotted
            digest = params["digest_param_set"]
            digest_oid = None if isinstance(digest, core.Void) else digest.dotted
            point: bytes = core.OctetString.load(key_bits).native
        except (ValueError, TypeError) as exc:
            raise ValueError(f"malformed GOST public key: {exc}") from exc
        if len(point) not in (64, 128):
            raise ValueError(f"GOST public key of {len(point)} bytes")
        bits = len(point) * 4
        if (alg_oid in (oids.GOST_KEY_256, oids.KZ_KEY_GOST2004) and bits != 256) or (
            alg_oid == oids.GOST_KEY_512 and bits != 512
        ):
            raise ValueError("GOST key size does not match its algorithm OID")
        return PublicKey(
            KeyKind.GOST,
            alg_oid,
            spki_der,
            bits,
            gost_curve=_resolve_curve(curve_oid),
            gost_curve_oid=curve_oid,
            gost_digest_oid=digest_oid,
            gost_point=point,
            kazakh=alg_oid in (oids.KZ_KEY_GOST2015, oids.KZ_KEY_GOST2004),
        )
    raise UnsupportedAlgorithm(alg_oid, "unsupported public key algorithm")


def gost_spki(key_oid: str, curve_oid: str, digest_oid: str | None, point: bytes) -> bytes:
    """DER SubjectPublicKeyInfo of a GOST key (point is x||y, halves little-endian)."""
    params: dict[str, str] = {"public_key_param_set": curve_oid}
    if digest_oid is not None:
        params["digest_param_set"] = digest_oid
    info = RawPublicKeyInfo(
        {
            "algorithm": {
                "algorithm": key_oid,
                "parameters": core.Any.load(GostKeyParameters(params).dump()),
            },
            "public_key": core.OctetString(point).dump(),
        }
    )
    der: bytes = info.dump()
    return der


# Parameters a freshly generated GOST key gets: (key OID, curve OID, digest OID in params).
# 256-bit keys name the digest in their parameters (RFC 4491), 512-bit keys do not (TK26).
_GOST_PROFILES: dict[str, tuple[str, str, str | None]] = {
    "gost2012-256": (oids.GOST_KEY_256, oids.CRYPTOPRO_CURVE_A, oids.GOST_DIGEST_256),
    "gost2012-512": (oids.GOST_KEY_512, oids.TC26_CURVE_512_A, None),
    "gost2015-kz-512": (oids.KZ_KEY_GOST2015, oids.KZ_GOST_CURVE_512_A, oids.KZ_DIGEST_512),
}


def _gost_private(key_oid: str, curve_oid: str, digest_oid: str | None, scalar: int) -> PrivateKey:
    curve = _resolve_curve(curve_oid)
    point = _gost.public_key_from_private(curve, scalar)
    public = parse_public_key(gost_spki(key_oid, curve_oid, digest_oid, point))
    return PrivateKey(KeyKind.GOST, public, gost_scalar=scalar)


def generate_key(algorithm: str) -> PrivateKey:
    """A fresh key: ``gost2012-256``, ``gost2012-512``, ``gost2015-kz-512``, ``rsa`` (2048) or ``ecdsa`` (P-256)."""
    if algorithm in _GOST_PROFILES:
        key_oid, curve_oid, digest_oid = _GOST_PROFILES[algorithm]
        scalar = _gost.generate_private_key(_resolve_curve(curve_oid))
        return _gost_private(key_oid, curve_oid, digest_oid, scalar)
    crypto: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    if algorithm == "rsa":
        crypto = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif algorithm == "ecdsa":
        crypto = ec.generate_private_key(ec.SECP256R1())
    else:
        raise UnsupportedAlgorithm(algorithm, "unknown key algorithm")
    return _from_crypto(crypto)


def _from_crypto(crypto: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> PrivateKey:
    spki = crypto.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    public = parse_public_key(spki)
    return PrivateKey(public.kind, public, crypto=crypto)


def load_private_key(data: bytes, password: bytes | None = None) -> PrivateKey:
    """Load a PKCS#8 private key (PEM or DER). RSA/EC keys may also be PKCS#1/SEC1 or encrypted.

    Raises ValueError when the data is not a key we can read.
    """
    der = data
    blocks = pem_blocks(data)
    if blocks:
        label, der = blocks[0]
        if label != "PRIVATE KEY":
            return _load_with_cryptography(data, password)
    try:
        info = RawPrivateKeyInfo.load(der)
        alg_oid: str = info["private_key_algorithm"]["algorithm"].dotted
    except (ValueError, TypeError):
        return _load_with_cryptography(data, password)
    if alg_oid not in GOST_KEY_OIDS:
        return _load_with_cryptography(data, password)

    params_any = info["private_key_algorithm"]["parameters"]
    if isinstance(params_any, core.Void):
        raise ValueError("GOST private key without parameters")
    params = GostKeyParameters.load(params_any.dump())
    curve_oid: str = params["public_key_param_set"].dotted
    digest = params["digest_param_set"]
    digest_oid = None if isinstance(digest, core.Void) else digest.dotted
    raw: bytes = info["private_key"].native
    scalar = _decode_gost_scalar(raw)
    return _gost_private(alg_oid, curve_oid, digest_oid, scalar)


def _decode_gost_scalar(raw: bytes) -> int:
    if raw[:1] == b"\x04":
        value: bytes = core.OctetString.load(raw).native
        return int.from_bytes(value, "little")
    if raw[:1] == b"\x02":
        integer: int = core.Integer.load(raw).native
        return integer
    # Some writers put the bare little-endian scalar in the outer OCTET STRING.
    if len(raw) in (32, 64):
        return int.from_bytes(raw, "little")
    raise ValueError("unrecognised GOST private key encoding")


def _load_with_cryptography(data: bytes, password: bytes | None) -> PrivateKey:
    try:
        if b"-----BEGIN" in data:
            key = serialization.load_pem_private_key(data, password=password)
        else:
            key = serialization.load_der_private_key(data, password=password)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a private key we can read: {exc}") from exc
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError(f"unsupported private key type {type(key).__name__}")
    return _from_crypto(key)

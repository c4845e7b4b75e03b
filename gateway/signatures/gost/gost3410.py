"""GOST R 34.10-2012 signatures on digests, with the Russian byte conventions.

* public key: ``x || y``, each half little-endian (the content of the OCTET STRING inside the
  certificate's subjectPublicKey, RFC 9215 / RFC 4491);
* digest: the Streebog output bytes, read as a little-endian integer (TK26);
* signature: ``s || r``, each half big-endian (the CMS / XMLDSig signature value).

Input checks (lengths, point on curve, ``0 < r, s < q``) run here, before either backend, so both
reject malformed input the same way.
"""

from __future__ import annotations

import secrets

from gateway.signatures.gost._ec import base_mult, sign_ints, verify_ints
from gateway.signatures.gost.backend import active_openssl
from gateway.signatures.gost.curves import Curve, is_on_curve
from gateway.signatures.gost.errors import InvalidSignature

__all__ = ["generate_private_key", "public_key_from_private", "sign_digest", "verify_digest"]


def _check_digest(curve: Curve, digest: bytes) -> None:
    if len(digest) != curve.size:
        raise ValueError(
            f"{curve.name} signs {curve.size}-byte digests (Streebog-{curve.size * 8}), got {len(digest)} bytes"
        )


def _reduce_private(curve: Curve, private_key: int) -> int:
    """The key mod q. Keys of the right size but >= q occur in published material (the
    RFC 9215 examples on tc26 256 A, whose q is about 2^254) and act as their residue."""
    if not 0 < private_key < 1 << (8 * curve.size) or private_key % curve.q == 0:
        raise ValueError(f"private key out of range for {curve.name} (need 0 < d mod q, d < 2^{8 * curve.size})")
    return private_key % curve.q


def verify_digest(curve: Curve, public_key: bytes, digest: bytes, signature: bytes) -> None:
    """Return if ``signature`` is a valid signature of ``digest`` under ``public_key``; otherwise
    raise :class:`InvalidSignature` (also for a malformed signature or a key off the curve).

    A digest of the wrong length is a caller bug and raises ``ValueError``.
    """
    _check_digest(curve, digest)
    size = curve.size
    if len(public_key) != 2 * size:
        raise InvalidSignature(f"{curve.name} public key must be {2 * size} bytes, got {len(public_key)}")
    if len(signature) != 2 * size:
        raise InvalidSignature(f"{curve.name} signature must be {2 * size} bytes, got {len(signature)}")
    x = int.from_bytes(public_key[:size], "little")
    y = int.from_bytes(public_key[size:], "little")
    if not is_on_curve(curve, x, y):
        raise InvalidSignature(f"public key is not a point of {curve.name}")
    s = int.from_bytes(signature[:size], "big")
    r = int.from_bytes(signature[size:], "big")
    if not (0 < r < curve.q and 0 < s < curve.q):
        raise InvalidSignature("signature value out of range (r and s must be in [1, q-1])")
    backend = active_openssl()
    if backend is not None and backend.supports(curve):
        ok = backend.verify(curve, bytes(public_key), bytes(digest), bytes(signature))
    else:
        ok = verify_ints(curve, x, y, int.from_bytes(digest, "little"), r, s)
    if not ok:
        raise InvalidSignature("signature does not match the digest and public key")


def sign_digest(curve: Curve, private_key: int, digest: bytes, *, k: int | None = None) -> bytes:
    """Sign ``digest``; return ``s || r`` big-endian.

    Without ``k`` the nonce is random (OpenSSL's generator, or ``secrets``). A given ``k`` (for
    known-answer tests) always uses the pure-Python code, since OpenSSL cannot take one; a ``k``
    for which r or s would be 0 raises ``ValueError``. The private key is used mod q (see
    :func:`public_key_from_private`).
    """
    _check_digest(curve, digest)
    private_key = _reduce_private(curve, private_key)
    size = curve.size
    e = int.from_bytes(digest, "little")
    if k is not None:
        if not 0 < k < curve.q:
            raise ValueError(f"nonce k out of range [1, q-1] for {curve.name}")
        rs = sign_ints(curve, private_key, e, k)
        if rs is None:
            raise ValueError("this nonce gives r = 0 or s = 0; choose another")
        r, s = rs
        return s.to_bytes(size, "big") + r.to_bytes(size, "big")
    backend = active_openssl()
    if backend is not None and backend.supports(curve):
        return backend.sign(curve, private_key, bytes(digest))
    while True:
        rs = sign_ints(curve, private_key, e, secrets.randbelow(curve.q - 1) + 1)
        if rs is not None:
            r, s = rs
            return s.to_bytes(size, "big") + r.to_bytes(size, "big")


def public_key_from_private(curve: Curve, private_key: int) -> bytes:
    """Return the public key ``x || y`` (little-endian halves) of ``private_key``.

    Any key of the curve's size that is not a multiple of q is accepted and used mod q.
    """
    point = base_mult(curve, _reduce_private(curve, private_key))
    if point is None:  # impossible for 0 < d < q and a base point of prime order q
        raise ArithmeticError(f"{curve.name}: d*P is the point at infinity")
    x, y = point
    return x.to_bytes(curve.size, "little") + y.to_bytes(curve.size, "little")


def generate_private_key(curve: Curve) -> int:
    """A uniformly random private key in [1, q-1] from ``secrets``."""
    return secrets.randbelow(curve.q - 1) + 1

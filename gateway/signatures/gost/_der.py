"""The two DER structures the OpenSSL engine needs from us: a GOST public key and private key.

They are fixed-shape, so a few lines of hand-written DER are clearer (and faster per call) than a
general ASN.1 library. Layouts follow RFC 9215 (public key: the BIT STRING wraps an OCTET STRING
holding ``x || y``, each little-endian) and RFC 9337 / the engine's own output (private key: the
PrivateKeyInfo's OCTET STRING holds the key little-endian).
"""

from __future__ import annotations

from typing import Final

from gateway.signatures.gost.curves import Curve

__all__ = ["algorithm_identifier", "pkcs8_private_key", "subject_public_key_info"]

GOST_KEY_256: Final = "1.2.643.7.1.1.1.1"
GOST_KEY_512: Final = "1.2.643.7.1.1.1.2"
GOST_DIGEST_256: Final = "1.2.643.7.1.1.2.2"
GOST_DIGEST_512: Final = "1.2.643.7.1.1.2.3"

# Parameter sets for which the digestParamSet field is written. The engine writes it for these
# and omits it for the tc26 sets introduced with the 2012 standard (RFC 9215 section 3); it
# reads either form, but producing what it produces keeps the probe faithful.
_WITH_DIGEST_PARAM: Final = frozenset(
    {
        "1.2.643.2.2.35.1",
        "1.2.643.2.2.35.2",
        "1.2.643.2.2.35.3",
        "1.2.643.2.2.36.0",
        "1.2.643.2.2.36.1",
        "1.2.643.2.2.35.0",
        "1.2.643.7.1.2.1.2.1",
        "1.2.643.7.1.2.1.2.2",
    }
)


def _tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        head = bytes((tag, n))
    else:
        size = n.to_bytes((n.bit_length() + 7) // 8, "big")
        head = bytes((tag, 0x80 | len(size))) + size
    return head + content


def _oid(dotted: str) -> bytes:
    arcs = [int(part) for part in dotted.split(".")]
    body = bytearray((40 * arcs[0] + arcs[1],))
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return _tlv(0x06, bytes(body))


def algorithm_identifier(curve: Curve) -> bytes:
    """AlgorithmIdentifier of a GOST R 34.10-2012 key on this curve (preferred OID)."""
    curve_oid = curve.oids[0]
    params = _oid(curve_oid)
    if curve_oid in _WITH_DIGEST_PARAM:
        params += _oid(GOST_DIGEST_256 if curve.size == 32 else GOST_DIGEST_512)
    key_oid = GOST_KEY_256 if curve.size == 32 else GOST_KEY_512
    return _tlv(0x30, _oid(key_oid) + _tlv(0x30, params))


def subject_public_key_info(curve: Curve, public_key: bytes) -> bytes:
    """SubjectPublicKeyInfo for ``public_key`` = x || y, each half little-endian."""
    prefix = _spki_prefixes.get(curve)
    if prefix is None or len(public_key) != 2 * curve.size:
        bits = b"\x00" + _tlv(0x04, public_key)
        der = _tlv(0x30, algorithm_identifier(curve) + _tlv(0x03, bits))
        if len(public_key) == 2 * curve.size:
            # Everything before the key bytes depends only on the curve: reuse it (hot path).
            _spki_prefixes[curve] = der[: -len(public_key)]
        return der
    return prefix + public_key


_spki_prefixes: dict[Curve, bytes] = {}


def pkcs8_private_key(curve: Curve, private_key: int) -> bytes:
    """PrivateKeyInfo holding the key little-endian.

    (Python cannot reliably wipe key material - the key is already an immutable int - so no
    pretence is made here; real signing keys do not live in this process.)
    """
    raw = private_key.to_bytes(curve.size, "little")
    return _tlv(0x30, b"\x02\x01\x00" + algorithm_identifier(curve) + _tlv(0x04, raw))

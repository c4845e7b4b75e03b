"""GOST primitives: Streebog (GOST R 34.11-2012) and GOST R 34.10-2012 signatures.

Fast path: the system OpenSSL 3 with the GOST engine and provider (``libengine-gost-openssl``).
Fallback, chosen automatically when the engine is missing: Streebog from the system libgcrypt
(through ``ctypes``) and GOST R 34.10 in pure Python; everything in pure Python where libgcrypt is
missing too, or when forced (see :mod:`.backend`).

Byte conventions (the classic trap, see PROTOCOLS.md "Signatures and certificates"):

* public key ``x || y``, each half little-endian - as inside the certificate's OCTET STRING;
* digest: Streebog output bytes as OpenSSL prints them, read as a little-endian integer;
* signature ``s || r``, each half big-endian (Russian CMS / XMLDSig); Kazakh NCA uses the full
  byte reversal, ``r || s`` little-endian: convert with :func:`kz_signature_to_ru`.
"""

from __future__ import annotations

from gateway.signatures.gost.backend import BackendInfo, backend_info, use_backend
from gateway.signatures.gost.curves import CURVES, TEST_CURVES, Curve, curve_by_oid
from gateway.signatures.gost.errors import BackendUnavailable, GostError, InvalidSignature, UnknownCurve
from gateway.signatures.gost.gost3410 import (
    generate_private_key,
    public_key_from_private,
    sign_digest,
    verify_digest,
)
from gateway.signatures.gost.hashing import Hasher, new_streebog, streebog256, streebog512
from gateway.signatures.gost.kz import kz_signature_to_ru, ru_signature_to_kz

__all__ = [
    "CURVES",
    "TEST_CURVES",
    "BackendInfo",
    "BackendUnavailable",
    "Curve",
    "GostError",
    "Hasher",
    "InvalidSignature",
    "UnknownCurve",
    "backend_info",
    "curve_by_oid",
    "generate_private_key",
    "kz_signature_to_ru",
    "new_streebog",
    "public_key_from_private",
    "ru_signature_to_kz",
    "sign_digest",
    "streebog256",
    "streebog512",
    "use_backend",
    "verify_digest",
]

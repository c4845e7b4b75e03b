"""Signature byte order of Kazakhstan's NCA (GOST 34.310/34.10-2015).

NCA writes ``r || s`` with each half little-endian; the Russian layout is ``s || r`` big-endian.
One is the complete byte reversal of the other, so both conversions are the same operation;
keys and digests use the same conventions in both countries (PROTOCOLS.md).
"""

from __future__ import annotations

from gateway.signatures.gost.errors import InvalidSignature

__all__ = ["kz_signature_to_ru", "ru_signature_to_kz"]


def _reverse(sig: bytes) -> bytes:
    # Signature bytes come from outside: a wrong length is an invalid signature, not a bug.
    if len(sig) not in (64, 128):
        raise InvalidSignature(f"GOST signature must be 64 or 128 bytes, got {len(sig)}")
    return bytes(sig[::-1])


def kz_signature_to_ru(sig: bytes) -> bytes:
    """NCA ``r || s`` (little-endian halves) -> Russian ``s || r`` (big-endian halves)."""
    return _reverse(sig)


def ru_signature_to_kz(sig: bytes) -> bytes:
    """Russian ``s || r`` (big-endian halves) -> NCA ``r || s`` (little-endian halves)."""
    return _reverse(sig)

"""Streebog (GOST R 34.11-2012) through the active backend: OpenSSL, else libgcrypt, else pure Python.

Digests are byte strings exactly as ``openssl dgst -md_gost12_256`` prints them (the standard's
examples are written right to left; see tests/vectors/gost/README.md). Signature code reads those
bytes as a little-endian integer.
"""

from __future__ import annotations

from typing import Protocol

from gateway.signatures.gost.backend import active_gcrypt, active_openssl
from gateway.signatures.gost.streebog_pure import PureStreebog

__all__ = ["Hasher", "new_streebog", "streebog256", "streebog512"]


class Hasher(Protocol):
    """The ``hashlib``-style incremental interface every Streebog implementation offers."""

    @property
    def digest_size(self) -> int: ...

    @property
    def block_size(self) -> int: ...

    @property
    def name(self) -> str: ...

    def update(self, data: bytes | bytearray | memoryview, /) -> None: ...

    def digest(self) -> bytes: ...

    def hexdigest(self) -> str: ...

    def copy(self) -> Hasher: ...


def new_streebog(bits: int, data: bytes = b"") -> Hasher:
    """Return a fresh Streebog-``bits`` hasher (256 or 512), optionally fed ``data``."""
    if bits not in (256, 512):
        raise ValueError(f"Streebog has 256- and 512-bit variants, not {bits}")
    hasher: Hasher
    if (openssl := active_openssl()) is not None:
        hasher = openssl.new_hash(bits)
    elif (gcrypt := active_gcrypt()) is not None:
        hasher = gcrypt.new_hash(bits)
    else:
        hasher = PureStreebog(bits)
    if data:
        hasher.update(data)
    return hasher


def streebog256(data: bytes) -> bytes:
    """Streebog-256 of ``data`` (32 bytes, OpenSSL byte order)."""
    return new_streebog(256, data).digest()


def streebog512(data: bytes) -> bytes:
    """Streebog-512 of ``data`` (64 bytes, OpenSSL byte order)."""
    return new_streebog(512, data).digest()

"""GOST R 34.11-94 / GOST 34.311-95 (the Kazakh legacy hash) in pure Python.

Kazakhstan's legacy signature algorithm GOST 34.310-2004 (``xmldsig-more#gost34310-gost34311``,
still seen on ШЭП) hashes with GOST 34.311-95, which is GOST R 34.11-94 with the *test* S-box
(``id-GostR3411-94-TestParamSet``, 1.2.643.2.2.30.0), not CryptoPro's: the OpenSSL GOST engine's
md_gost94 uses CryptoPro's, so the project computes it itself (PROTOCOLS.md, "Legacy KZ GOST
34.310-2004"). Only verification uses it; it is slow (pure Python, ~1 ms per 32-byte block) and
fine for the size of a SignedInfo or a SOAP Body.

Byte order: :func:`gost341194` returns the hash as the standard's test vectors print it (the
``H`` of the standard written most significant byte first); :func:`digest_le` returns it the way
signatures use it, whose integer value is read little-endian (PROTOCOLS.md).
"""

from __future__ import annotations

from typing import Final

__all__ = ["TEST_SBOX", "digest_le", "gost341194"]

TEST_SBOX: Final = (
    (4, 10, 9, 2, 13, 8, 0, 14, 6, 11, 1, 12, 7, 15, 5, 3),
    (14, 11, 4, 12, 6, 13, 15, 10, 2, 3, 8, 1, 0, 7, 5, 9),
    (5, 8, 1, 13, 10, 3, 4, 2, 14, 15, 12, 7, 6, 0, 9, 11),
    (7, 13, 10, 1, 0, 8, 9, 15, 14, 4, 6, 12, 11, 2, 5, 3),
    (6, 12, 7, 1, 5, 15, 13, 8, 4, 10, 9, 14, 0, 3, 11, 2),
    (4, 11, 10, 0, 7, 2, 1, 13, 3, 6, 8, 5, 9, 12, 15, 14),
    (13, 11, 4, 1, 3, 15, 5, 9, 0, 10, 14, 7, 6, 8, 2, 12),
    (1, 15, 13, 0, 5, 7, 10, 4, 9, 2, 3, 14, 6, 11, 8, 12),
)
_C3: Final = bytes.fromhex("ff00ffff000000ffff0000ff00ffff0000ff00ff00ff00ffff00ff00ff00ff00")
_ZERO: Final = bytes(32)
_MASK: Final = 0xFFFFFFFF


def _tables(sbox: tuple[tuple[int, ...], ...]) -> tuple[list[int], ...]:
    """Per byte position of a 32-bit word, the two S-boxes applied together (256 entries each)."""
    return tuple(
        [sbox[2 * i][b & 15] << (8 * i) | sbox[2 * i + 1][b >> 4] << (8 * i + 4) for b in range(256)] for i in range(4)
    )


_T: Final = _tables(TEST_SBOX)


def _round(x: int) -> int:
    t0, t1, t2, t3 = _T
    y = t0[x & 255] | t1[(x >> 8) & 255] | t2[(x >> 16) & 255] | t3[x >> 24]
    return ((y << 11) | (y >> 21)) & _MASK


def _encrypt(key: bytes, block: bytes) -> bytes:
    """GOST 28147-89 ECB of one 8-byte block, both in the byte order of the hash's words."""
    k = [int.from_bytes(key[4 * i : 4 * i + 4], "little") for i in range(8)]
    n1 = int.from_bytes(block[0:4], "little")
    n2 = int.from_bytes(block[4:8], "little")
    for i in range(24):
        n1, n2 = _round((n1 + k[i % 8]) & _MASK) ^ n2, n1
    for i in range(8):
        n1, n2 = _round((n1 + k[7 - i]) & _MASK) ^ n2, n1
    return n2.to_bytes(4, "little") + n1.to_bytes(4, "little")


def _xor(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(len(a), "big")


def _a(x: bytes) -> bytes:
    x4, x3, x2, x1 = x[0:8], x[8:16], x[16:24], x[24:32]
    return _xor(x1, x2) + x4 + x3 + x2


def _p(x: bytes) -> bytes:
    return bytes(x[i + 8 * k] for i in range(8) for k in range(4))


def _chi(y: bytes) -> bytes:
    w = [y[i : i + 2] for i in range(0, 32, 2)]  # y16 .. y1
    y1, y2, y3, y4, y13, y16 = w[15], w[14], w[13], w[12], w[3], w[0]
    first = bytes(a ^ b ^ c ^ d ^ e ^ f for a, b, c, d, e, f in zip(y1, y2, y3, y4, y13, y16, strict=True))
    return first + b"".join(w[:15])


def _step(h: bytes, m: bytes) -> bytes:
    u, v = h, m
    keys = [_p(_xor(u, v))]
    for c in (_ZERO, _C3, _ZERO):
        u = _xor(_a(u), c)
        v = _a(_a(v))
        keys.append(_p(_xor(u, v)))
    parts = [h[24:32], h[16:24], h[8:16], h[0:8]]  # h1 .. h4
    s = b"".join(_encrypt(k[::-1], part[::-1])[::-1] for k, part in zip(keys, parts, strict=True))
    s = s[24:32] + s[16:24] + s[8:16] + s[0:8]  # s4 s3 s2 s1
    x = s
    for _ in range(12):
        x = _chi(x)
    x = _chi(_xor(x, m))
    x = _xor(h, x)
    for _ in range(61):
        x = _chi(x)
    return x


def gost341194(data: bytes) -> bytes:
    """GOST R 34.11-94 with the test S-box, as its test vectors print it."""
    h = _ZERO
    checksum = 0
    for i in range(0, len(data), 32):
        part = data[i : i + 32][::-1]
        checksum = (checksum + int.from_bytes(part, "big")) % (1 << 256)
        h = _step(h, part.rjust(32, b"\x00"))
    h = _step(h, (8 * len(data)).to_bytes(32, "big"))
    h = _step(h, checksum.to_bytes(32, "big"))
    return h[::-1]


def digest_le(data: bytes) -> bytes:
    """The hash in the byte order signatures read little-endian (the same bytes as
    :func:`gost341194`: the standard's vectors are written least significant byte first)."""
    return gost341194(data)

"""Pure-Python GOST R 34.11-2012 (Streebog): the fallback when OpenSSL's GOST provider is missing.

The classic table-driven form: the 512-bit state is eight little-endian 64-bit words, and the
round function LPS (S-box, byte transposition, linear map) is eight lookups in eight tables of
256 words per output word, combined with XOR. Byte order matches OpenSSL and the standard's test
examples read right to left: the digest bytes are exactly what ``openssl dgst -md_gost12_256``
prints.
"""

from __future__ import annotations

import struct

from gateway.signatures.gost._streebog_const import PI, A, C

__all__ = ["PureStreebog"]

_Words = tuple[int, int, int, int, int, int, int, int]

_MASK64 = (1 << 64) - 1
_MASK512 = (1 << 512) - 1
_pack = struct.Struct("<8Q").pack
_unpack = struct.Struct("<8Q").unpack


def _build_tables() -> tuple[tuple[int, ...], ...]:
    """T[r][v] = l(PI[v] placed in byte r of a word): the linear map of one substituted byte.

    Bit i of a word (little-endian) selects row A[63 - i] of the matrix, as in section 5.3.
    """
    tables = []
    for r in range(8):
        row = []
        for v in range(256):
            byte = PI[v]
            acc = 0
            for bit in range(8):
                if byte >> bit & 1:
                    acc ^= A[63 - (8 * r + bit)]
            row.append(acc)
        tables.append(tuple(row))
    return tuple(tables)


_T0, _T1, _T2, _T3, _T4, _T5, _T6, _T7 = _build_tables()


def _words(value: int) -> _Words:
    return _unpack(value.to_bytes(64, "little"))


_ROUND_KEYS: tuple[_Words, ...] = tuple(_words(c) for c in C)
_ZERO: _Words = (0, 0, 0, 0, 0, 0, 0, 0)


def _lpsx(a: _Words, b: _Words) -> _Words:
    """LPS(a xor b): S-box, byte transposition and the linear map, all by table lookup."""
    s = _pack(a[0] ^ b[0], a[1] ^ b[1], a[2] ^ b[2], a[3] ^ b[3], a[4] ^ b[4], a[5] ^ b[5], a[6] ^ b[6], a[7] ^ b[7])
    return (
        _T0[s[0]] ^ _T1[s[8]] ^ _T2[s[16]] ^ _T3[s[24]] ^ _T4[s[32]] ^ _T5[s[40]] ^ _T6[s[48]] ^ _T7[s[56]],
        _T0[s[1]] ^ _T1[s[9]] ^ _T2[s[17]] ^ _T3[s[25]] ^ _T4[s[33]] ^ _T5[s[41]] ^ _T6[s[49]] ^ _T7[s[57]],
        _T0[s[2]] ^ _T1[s[10]] ^ _T2[s[18]] ^ _T3[s[26]] ^ _T4[s[34]] ^ _T5[s[42]] ^ _T6[s[50]] ^ _T7[s[58]],
        _T0[s[3]] ^ _T1[s[11]] ^ _T2[s[19]] ^ _T3[s[27]] ^ _T4[s[35]] ^ _T5[s[43]] ^ _T6[s[51]] ^ _T7[s[59]],
        _T0[s[4]] ^ _T1[s[12]] ^ _T2[s[20]] ^ _T3[s[28]] ^ _T4[s[36]] ^ _T5[s[44]] ^ _T6[s[52]] ^ _T7[s[60]],
        _T0[s[5]] ^ _T1[s[13]] ^ _T2[s[21]] ^ _T3[s[29]] ^ _T4[s[37]] ^ _T5[s[45]] ^ _T6[s[53]] ^ _T7[s[61]],
        _T0[s[6]] ^ _T1[s[14]] ^ _T2[s[22]] ^ _T3[s[30]] ^ _T4[s[38]] ^ _T5[s[46]] ^ _T6[s[54]] ^ _T7[s[62]],
        _T0[s[7]] ^ _T1[s[15]] ^ _T2[s[23]] ^ _T3[s[31]] ^ _T4[s[39]] ^ _T5[s[47]] ^ _T6[s[55]] ^ _T7[s[63]],
    )


def _g(n: _Words, h: _Words, m: _Words) -> _Words:
    """The compression function g_N(h, m) of section 7."""
    k = _lpsx(h, n)
    t = m
    for c in _ROUND_KEYS:
        t = _lpsx(k, t)
        k = _lpsx(k, c)
    return (
        k[0] ^ t[0] ^ h[0] ^ m[0],
        k[1] ^ t[1] ^ h[1] ^ m[1],
        k[2] ^ t[2] ^ h[2] ^ m[2],
        k[3] ^ t[3] ^ h[3] ^ m[3],
        k[4] ^ t[4] ^ h[4] ^ m[4],
        k[5] ^ t[5] ^ h[5] ^ m[5],
        k[6] ^ t[6] ^ h[6] ^ m[6],
        k[7] ^ t[7] ^ h[7] ^ m[7],
    )


class PureStreebog:
    """Incremental Streebog-256 or -512 with the ``hashlib`` object interface."""

    block_size = 64
    __slots__ = ("_buf", "_h", "_n", "_sigma", "digest_size", "name")

    def __init__(self, bits: int, data: bytes = b"") -> None:
        if bits not in (256, 512):
            raise ValueError(f"Streebog has 256- and 512-bit variants, not {bits}")
        self.digest_size = bits // 8
        self.name = f"streebog{bits}"
        self._h: _Words = (0x0101010101010101,) * 8 if bits == 256 else _ZERO
        self._n = 0  # bits processed so far (N in the standard)
        self._sigma = 0  # sum of the processed blocks mod 2^512 (Sigma in the standard)
        self._buf = b""
        if data:
            self.update(data)

    def update(self, data: bytes | bytearray | memoryview) -> None:
        """Absorb more input; complete blocks are compressed at once, the rest is kept."""
        buf = self._buf + bytes(data)
        full = len(buf) - len(buf) % 64
        if full:
            h, n, sigma = self._h, self._n, self._sigma
            for off in range(0, full, 64):
                block = buf[off : off + 64]
                h = _g(_words(n), h, _unpack(block))
                n = (n + 512) & _MASK512
                sigma = (sigma + int.from_bytes(block, "little")) & _MASK512
            self._h, self._n, self._sigma = h, n, sigma
            buf = buf[full:]
        self._buf = buf

    def digest(self) -> bytes:
        """Return the digest of everything absorbed so far (the object stays usable)."""
        tail = self._buf
        block = tail + b"\x01" + b"\x00" * (63 - len(tail))
        h = _g(_words(self._n), self._h, _unpack(block))
        n = (self._n + 8 * len(tail)) & _MASK512
        sigma = (self._sigma + int.from_bytes(block, "little")) & _MASK512
        h = _g(_ZERO, h, _words(n))
        h = _g(_ZERO, h, _words(sigma))
        out = _pack(*h)
        return out if self.digest_size == 64 else out[32:]

    def hexdigest(self) -> str:
        return self.digest().hex()

    def copy(self) -> PureStreebog:
        """Return an independent hasher in the same state."""
        other = PureStreebog.__new__(PureStreebog)
        other.digest_size = self.digest_size
        other.name = self.name
        other._h, other._n, other._sigma, other._buf = self._h, self._n, self._sigma, self._buf
        return other

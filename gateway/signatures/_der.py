"""A minimal DER reader for the verification hot path.

asn1crypto builds a Python object per ASN.1 value, which costs more than hashing a typical document.
Reading a CMS SignedData needs only a handful of fields, so ``cms`` first tries this reader: plain
definite-length DER, slices of the input, nothing else. Anything it does not expect (BER indefinite
lengths, constructed strings, odd tags) raises ``Unsupported`` and the caller falls back to
asn1crypto, which stays the authority on what is malformed.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "Tlv",
    "Unsupported",
    "children",
    "contents",
    "decode_oid",
    "expect",
    "integer",
    "oid",
    "read",
    "read_all",
    "whole",
]


class Unsupported(Exception):
    """Not plain DER as this reader understands it: use the full parser instead."""


Tlv = tuple[int, int, int, int]  # (tag byte, start of the TLV, start of contents, end)

_OID_CACHE: dict[bytes, str] = {}
_OID_CACHE_MAX: Final = 4096


def read(data: bytes, offset: int, limit: int | None = None) -> Tlv:
    """The TLV starting at ``offset`` (single-byte tags only, definite lengths only)."""
    end_limit = len(data) if limit is None else limit
    if offset + 2 > end_limit:
        raise Unsupported("truncated")
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise Unsupported("multi-byte tag")
    first = data[offset + 1]
    pos = offset + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4:
            raise Unsupported("indefinite or huge length")
        if pos + count > end_limit:
            raise Unsupported("truncated length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    end = pos + length
    if end > end_limit:
        raise Unsupported("length beyond the enclosing value")
    return tag, offset, pos, end


def children(data: bytes, tlv: Tlv) -> list[Tlv]:
    """The TLVs inside a constructed value."""
    tag, _start, pos, end = tlv
    if not tag & 0x20:
        raise Unsupported("primitive value has no children")
    out = []
    while pos < end:
        child = read(data, pos, end)
        out.append(child)
        pos = child[3]
    return out


def read_all(data: bytes) -> Tlv:
    """The single TLV that must span all of ``data``."""
    tlv = read(data, 0)
    if tlv[3] != len(data):
        raise Unsupported("trailing data")
    return tlv


def expect(tlv: Tlv, tag: int) -> Tlv:
    if tlv[0] != tag:
        raise Unsupported(f"tag {tlv[0]:#x}, expected {tag:#x}")
    return tlv


def contents(data: bytes, tlv: Tlv) -> bytes:
    return data[tlv[2] : tlv[3]]


def whole(data: bytes, tlv: Tlv) -> bytes:
    return data[tlv[1] : tlv[3]]


def decode_oid(raw: bytes) -> str:
    """Dotted string of OBJECT IDENTIFIER contents (memoised: the same OIDs recur constantly)."""
    cached = _OID_CACHE.get(raw)
    if cached is not None:
        return cached
    if not raw or raw[-1] & 0x80:
        raise Unsupported("bad OID")
    arcs: list[int] = []
    value = 0
    for byte in raw:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    dotted = ".".join(map(str, head + arcs[1:]))
    if len(_OID_CACHE) < _OID_CACHE_MAX:
        _OID_CACHE[raw] = dotted
    return dotted


def oid(data: bytes, tlv: Tlv) -> str:
    return decode_oid(contents(data, expect(tlv, 0x06)))


def integer(data: bytes, tlv: Tlv) -> int:
    return int.from_bytes(contents(data, expect(tlv, 0x02)), "big", signed=True)

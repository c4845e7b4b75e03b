"""Loading the GOST test vectors (tests/vectors/gost) and the little DER walking they need.

asn1crypto does not know the GOST key OIDs, so certificates, CRLs and requests are split by
hand: every one of them is SEQUENCE { tbs, algorithm, BIT STRING signature }.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from asn1crypto import pem

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "gost"


def load_vector(name: str) -> bytes:
    """Bytes of a vector file; PEM files come back as DER."""
    data = (VECTORS / name).read_bytes()
    if pem.detect(data):
        _, _, data = pem.unarmor(data)
    return data


def load_json(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def _tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of content, end of element) of the DER element at ``pos``."""
    tag = data[pos]
    length = data[pos + 1]
    start = pos + 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    return tag, start, start + length


def children(data: bytes) -> list[bytes]:
    """The encoded elements inside a constructed element (whole TLVs)."""
    _, pos, end = _tlv(data, 0)
    out = []
    while pos < end:
        _, _, nxt = _tlv(data, pos)
        out.append(data[pos:nxt])
        pos = nxt
    return out


def content(element: bytes) -> bytes:
    _, start, end = _tlv(element, 0)
    return element[start:end]


def oid(element: bytes) -> str:
    body = content(element)
    arcs = [body[0] // 40, body[0] % 40]
    value = 0
    for byte in body[1:]:
        value = value << 7 | byte & 0x7F
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    return ".".join(map(str, arcs))


def split_signed(der: bytes) -> tuple[bytes, bytes]:
    """(to-be-signed DER, signature bytes) of a certificate, CRL or certification request."""
    tbs, _, bits = children(der)
    return tbs, content(bits)[1:]  # drop the "unused bits" byte of the BIT STRING


def public_key_info(spki: bytes) -> tuple[str, bytes]:
    """(curve OID, x || y little-endian) from a GOST SubjectPublicKeyInfo."""
    algorithm, bits = children(spki)
    params = children(algorithm)[1]
    curve_oid = oid(children(params)[0])
    octets = content(bits)[1:]
    return curve_oid, content(octets)


def cert_public_key(cert: bytes) -> tuple[str, bytes]:
    tbs = children(children(cert)[0])
    if tbs[0][0] == 0xA0:  # explicit [0] version
        tbs = tbs[1:]
    return public_key_info(tbs[5])


def csr_public_key(csr: bytes) -> tuple[str, bytes]:
    info = children(children(csr)[0])
    return public_key_info(info[2])


def pkcs8_private_key(der: bytes) -> tuple[str, int]:
    """(curve OID, private key) from an OpenSSL GOST PKCS#8 key (key bytes little-endian)."""
    _, algorithm, key = children(der)
    params = children(algorithm)[1]
    raw = content(key)
    if len(raw) not in (32, 64):  # some writers nest an OCTET STRING; OpenSSL writes it raw
        raw = content(raw)
    return oid(children(params)[0]), int.from_bytes(raw, "little")

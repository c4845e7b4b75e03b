"""ASN.1 structures asn1crypto does not give us in a usable form.

asn1crypto's ``PublicKeyInfo`` and ``PrivateKeyInfo`` pick the key's inner structure from a fixed
table and raise ``KeyError`` for GOST OIDs as soon as any field is read. These "raw" twins keep the
algorithm parameters as ``Any`` and the key as bytes, so GOST, RSA and EC keys all parse the same way.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from asn1crypto import core

__all__ = [
    "AnyAlgorithmIdentifier",
    "GostKeyParameters",
    "RawPrivateKeyInfo",
    "RawPublicKeyInfo",
    "algorithm_parameters_der",
    "der_to_pem",
    "pem_blocks",
]


class AnyAlgorithmIdentifier(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012 - asn1crypto's declaration style
        ("algorithm", core.ObjectIdentifier),
        ("parameters", core.Any, {"optional": True}),
    ]


class GostKeyParameters(core.Sequence):  # type: ignore[misc]
    """GostR3410-2012-PublicKeyParameters (RFC 4491 / TK26): curve, then optional digest OIDs."""

    _fields = [  # noqa: RUF012
        ("public_key_param_set", core.ObjectIdentifier),
        ("digest_param_set", core.ObjectIdentifier, {"optional": True}),
        ("encryption_param_set", core.ObjectIdentifier, {"optional": True}),
    ]


class RawPublicKeyInfo(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012
        ("algorithm", AnyAlgorithmIdentifier),
        ("public_key", core.OctetBitString),
    ]


class _Attributes(core.SetOf):  # type: ignore[misc]
    _child_spec = core.Any


class RawPrivateKeyInfo(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012
        ("version", core.Integer),
        ("private_key_algorithm", AnyAlgorithmIdentifier),
        ("private_key", core.OctetString),
        ("attributes", _Attributes, {"implicit": 0, "optional": True}),
    ]


def der_to_pem(der: bytes, label: str) -> bytes:
    """PEM armour with 64-column base64, as OpenSSL writes it."""
    b64 = base64.b64encode(der).decode("ascii")
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return (f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n").encode("ascii")


def pem_blocks(data: bytes) -> list[tuple[str, bytes]]:
    """All PEM blocks in ``data`` as (label, DER). Empty when ``data`` has no PEM armour."""
    out: list[tuple[str, bytes]] = []
    for m in re.finditer(rb"-----BEGIN ([A-Z0-9 ]+)-----\s*(.*?)\s*-----END \1-----", data, flags=re.DOTALL):
        try:
            out.append((m.group(1).decode("ascii"), base64.b64decode(b"".join(m.group(2).split()), validate=True)))
        except (binascii.Error, ValueError):
            continue
    return out


def algorithm_parameters_der(alg: Any) -> bytes | None:
    """DER of an AlgorithmIdentifier's parameters; None when absent or NULL (they mean the same
    for every algorithm we verify, and asn1crypto parses NULL as Null or Any depending on the OID)."""
    params = alg["parameters"]
    if isinstance(params, core.Void):
        return None
    der: bytes = params.dump()
    return None if der == b"\x05\x00" else der

"""Micro-benchmark of the GOST primitives on this machine, per backend.

``bench_primitives`` measures the primitives alone (``mse-gateway bench verify`` measures whole
documents): raw verifications per second (256-bit, CryptoPro A, digest already computed) and
Streebog-256 throughput. Each figure runs for
about ``seconds`` of wall time on one thread. It switches backends with :func:`use_backend`,
which is process-wide: run it from a tool, not inside a busy server.
"""

from __future__ import annotations

import itertools
import os

from gateway.signatures.gost.backend import use_backend
from gateway.signatures.gost.curves import CURVES
from gateway.signatures.gost.errors import BackendUnavailable
from gateway.signatures.gost.gost3410 import (
    generate_private_key,
    public_key_from_private,
    sign_digest,
    verify_digest,
)
from gateway.signatures.gost.hashing import new_streebog
from gateway.signatures.timing import median_rate

__all__ = ["bench_primitives"]

_CURVE = CURVES["id-GostR3410-2001-CryptoPro-A-ParamSet"]


def _streebog_mbps(seconds: float, chunk: bytes) -> float:
    hasher = new_streebog(256)
    rate = median_rate(seconds, lambda: hasher.update(chunk))
    hasher.digest()
    return rate * len(chunk) / 1e6


def _verify_rate(seconds: float, digest: bytes) -> float:
    private = generate_private_key(_CURVE)
    public = public_key_from_private(_CURVE, private)
    signature = sign_digest(_CURVE, private, digest)
    verify_digest(_CURVE, public, digest, signature)  # warm-up: tables, caches
    return median_rate(seconds, lambda: verify_digest(_CURVE, public, digest, signature))


def _cold_verify_rate(seconds: float, digest: bytes) -> float:
    """A different key for every call, so no per-key cache can help."""
    keys = []
    for _ in range(max(8, int(seconds * 1000))):
        private = generate_private_key(_CURVE)
        keys.append((public_key_from_private(_CURVE, private), sign_digest(_CURVE, private, digest)))

    calls = itertools.count()

    def verify() -> None:
        public, signature = keys[next(calls) % len(keys)]
        verify_digest(_CURVE, public, digest, signature)

    return median_rate(seconds, verify)


def bench_primitives(seconds: float = 1.0) -> dict[str, float]:
    """Measure each available backend; keys are ``<what>_<backend>[_<variant>]``, values are
    operations per second (``verify256_*``) or megabytes per second (``streebog256_*_mbps``).

    ``verify256_pure`` verifies one key again and again (the key gets its cached comb table, as a
    busy signer's certificate would); ``verify256_pure_cold_key`` uses a new key each time. The
    fallback's GOST R 34.10 is that same pure-Python code, so only its Streebog is measured
    (``streebog256_fallback_mbps``, libgcrypt). Backends that cannot load here are left out.
    """
    results: dict[str, float] = {}
    digest = os.urandom(_CURVE.size)
    for name in ("openssl", "fallback", "pure"):
        try:
            with use_backend(name):
                if name != "fallback":
                    results[f"verify256_{name}"] = _verify_rate(seconds, digest)
                if name == "pure":
                    results["verify256_pure_cold_key"] = _cold_verify_rate(seconds, digest)
                chunk = os.urandom(1 << 14 if name == "pure" else 1 << 20)
                results[f"streebog256_{name}_mbps"] = _streebog_mbps(seconds, chunk)
        except BackendUnavailable:
            continue
    return results

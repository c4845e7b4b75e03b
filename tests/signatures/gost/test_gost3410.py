"""GOST R 34.10-2012: standard examples, cross-backend, tampering, malformed input, gostcrypto."""

from __future__ import annotations

import os

import gostcrypto
import pytest
from _gost_vectors import load_json
from gostcrypto.gostsignature import gost_34_10_2012 as gc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.signatures.gost import (
    CURVES,
    TEST_CURVES,
    Curve,
    InvalidSignature,
    generate_private_key,
    kz_signature_to_ru,
    public_key_from_private,
    ru_signature_to_kz,
    sign_digest,
    streebog256,
    streebog512,
    use_backend,
    verify_digest,
)

STANDARD = sorted(set(CURVES.values()), key=lambda c: c.name)
EVERY = STANDARD + sorted(TEST_CURVES.values(), key=lambda c: c.name)
APPENDIX_A = load_json("gost3410_appendix_a.json")["examples"]


def _le(value: int, size: int) -> bytes:
    return value.to_bytes(size, "little")


def _flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


@pytest.mark.parametrize("example", APPENDIX_A, ids=lambda e: e["name"])
def test_appendix_a(gost_backend: str, example: dict[str, str]) -> None:
    curve = TEST_CURVES[example["curve"]]
    size = curve.size
    d, e, k = (int(example[key], 16) for key in ("d", "e", "k"))
    public = public_key_from_private(curve, d)
    assert public == _le(int(example["xq"], 16), size) + _le(int(example["yq"], 16), size)
    digest = _le(e, size)  # the standard's e is the digest read little-endian
    signature = sign_digest(curve, d, digest, k=k)
    assert signature == bytes.fromhex(example["s"] + example["r"])  # s || r, big-endian
    verify_digest(curve, public, digest, signature)
    with pytest.raises(InvalidSignature):
        verify_digest(curve, public, _flip(digest, 0), signature)


@pytest.mark.parametrize("curve", EVERY, ids=lambda c: c.name)
def test_cross_backend_every_parameter_set(require_openssl: None, require_gcrypt: None, curve: Curve) -> None:
    private = generate_private_key(curve)
    public = public_key_from_private(curve, private)
    digest = os.urandom(curve.size)
    signatures = {}
    for signer in ("openssl", "fallback", "pure"):
        with use_backend(signer):
            signatures[signer] = sign_digest(curve, private, digest)
    assert len(set(signatures.values())) == 3  # random nonces
    for signature in signatures.values():
        for verifier in ("openssl", "fallback", "pure"):
            with use_backend(verifier):
                verify_digest(curve, public, digest, signature)
                with pytest.raises(InvalidSignature):
                    verify_digest(curve, public, digest, _flip(signature, 7))
                with pytest.raises(InvalidSignature):
                    verify_digest(curve, public, _flip(digest, 200), signature)


@pytest.mark.parametrize(
    "curve", [CURVES["id-GostR3410-2001-CryptoPro-A-ParamSet"], CURVES["id-tc26-gost-3410-2012-512-paramSetC"]]
)
def test_every_single_bit_flip_is_rejected(gost_backend: str, curve: Curve) -> None:
    private = generate_private_key(curve)
    public = public_key_from_private(curve, private)
    digest = os.urandom(curve.size)
    signature = sign_digest(curve, private, digest)
    verify_digest(curve, public, digest, signature)
    for bit in range(0, len(signature) * 8, 5):
        with pytest.raises(InvalidSignature):
            verify_digest(curve, public, digest, _flip(signature, bit))
    for bit in range(0, len(digest) * 8, 11):
        with pytest.raises(InvalidSignature):
            verify_digest(curve, public, _flip(digest, bit), signature)
    for bit in range(0, len(public) * 8, 37):
        with pytest.raises(InvalidSignature):
            verify_digest(curve, _flip(public, bit), digest, signature)
    other = public_key_from_private(curve, generate_private_key(curve))
    with pytest.raises(InvalidSignature):
        verify_digest(curve, other, digest, signature)


def test_malformed_input_is_rejected_the_same_way(gost_backend: str) -> None:
    curve = CURVES["id-tc26-gost-3410-2012-256-paramSetA"]
    q, size = curve.q, curve.size
    private = generate_private_key(curve)
    public = public_key_from_private(curve, private)
    digest = os.urandom(size)
    good = sign_digest(curve, private, digest)
    s, r = good[:size], good[size:]
    bad = {
        "short signature": (public, good[:-1]),
        "long signature": (public, good + b"\0"),
        "r = 0": (public, s + bytes(size)),
        "s = 0": (public, bytes(size) + r),
        "r = q": (public, s + q.to_bytes(size, "big")),
        "s = q": (public, q.to_bytes(size, "big") + r),
        "s = q + s": (public, (q + int.from_bytes(s, "big")).to_bytes(size, "big") + r),
        "short key": (public[:-1], good),
        "key off the curve": (public[:size] + _le(int.from_bytes(public[size:], "little") ^ 1, size), good),
        "key coordinate >= p": (_le(curve.p, size) + public[size:], good),
        "r || s (Kazakh order)": (public, r + s),
    }
    for label, (key, signature) in bad.items():
        with pytest.raises(InvalidSignature):
            verify_digest(curve, key, digest, signature)
            pytest.fail(label)
    with pytest.raises(ValueError, match="32-byte digests"):
        verify_digest(curve, public, streebog512(b"x"), good)


def test_small_order_public_key_is_rejected(gost_backend: str) -> None:
    """tc26 256 A has cofactor 4: a point of order 2 (y = 0) must not verify anything."""
    curve = CURVES["id-tc26-gost-3410-2012-256-paramSetA"]
    p = curve.p
    roots = [x for x in _cubic_roots(curve) if (x**3 + curve.a * x + curve.b) % p == 0]
    assert roots, "tc26 256 A has a 2-torsion point"
    key = _le(roots[0], 32) + bytes(32)
    digest = os.urandom(32)
    signature = sign_digest(curve, generate_private_key(curve), digest)
    with pytest.raises(InvalidSignature):
        verify_digest(curve, key, digest, signature)


def _cubic_roots(curve: Curve) -> list[int]:
    """Roots of x^3 + ax + b mod p (p = 3 mod 4 or general) by gcd with x^p - x; tiny helper."""
    p = curve.p

    def mul(f: list[int], g: list[int]) -> list[int]:
        out = [0] * (len(f) + len(g) - 1)
        for i, fi in enumerate(f):
            for j, gj in enumerate(g):
                out[i + j] = (out[i + j] + fi * gj) % p
        return out

    def mod(f: list[int], g: list[int]) -> list[int]:
        f = f[:]
        inv = pow(g[-1], -1, p)
        while len(f) >= len(g):
            c = f[-1] * inv % p
            shift = len(f) - len(g)
            for i, gi in enumerate(g):
                f[shift + i] = (f[shift + i] - c * gi) % p
            while f and f[-1] == 0:
                f.pop()
        return f

    cubic = [curve.b % p, curve.a % p, 0, 1]
    # x^p mod cubic by square-and-multiply
    result, base, e = [1], [0, 1], p
    while e:
        if e & 1:
            result = mod(mul(result, base), cubic)
        base = mod(mul(base, base), cubic)
        e >>= 1
    g = result + [0] * (2 - len(result) + 1) if len(result) < 2 else result[:]
    g[1] = (g[1] - 1) % p  # x^p - x
    while g and g[-1] == 0:
        g.pop()
    a, b = cubic, g
    while b:
        a, b = b, mod(a, b)
    if len(a) == 2:  # one root: -a0/a1
        return [(-a[0]) * pow(a[1], -1, p) % p]
    return []


def test_sign_digest_argument_checks() -> None:
    curve = CURVES["id-GostR3410-2001-CryptoPro-A-ParamSet"]
    digest = bytes(32)
    for d in (0, curve.q, -1, 1 << 256):
        with pytest.raises(ValueError, match="private key"):
            sign_digest(curve, d, digest)
        with pytest.raises(ValueError, match="private key"):
            public_key_from_private(curve, d)
    with pytest.raises(ValueError, match="nonce"):
        sign_digest(curve, 5, digest, k=curve.q)
    with pytest.raises(ValueError, match="32-byte digests"):
        sign_digest(curve, 5, bytes(64))
    for _ in range(20):
        assert 1 <= generate_private_key(curve) < curve.q


def test_kz_conversion_is_full_reversal() -> None:
    curve = CURVES["id-tc26-gost-3410-12-512-paramSetA"]
    private = generate_private_key(curve)
    digest = streebog512(b"031/u")
    ru = sign_digest(curve, private, digest)
    kz = ru_signature_to_kz(ru)
    s, r = int.from_bytes(ru[:64], "big"), int.from_bytes(ru[64:], "big")
    assert kz == r.to_bytes(64, "little") + s.to_bytes(64, "little")
    assert kz_signature_to_ru(kz) == ru
    verify_digest(curve, public_key_from_private(curve, private), digest, kz_signature_to_ru(kz))
    for size in (0, 63, 65, 127):
        with pytest.raises(InvalidSignature):
            kz_signature_to_ru(bytes(size))


def _gc_signer(curve: Curve) -> gc.GOST34102012:
    name = next(n for n, c in CURVES.items() if c is curve and n in gc.CURVES_R_1323565_1_024_2019)
    mode = gc.MODE_256 if curve.size == 32 else gc.MODE_512
    return gostcrypto.gostsignature.new(mode, gc.CURVES_R_1323565_1_024_2019[name])


@pytest.mark.parametrize(
    "curve",
    [
        CURVES["id-tc26-gost-3410-2012-256-paramSetA"],
        CURVES["id-tc26-gost-3410-2012-256-paramSetB"],
        CURVES["id-tc26-gost-3410-2012-512-paramSetC"],
    ],
    ids=lambda c: c.name,
)
def test_interoperates_with_gostcrypto(gost_backend: str, curve: Curve) -> None:
    """gostcrypto is big-endian throughout and writes r || s: convert at the edges only."""
    size = curve.size
    signer = _gc_signer(curve)
    private = generate_private_key(curve)
    digest = (streebog256 if size == 32 else streebog512)(b"interop")
    their_digest = bytearray(digest[::-1])  # the same integer, big-endian
    their_public = signer.public_key_generate(bytearray(private.to_bytes(size, "big")))
    ours = public_key_from_private(curve, private)
    assert bytes(their_public) == ours[:size][::-1] + ours[size:][::-1]
    theirs = bytes(signer.sign(bytearray(private.to_bytes(size, "big")), their_digest))
    verify_digest(curve, ours, digest, theirs[size:] + theirs[:size])
    mine = sign_digest(curve, private, digest)
    assert signer.verify(their_public, their_digest, bytearray(mine[size:] + mine[:size]))


@settings(max_examples=12, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    message=st.binary(max_size=300),
    curve=st.sampled_from(STANDARD),
    private=st.integers(min_value=1),
)
def test_round_trip_property(gost_backend: str, message: bytes, curve: Curve, private: int) -> None:
    private = private % (curve.q - 1) + 1
    digest = (streebog256 if curve.size == 32 else streebog512)(message)
    public = public_key_from_private(curve, private)
    signature = sign_digest(curve, private, digest)
    verify_digest(curve, public, digest, signature)
    with pytest.raises(InvalidSignature):
        verify_digest(curve, public, (streebog256 if curve.size == 32 else streebog512)(message + b"!"), signature)


@pytest.mark.parametrize(
    "curve", [CURVES["id-tc26-gost-3410-2012-256-paramSetA"], CURVES["id-tc26-gost-3410-12-512-paramSetB"]]
)
def test_pure_hot_key_path_agrees_with_cold_path(curve: Curve) -> None:
    """The first uses of a key go through wNAF, later ones through the key's own comb table."""
    from gateway.signatures.gost import _ec

    private = generate_private_key(curve)
    public = public_key_from_private(curve, private)
    x = int.from_bytes(public[: curve.size], "little")
    y = int.from_bytes(public[curve.size :], "little")
    with use_backend("pure"):
        for use in range(1, 7):
            digest = os.urandom(curve.size)
            signature = sign_digest(curve, private, digest)
            verify_digest(curve, public, digest, signature)
            with pytest.raises(InvalidSignature):
                verify_digest(curve, public, digest, _flip(signature, use))
            has_comb = _ec._keys[(curve, x, y)].comb is not None
            assert has_comb == (2 * use >= _ec._HOT_AFTER), use

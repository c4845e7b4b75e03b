"""Pure-Python arithmetic on GOST curves: the fallback when the OpenSSL GOST engine is missing.

Speed comes from doing as little Python as possible per bit:

* points are Jacobian ``(X, Y, Z)`` (``x = X/Z^2``, ``y = Y/Z^3``), so no inversion per step;
  ``Z == 0`` is the point at infinity;
* ``k*P`` for the base point uses a fixed-base table of signed 8-bit windows (``j * 2^(8i) * P``
  for ``j = 1..128``, affine): a 256-bit scalar costs about 33 mixed additions and no doubling.
  The table is built once per curve, on first use;
* ``u*Q`` for a public key uses width-5 wNAF over affine odd multiples of ``Q`` (cached per key);
  from a key's third use on it gets its own comb table (width 5), because a signer's
  certificate - and above all a CA's - usually verifies many documents. The per-key cache is a
  small LRU (``_KEY_CACHE_SIZE`` keys);
* the doubling uses the ``a = -3`` formula where the curve allows it (CryptoPro A-C, tc26 512 A/B);
* where p is pseudo-Mersenne, ``p = 2^n - c`` with a small ``c`` (every parameter set but CryptoPro
  C and the standard's 512-bit example), products are reduced by folding, ``t = (t >> n) * c +
  (t & (2^n - 1))`` twice, instead of ``t % p``: CPython's long division is the most expensive
  step of a field multiplication; with folds a verification ran 1.2-1.3x as fast on CryptoPro A
  and 1.6-1.7x on tc26 512 A (measured, cold and hot keys). Folded values are congruent to the
  canonical ones but not reduced (see :func:`_fold_params`), so zero tests there use ``% p``.

All formulas handle the point at infinity and ``P == +-Q``, so hostile public keys (e.g. points of
small order on the cofactor-4 Edwards curves) get the mathematically correct verdict - in practice
"does not verify" - never an exception or a hang.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from contextlib import suppress

from gateway.signatures.gost.curves import Curve

__all__ = ["base_mult", "sign_ints", "verify_ints"]

_Affine = tuple[int, int]
_Jacobian = tuple[int, int, int]

_INFINITY: _Jacobian = (1, 1, 0)
_BASE_W = 8  # comb window width for the base point (bits)
_VAR_W = 5  # wNAF width for a public key seen for the first times
_KEY_W = 5  # comb window width for a hot public key
_HOT_AFTER = 3  # the use at which a key gets its own comb table
_KEY_CACHE_SIZE = 64  # keys remembered (a 512-bit key's comb is about 0.3 MB)


def _dbl(X: int, Y: int, Z: int, p: int, a: int, am3: bool) -> _Jacobian:
    if not Z or not Y:
        return _INFINITY
    yy = Y * Y % p
    s = 4 * X * yy % p
    if am3:
        zz = Z * Z
        m = 3 * (X - zz) * (X + zz) % p
    else:
        zz = Z * Z % p
        m = (3 * X * X + a * zz * zz) % p
    x3 = (m * m - 2 * s) % p
    return x3, (m * (s - x3) - 8 * yy * yy) % p, 2 * Y * Z % p


def _madd(X: int, Y: int, Z: int, x2: int, y2: int, p: int, a: int, am3: bool) -> _Jacobian:
    """Jacobian + affine."""
    if not Z:
        return x2, y2, 1
    zz = Z * Z % p
    h = (x2 * zz - X) % p
    r = (y2 * Z * zz - Y) % p
    if not h:
        if not r:
            return _dbl(X, Y, Z, p, a, am3)
        return _INFINITY
    hh = h * h % p
    hhh = h * hh % p
    v = X * hh % p
    x3 = (r * r - hhh - 2 * v) % p
    return x3, (r * (v - x3) - Y * hhh) % p, Z * h % p


_FOLD_MAX_C = 1 << 16
_fold_cache: dict[Curve, tuple[int, int] | None] = {}


def _fold_params(curve: Curve) -> tuple[int, int] | None:
    """``(n, c)`` with ``p = 2^n - c`` and ``|c| < 2^16`` (c may be negative), or None.

    Since ``2^n = c (mod p)``, ``fold(t) = (t >> n) * c + (t & (2^n - 1))`` is congruent to t
    (Python's ``>>`` floors, so this holds for negative t too). Bounds, for values kept in
    ``|v| < 2^(n+1)``: every product below stays under ``2^(2n+6)`` in size; one fold leaves less
    than ``2^(n+23)``, a second one a value in ``(-2^39, 2^n + 2^39)``, inside the bound again. So
    two folds per product keep every coordinate within one bit of p; the table entries that
    enter the formulas are in ``[0, p]`` (``p - 0`` for a negated point with y = 0).
    """
    try:
        return _fold_cache[curve]
    except KeyError:
        pass
    found = None
    for n in (curve.p.bit_length(), curve.p.bit_length() - 1):
        c = (1 << n) - curve.p
        if abs(c) < _FOLD_MAX_C:
            found = (n, c)
            break
    _fold_cache[curve] = found
    return found


def _madd_folded(X: int, Y: int, Z: int, x2: int, y2: int, curve: Curve, n: int, c: int, M: int) -> _Jacobian:
    """:func:`_madd` with folded reductions (see :func:`_fold_params`); ``0 <= x2, y2 <= p``."""
    if not Z:
        return x2, y2, 1
    t = Z * Z
    t = (t >> n) * c + (t & M)
    zz = (t >> n) * c + (t & M)
    t = Z * zz
    t = (t >> n) * c + (t & M)
    zzz = (t >> n) * c + (t & M)
    t = x2 * zz - X
    t = (t >> n) * c + (t & M)
    h = (t >> n) * c + (t & M)
    t = y2 * zzz - Y
    t = (t >> n) * c + (t & M)
    r = (t >> n) * c + (t & M)
    p = curve.p
    if not h % p:
        if not r % p:
            return _dbl(X % p, Y % p, Z % p, p, curve.a, (curve.a + 3) % p == 0)
        return _INFINITY
    t = h * h
    t = (t >> n) * c + (t & M)
    hh = (t >> n) * c + (t & M)
    t = h * hh
    t = (t >> n) * c + (t & M)
    hhh = (t >> n) * c + (t & M)
    t = X * hh
    t = (t >> n) * c + (t & M)
    v = (t >> n) * c + (t & M)
    t = r * r - hhh - v - v
    t = (t >> n) * c + (t & M)
    x3 = (t >> n) * c + (t & M)
    t = r * (v - x3) - Y * hhh
    t = (t >> n) * c + (t & M)
    y3 = (t >> n) * c + (t & M)
    t = Z * h
    t = (t >> n) * c + (t & M)
    return x3, y3, (t >> n) * c + (t & M)


def _to_affine_many(points: list[_Jacobian], p: int) -> list[_Affine | None]:
    """Normalise many points with one inversion (Montgomery's trick); infinity becomes None."""
    prefix: list[int] = []
    acc = 1
    for _, _, z in points:
        if z:
            acc = acc * z % p
        prefix.append(acc)
    inv = pow(acc, -1, p)
    out: list[_Affine | None] = [None] * len(points)
    for i in range(len(points) - 1, -1, -1):
        x, y, z = points[i]
        if not z:
            continue
        before = prefix[i - 1] if i else 1
        zi = inv * before % p
        inv = inv * z % p
        zi2 = zi * zi % p
        out[i] = (x * zi2 % p, y * zi2 * zi % p)
    return out


class _Comb:
    """Signed-window table for a fixed point P: ``rows[i][j-1] = j * 2^(w*i) * P``, affine.

    With it ``k*P`` costs one mixed addition per nonzero w-bit digit of k and no doubling.
    """

    __slots__ = ("rows", "w")

    def __init__(self, curve: Curve, px: int, py: int, w: int) -> None:
        p, a = curve.p, curve.a
        am3 = (a + 3) % p == 0
        half = 1 << (w - 1)
        windows = (curve.q.bit_length() + w - 1) // w + 1  # +1: the carry of the signed digits
        jac: list[_Jacobian] = []
        bx, by = px, py
        for i in range(windows):
            acc: _Jacobian = (bx, by, 1)
            row = [acc]
            for _ in range(half - 1):
                acc = _madd(*acc, bx, by, p, a, am3)
                row.append(acc)
            jac.extend(row)
            if i + 1 < windows:
                nxt = _to_affine_many([_dbl(*acc, p, a, am3)], p)[0]  # 2^w * this window's base
                if nxt is None:
                    raise ArithmeticError("point of small order has no comb table")
                bx, by = nxt
        flat = _to_affine_many(jac, p)
        if any(pt is None for pt in flat):
            raise ArithmeticError("point of small order has no comb table")
        self.w = w
        self.rows = [[pt for pt in flat[i * half : (i + 1) * half] if pt is not None] for i in range(windows)]

    def add_mult(self, acc: _Jacobian, curve: Curve, k: int) -> _Jacobian:
        """Return ``acc + k*P`` for 0 <= k < q (folded, not reduced, where p allows it)."""
        p, a = curve.p, curve.a
        am3 = (a + 3) % p == 0
        fold = _fold_params(curve)
        rows = self.rows
        w = self.w
        full = 1 << w
        mask = full - 1
        half = full >> 1
        X, Y, Z = acc
        i = 0
        while k:
            d = k & mask
            k >>= w
            if d > half:
                d -= full
                k += 1
            if d:
                if d > 0:
                    x2, y2 = rows[i][d - 1]
                else:
                    x2, y2 = rows[i][-d - 1]
                    y2 = p - y2
                if fold is None:
                    X, Y, Z = _madd(X, Y, Z, x2, y2, p, a, am3)
                else:
                    X, Y, Z = _madd_folded(X, Y, Z, x2, y2, curve, fold[0], fold[1], (1 << fold[0]) - 1)
            i += 1
        return X, Y, Z


_base_combs: dict[Curve, _Comb] = {}
_base_lock = threading.Lock()


def _base_comb(curve: Curve) -> _Comb:
    comb = _base_combs.get(curve)
    if comb is None:
        with _base_lock:
            comb = _base_combs.get(curve)
            if comb is None:
                comb = _Comb(curve, curve.x, curve.y, _BASE_W)
                _base_combs[curve] = comb
    return comb


def base_mult(curve: Curve, k: int) -> _Affine | None:
    """Return ``k*P`` for the curve's base point as affine (x, y), or None for infinity."""
    X, Y, Z = _base_comb(curve).add_mult(_INFINITY, curve, k % curve.q)
    if not Z:
        return None
    p = curve.p
    zi = pow(Z, -1, p)
    zi2 = zi * zi % p
    return X * zi2 % p, Y * zi2 * zi % p


class _KeyEntry:
    """What the verifier keeps about one public key: use count, odd multiples, maybe a comb."""

    __slots__ = ("comb", "odd", "uses")

    def __init__(self, odd: tuple[_Affine | None, ...]) -> None:
        self.odd = odd
        self.uses = 1
        self.comb: _Comb | None = None


_keys: OrderedDict[tuple[Curve, int, int], _KeyEntry] = OrderedDict()
_keys_lock = threading.Lock()


def _key_entry(curve: Curve, qx: int, qy: int) -> _KeyEntry:
    """Find or create the cache entry of a key, building its comb once the key proves hot."""
    key = (curve, qx, qy)
    with _keys_lock:
        entry = _keys.get(key)
        if entry is not None:
            _keys.move_to_end(key)
            entry.uses += 1
    if entry is None:
        entry = _KeyEntry(_odd_multiples(curve, qx, qy))
        with _keys_lock:
            _keys[key] = entry
            while len(_keys) > _KEY_CACHE_SIZE:
                _keys.popitem(last=False)
    elif entry.comb is None and entry.uses == _HOT_AFTER:
        # Built outside the lock; two threads may both build it, which is harmless. A point of
        # small order has no comb and stays on the wNAF path.
        with suppress(ArithmeticError):
            entry.comb = _Comb(curve, qx, qy, _KEY_W)
    return entry


def _odd_multiples(curve: Curve, qx: int, qy: int) -> tuple[_Affine | None, ...]:
    """``(Q, 3Q, 5Q, ..., (2^(w-1)-1)Q)`` in affine form; None where a multiple is infinity."""
    p, a = curve.p, curve.a
    am3 = (a + 3) % p == 0
    count = 1 << (_VAR_W - 2)
    two = _to_affine_many([_dbl(qx, qy, 1, p, a, am3)], p)[0]
    acc: _Jacobian = (qx, qy, 1)
    jac = [acc]
    for _ in range(count - 1):
        if two is not None:
            acc = _madd(*acc, two[0], two[1], p, a, am3)
        jac.append(acc)
    return tuple(_to_affine_many(jac, p))


def _wnaf(k: int) -> list[int]:
    """Width-w non-adjacent form of k >= 0, least significant digit first."""
    full = 1 << _VAR_W
    mask = full - 1
    half = full >> 1
    gap = [0] * (_VAR_W - 1)
    out: list[int] = []
    while k:
        if k & 1:
            d = k & mask
            if d >= half:
                d -= full
            k = (k - d) >> _VAR_W
            out.append(d)
            out.extend(gap)
        else:
            tz = (k & -k).bit_length() - 1
            out.extend([0] * tz)
            k >>= tz
    return out


def _var_mult(curve: Curve, table: tuple[_Affine | None, ...], k: int) -> _Jacobian:
    """``k*Q`` in Jacobian form (k >= 0) by wNAF; doubling and addition are inlined because
    this loop runs once per bit of k and dominates the cost of a cold verification."""
    fold = _fold_params(curve)
    if fold is not None:
        return _var_mult_folded(curve, table, k, *fold)
    return _var_mult_generic(curve, table, k)


def _var_mult_folded(curve: Curve, table: tuple[_Affine | None, ...], k: int, n: int, c: int) -> _Jacobian:
    """:func:`_var_mult_generic` with every ``% p`` replaced by two folds (see
    :func:`_fold_params`). Z is exactly 0 for the point at infinity and never congruent to 0
    otherwise (each new Z is a product of factors checked nonzero mod p), so ``if Z`` still tells
    infinity; Y and h, r are tested mod p."""
    p, a = curve.p, curve.a
    am3 = (a + 3) % p == 0
    M = (1 << n) - 1
    X, Y, Z = _INFINITY
    for d in reversed(_wnaf(k)):
        if Z:
            if Y % p:
                t = Y * Y
                t = (t >> n) * c + (t & M)
                yy = (t >> n) * c + (t & M)
                t = Z * Z
                t = (t >> n) * c + (t & M)
                zz = (t >> n) * c + (t & M)
                if am3:
                    t = (X - zz) * (X + zz) * 3
                else:
                    t = zz * zz
                    t = (t >> n) * c + (t & M)
                    t = 3 * X * X + a * ((t >> n) * c + (t & M))
                t = (t >> n) * c + (t & M)
                m = (t >> n) * c + (t & M)
                t = X * yy * 4
                t = (t >> n) * c + (t & M)
                s = (t >> n) * c + (t & M)
                t = Y * Z * 2
                t = (t >> n) * c + (t & M)
                Z = (t >> n) * c + (t & M)
                t = m * m - s - s
                t = (t >> n) * c + (t & M)
                X = (t >> n) * c + (t & M)
                t = m * (s - X) - yy * yy * 8
                t = (t >> n) * c + (t & M)
                Y = (t >> n) * c + (t & M)
            else:  # a point of order 2 doubles to infinity
                X, Y, Z = _INFINITY
        if d:
            pt = table[(d if d > 0 else -d) >> 1]
            if pt is None:
                continue
            x2, y2 = pt
            if d < 0:
                y2 = p - y2
            X, Y, Z = _madd_folded(X, Y, Z, x2, y2, curve, n, c, M)
    return X, Y, Z


def _var_mult_generic(curve: Curve, table: tuple[_Affine | None, ...], k: int) -> _Jacobian:
    """The wNAF loop with plain ``% p`` reductions, for primes of no special form."""
    p, a = curve.p, curve.a
    am3 = (a + 3) % p == 0
    X, Y, Z = _INFINITY
    for d in reversed(_wnaf(k)):
        if Z and Y:
            yy = Y * Y % p
            if am3:
                zz = Z * Z
                m = (X - zz) * (X + zz) * 3 % p
            else:
                zz = Z * Z % p
                m = (3 * X * X + a * zz * zz) % p
            s = X * yy % p * 4
            Z = Y * Z * 2 % p
            X = (m * m - s - s) % p
            Y = (m * (s - X) - yy * yy * 8) % p
        elif Z:
            X, Y, Z = _INFINITY
        if d:
            pt = table[(d if d > 0 else -d) >> 1]
            if pt is None:
                continue
            x2, y2 = pt
            if d < 0:
                y2 = p - y2
            if not Z:
                X, Y, Z = x2, y2, 1
                continue
            zz = Z * Z % p
            h = (x2 * zz - X) % p
            r = (y2 * Z * zz - Y) % p
            if not h:
                X, Y, Z = _dbl(X, Y, Z, p, a, am3) if not r else _INFINITY
                continue
            hh = h * h % p
            hhh = h * hh % p
            v = X * hh % p
            X = (r * r - hhh - 2 * v) % p
            Y = (r * (v - X) - Y * hhh) % p
            Z = Z * h % p
    return X, Y, Z


def verify_ints(curve: Curve, qx: int, qy: int, e: int, r: int, s: int) -> bool:
    """GOST R 34.10-2012 verification (section 6.2) on integers.

    The caller has checked ``0 < r, s < q`` and that Q is on the curve; ``e`` is the digest as an
    integer (already reduced or not).
    """
    q, p = curve.q, curve.p
    e %= q
    if e == 0:
        e = 1
    v = pow(e, -1, q)
    z1 = s * v % q
    z2 = (q - r) * v % q
    entry = _key_entry(curve, qx, qy)
    comb = entry.comb
    acc = comb.add_mult(_INFINITY, curve, z2) if comb is not None else _var_mult(curve, entry.odd, z2)
    X, _, Z = _base_comb(curve).add_mult(acc, curve, z1)
    if not Z:
        return False
    zi = pow(Z, -1, p)
    return X * zi * zi % p % q == r


def sign_ints(curve: Curve, d: int, e: int, k: int) -> tuple[int, int] | None:
    """GOST R 34.10-2012 signing (section 6.1) with a given nonce k in [1, q-1].

    Returns (r, s), or None when this k gives r == 0 or s == 0 (the caller picks another k).
    """
    q = curve.q
    e %= q
    if e == 0:
        e = 1
    c = base_mult(curve, k)
    if c is None:
        return None
    r = c[0] % q
    if r == 0:
        return None
    s = (r * d + k * e) % q
    if s == 0:
        return None
    return r, s

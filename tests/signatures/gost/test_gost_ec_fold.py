"""The folded reduction of the pure-Python curve arithmetic (pseudo-Mersenne primes) against the
plain ``% p`` code: same points for random scalars and keys, the edge cases of the addition, a
point of order 2, and the bounds the folds promise."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_gost3410 import _cubic_roots

from gateway.signatures.gost import _ec
from gateway.signatures.gost.curves import CURVES, TEST_CURVES, Curve

ALL = list({id(c): c for c in [*CURVES.values(), *TEST_CURVES.values()]}.values())
FOLDED = [c for c in ALL if _ec._fold_params(c) is not None]


def _same(curve: Curve, a: _ec._Jacobian, b: _ec._Jacobian) -> bool:
    """Equal as projective points (either may be unreduced)."""
    p = curve.p
    (x1, y1, z1), (x2, y2, z2) = a, b
    if z1 % p == 0 or z2 % p == 0:
        return z1 % p == 0 and z2 % p == 0
    return (x1 * z2 * z2 - x2 * z1 * z1) % p == 0 and (y1 * z2**3 - y2 * z1**3) % p == 0


def _within_bound(curve: Curve, point: _ec._Jacobian) -> bool:
    fold = _ec._fold_params(curve)
    assert fold is not None
    return all(abs(v) < 1 << (fold[0] + 1) for v in point)


def test_which_parameter_sets_fold() -> None:
    folds = {c.name: _ec._fold_params(c) for c in ALL}
    assert folds["id-GostR3410-2001-CryptoPro-A-ParamSet"] == (256, 617)
    assert folds["id-GostR3410-2001-CryptoPro-B-ParamSet"] == (255, -3225)
    assert folds["id-tc26-gost-3410-2012-256-paramSetA"] == (256, 617)
    assert folds["id-tc26-gost-3410-12-512-paramSetA"] == (512, 569)
    assert folds["id-tc26-gost-3410-12-512-paramSetB"] == (511, -111)
    assert folds["id-GostR3410-2001-CryptoPro-C-ParamSet"] is None
    for curve in ALL:
        fold = folds[curve.name]
        assert fold is None or (1 << fold[0]) - fold[1] == curve.p


@pytest.mark.parametrize("curve", FOLDED, ids=lambda c: c.name)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_folded_var_mult_matches_plain(curve: Curve, data: st.DataObject) -> None:
    d = data.draw(st.integers(min_value=1, max_value=curve.q - 1))
    k = data.draw(st.one_of(st.integers(min_value=0, max_value=curve.q), st.sampled_from([1, 2, 3, curve.q - 1])))
    point = _ec.base_mult(curve, d)
    assert point is not None
    table = _ec._odd_multiples(curve, *point)
    folded = _ec._var_mult(curve, table, k)
    assert _same(curve, folded, _ec._var_mult_generic(curve, table, k))
    assert _within_bound(curve, folded)


@pytest.mark.parametrize("curve", FOLDED, ids=lambda c: c.name)
def test_folded_addition_edge_cases(curve: Curve) -> None:
    """P + infinity, P + P (doubling inside the addition), P + (-P), and an unreduced input."""
    p, a = curve.p, curve.a
    am3 = (a + 3) % p == 0
    n, c = _ec._fold_params(curve) or (0, 0)
    mask = (1 << n) - 1
    point = _ec.base_mult(curve, 123456789)
    assert point is not None
    x, y = point
    jac = _ec._dbl(x, y, 1, p, a, am3)  # 2P in Jacobian form, Z != 1
    twice = _ec._to_affine_many([jac], p)[0]
    assert twice is not None
    tx, ty = twice
    cases = [(_ec._INFINITY, (x, y)), (jac, (tx, ty)), (jac, (tx, p - ty)), (jac, (x, y))]
    unreduced = (jac[0] + p, jac[1] - p, jac[2] + p)  # congruent, out of [0, p)
    cases.append((unreduced, (x, y)))
    for (X, Y, Z), (x2, y2) in cases:
        got = _ec._madd_folded(X, Y, Z, x2, y2, curve, n, c, mask)
        assert _same(curve, got, _ec._madd(X % p, Y % p, Z % p, x2, y2, p, a, am3))
    assert _ec._madd_folded(*jac, tx, p - ty, curve, n, c, mask)[2] == 0  # exactly infinity


def test_point_of_order_two_on_the_folded_path() -> None:
    """tc26 256 A (cofactor 4, folded) has a point T with y = 0: k*T is T for odd k, else
    infinity, on both paths; the doubling must see y = 0 even when it is not reduced."""
    curve = CURVES["id-tc26-gost-3410-2012-256-paramSetA"]
    assert _ec._fold_params(curve) is not None
    roots = _cubic_roots(curve)
    assert roots
    table = _ec._odd_multiples(curve, roots[0], 0)
    # From k = 17 on, wNAF has negative digits: the table's y = 0 is negated to y = p, unreduced.
    for k in [*range(70), curve.q, curve.q + 1, curve.q - 17]:
        folded = _ec._var_mult(curve, table, k)
        assert _same(curve, folded, _ec._var_mult_generic(curve, table, k)), k
        assert (folded[2] == 0) == (k % 2 == 0), k


@pytest.mark.parametrize("curve", FOLDED, ids=lambda c: c.name)
def test_folded_comb_matches_plain_scalar_multiplication(curve: Curve) -> None:
    comb = _ec._base_comb(curve)
    table = _ec._odd_multiples(curve, curve.x, curve.y)
    for k in (1, 2, curve.q - 1, 0x1234567890ABCDEF << (curve.size * 4), curve.q // 3):
        via_comb = comb.add_mult(_ec._INFINITY, curve, k)
        assert _same(curve, via_comb, _ec._var_mult_generic(curve, table, k)), k
        assert _within_bound(curve, via_comb)

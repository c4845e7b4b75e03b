"""Parameter sets: every constant checked independently, OID resolution, gostcrypto cross-check."""

from __future__ import annotations

import random

import pytest
from gostcrypto.gostsignature import gost_34_10_2012 as gc

from gateway.signatures.gost import CURVES, TEST_CURVES, Curve, UnknownCurve, _ec, curve_by_oid
from gateway.signatures.gost.curves import is_on_curve

ALL = sorted({*CURVES.values(), *TEST_CURVES.values()}, key=lambda c: c.name)


def _probably_prime(n: int) -> bool:
    if n < 2 or n % 2 == 0:
        return n == 2
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    rng = random.Random(n)
    for _ in range(32):
        x = pow(rng.randrange(2, n - 1), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


@pytest.mark.parametrize("curve", ALL, ids=lambda c: c.name)
def test_parameters_are_consistent(curve: Curve) -> None:
    assert _probably_prime(curve.p)
    assert _probably_prime(curve.q)
    assert is_on_curve(curve, curve.x, curve.y)
    assert (4 * curve.a**3 + 27 * curve.b**2) % curve.p != 0  # non-singular
    assert curve.size * 8 - 2 <= curve.q.bit_length() <= curve.size * 8
    # q * P is the point at infinity and (q - 1) * P = -P: P really has order q.
    table = _ec._odd_multiples(curve, curve.x, curve.y)
    assert _ec._var_mult(curve, table, curve.q)[2] == 0
    assert _ec.base_mult(curve, curve.q - 1) == (curve.x, curve.p - curve.y)


def test_oid_resolution() -> None:
    cp_a = curve_by_oid("1.2.643.2.2.35.1")
    assert curve_by_oid("1.2.643.2.2.36.0") is cp_a  # XchA
    assert curve_by_oid("1.2.643.7.1.2.1.1.2") is cp_a  # tc26 256 B
    assert curve_by_oid("1.2.643.7.1.2.1.1.3") is curve_by_oid("1.2.643.2.2.35.2")
    assert curve_by_oid("1.2.643.7.1.2.1.1.4") is curve_by_oid("1.2.643.2.2.35.3")
    assert curve_by_oid("1.2.643.2.2.36.1") is curve_by_oid("1.2.643.2.2.35.3")  # XchB
    assert curve_by_oid("1.2.398.3.10.1.1.2.2.1") is curve_by_oid("1.2.643.7.1.2.1.2.1")  # NCA
    assert curve_by_oid("1.2.643.7.1.2.1.1.1").name == "id-tc26-gost-3410-2012-256-paramSetA"
    assert curve_by_oid("1.2.643.7.1.2.1.2.3").size == 64
    for curve in CURVES.values():
        for oid in curve.oids:
            assert curve_by_oid(oid) is curve
    assert CURVES["id-GostR3410-2001-CryptoPro-XchA-ParamSet"] is cp_a
    assert len({id(c) for c in CURVES.values()}) == 7


def test_unknown_and_test_oids_are_refused() -> None:
    with pytest.raises(UnknownCurve) as err:
        curve_by_oid("1.2.3.4")
    assert isinstance(err.value, KeyError)
    assert "1.2.3.4" in str(err.value)
    assert "unknown GOST R 34.10 parameter set" in str(err.value)
    for curve in TEST_CURVES.values():
        with pytest.raises(UnknownCurve):
            curve_by_oid(curve.oids[0])


# gostcrypto publishes the tc26 sets (R 1323565.1.024-2019), the Edwards ones in Edwards form.
GOSTCRYPTO_NAMES = {
    "id-tc26-gost-3410-2012-256-paramSetA": "id-tc26-gost-3410-2012-256-paramSetA",
    "id-tc26-gost-3410-2012-256-paramSetB": "id-tc26-gost-3410-2012-256-paramSetB",
    "id-tc26-gost-3410-2012-256-paramSetC": "id-tc26-gost-3410-2012-256-paramSetC",
    "id-tc26-gost-3410-2012-256-paramSetD": "id-tc26-gost-3410-2012-256-paramSetD",
    "id-tc26-gost-3410-12-512-paramSetA": "id-tc26-gost-3410-12-512-paramSetA",
    "id-tc26-gost-3410-12-512-paramSetB": "id-tc26-gost-3410-12-512-paramSetB",
    "id-tc26-gost-3410-2012-512-paramSetC": "id-tc26-gost-3410-2012-512-paramSetC",
}


@pytest.mark.parametrize("name", sorted(GOSTCRYPTO_NAMES))
def test_parameters_match_gostcrypto(name: str) -> None:
    ours = CURVES[name]
    mode = gc.MODE_256 if ours.size == 32 else gc.MODE_512
    theirs = gc.GOST34102012(mode, gc.CURVES_R_1323565_1_024_2019[GOSTCRYPTO_NAMES[name]])
    # gostcrypto converts the twisted Edwards sets to Weierstrass form on construction.
    assert (theirs._p, theirs._a, theirs._b, theirs._q, theirs._x, theirs._y) == (
        ours.p,
        ours.a,
        ours.b,
        ours.q,
        ours.x,
        ours.y,
    )

"""GOST R 34.10 elliptic-curve parameter sets, by name and by OID.

Every standard set is here in short Weierstrass form ``y^2 = x^3 + a*x + b (mod p)``, including
the two twisted-Edwards curves (tc26 256 A, 512 C), whose Weierstrass parameters RFC 7836 and
R 1323565.1.024-2019 publish alongside the Edwards ones. Sources:

* CryptoPro A, B, C (and XchA = A, XchB = C): RFC 4357 section 11.4;
* tc26 256 A and 512 A, B, C: RFC 7836 appendix A.1 / R 1323565.1.024-2019;
  tc26 256 B, C, D are the CryptoPro A, B, C curves under new OIDs (R 1323565.1.024-2019);
* the Kazakh NCA OID 1.2.398.3.10.1.1.2.2.1 names tc26 512 A;
* the two test curves of GOST R 34.10-2012 appendix A (= RFC 7091 section 7) are in
  :data:`TEST_CURVES` only: they are for known-answer tests and are never resolved from an OID
  found in a certificate.

The tests check every set independently: base point on the curve, ``q*P = O``, ``p`` and ``q``
prime, and the values against the ``gostcrypto`` package and the OpenSSL GOST engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from gateway.signatures.gost.errors import UnknownCurve

__all__ = ["CURVES", "TEST_CURVES", "Curve", "curve_by_oid", "is_on_curve"]


@dataclass(frozen=True)
class Curve:
    """One GOST R 34.10 parameter set.

    ``oids`` lists every OID that names these exact parameters, the preferred one first (that one
    is used when an OID has to be written, e.g. for the OpenSSL engine). ``size`` is the length in
    bytes of a coordinate, of a private key and of each half of a signature: 32 or 64.
    """

    name: str
    oids: tuple[str, ...]
    p: int
    a: int
    b: int
    q: int
    x: int
    y: int
    size: int

    def __repr__(self) -> str:
        return f"Curve({self.name!r}, oids={self.oids!r}, size={self.size})"


def _h(text: str) -> int:
    return int("".join(text.split()), 16)


def is_on_curve(curve: Curve, x: int, y: int) -> bool:
    """Return whether the affine point (x, y) satisfies the curve equation with 0 <= x, y < p."""
    p = curve.p
    if not (0 <= x < p and 0 <= y < p):
        return False
    return (y * y - (x * x * x + curve.a * x + curve.b)) % p == 0


_P256_CP_A = _h("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD97")
_P512_A = _h(
    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFDC7"
)

CRYPTOPRO_A: Final = Curve(
    name="id-GostR3410-2001-CryptoPro-A-ParamSet",
    oids=("1.2.643.2.2.35.1", "1.2.643.2.2.36.0", "1.2.643.7.1.2.1.1.2"),
    p=_P256_CP_A,
    a=_h("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD94"),
    b=0xA6,
    q=_h("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF6C611070995AD10045841B09B761B893"),
    x=1,
    y=_h("8D91E471E0989CDA27DF505A453F2B7635294F2DDF23E3B122ACC99C9E9F1E14"),
    size=32,
)

CRYPTOPRO_B: Final = Curve(
    name="id-GostR3410-2001-CryptoPro-B-ParamSet",
    oids=("1.2.643.2.2.35.2", "1.2.643.7.1.2.1.1.3"),
    p=_h("8000000000000000000000000000000000000000000000000000000000000C99"),
    a=_h("8000000000000000000000000000000000000000000000000000000000000C96"),
    b=_h("3E1AF419A269A5F866A7D3C25C3DF80AE979259373FF2B182F49D4CE7E1BBC8B"),
    q=_h("800000000000000000000000000000015F700CFFF1A624E5E497161BCC8A198F"),
    x=1,
    y=_h("3FA8124359F96680B83D1C3EB2C070E5C545C9858D03ECFB744BF8D717717EFC"),
    size=32,
)

CRYPTOPRO_C: Final = Curve(
    name="id-GostR3410-2001-CryptoPro-C-ParamSet",
    oids=("1.2.643.2.2.35.3", "1.2.643.2.2.36.1", "1.2.643.7.1.2.1.1.4"),
    p=_h("9B9F605F5A858107AB1EC85E6B41C8AACF846E86789051D37998F7B9022D759B"),
    a=_h("9B9F605F5A858107AB1EC85E6B41C8AACF846E86789051D37998F7B9022D7598"),
    b=0x805A,
    q=_h("9B9F605F5A858107AB1EC85E6B41C8AA582CA3511EDDFB74F02F3A6598980BB9"),
    x=0,
    y=_h("41ECE55743711A8C3CBF3783CD08C0EE4D4DC440D4641A8F366E550DFDB3BB67"),
    size=32,
)

TC26_256_A: Final = Curve(
    name="id-tc26-gost-3410-2012-256-paramSetA",
    oids=("1.2.643.7.1.2.1.1.1",),
    p=_P256_CP_A,
    a=_h("C2173F1513981673AF4892C23035A27CE25E2013BF95AA33B22C656F277E7335"),
    b=_h("295F9BAE7428ED9CCC20E7C359A9D41A22FCCD9108E17BF7BA9337A6F8AE9513"),
    q=_h("400000000000000000000000000000000FD8CDDFC87B6635C115AF556C360C67"),
    x=_h("91E38443A5E82C0D880923425712B2BB658B9196932E02C78B2582FE742DAA28"),
    y=_h("32879423AB1A0375895786C4BB46E9565FDE0B5344766740AF268ADB32322E5C"),
    size=32,
)

TC26_512_A: Final = Curve(
    name="id-tc26-gost-3410-12-512-paramSetA",
    oids=("1.2.643.7.1.2.1.2.1", "1.2.398.3.10.1.1.2.2.1"),
    p=_P512_A,
    a=_P512_A - 3,
    b=_h(
        "E8C2505DEDFC86DDC1BD0B2B6667F1DA34B82574761CB0E879BD081CFD0B6265"
        "EE3CB090F30D27614CB4574010DA90DD862EF9D4EBEE4761503190785A71C760"
    ),
    q=_h(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
        "27E69532F48D89116FF22B8D4E0560609B4B38ABFAD2B85DCACDB1411F10B275"
    ),
    x=3,
    y=_h(
        "7503CFE87A836AE3A61B8816E25450E6CE5E1C93ACF1ABC1778064FDCBEFA921"
        "DF1626BE4FD036E93D75E6A50E3A41E98028FE5FC235F5B889A589CB5215F2A4"
    ),
    size=64,
)

TC26_512_B: Final = Curve(
    name="id-tc26-gost-3410-12-512-paramSetB",
    oids=("1.2.643.7.1.2.1.2.2",),
    p=_h(
        "8000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000006F"
    ),
    a=_h(
        "8000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000006C"
    ),
    b=_h(
        "687D1B459DC841457E3E06CF6F5E2517B97C7D614AF138BCBF85DC806C4B289F"
        "3E965D2DB1416D217F8B276FAD1AB69C50F78BEE1FA3106EFB8CCBC7C5140116"
    ),
    q=_h(
        "8000000000000000000000000000000000000000000000000000000000000001"
        "49A1EC142565A545ACFDB77BD9D40CFA8B996712101BEA0EC6346C54374F25BD"
    ),
    x=2,
    y=_h(
        "1A8F7EDA389B094C2C071E3647A8940F3C123B697578C213BE6DD9E6C8EC7335"
        "DCB228FD1EDF4A39152CBCAAF8C0398828041055F94CEEEC7E21340780FE41BD"
    ),
    size=64,
)

TC26_512_C: Final = Curve(
    name="id-tc26-gost-3410-2012-512-paramSetC",
    oids=("1.2.643.7.1.2.1.2.3",),
    p=_P512_A,
    a=_h(
        "DC9203E514A721875485A529D2C722FB187BC8980EB866644DE41C68E1430645"
        "46E861C0E2C9EDD92ADE71F46FCF50FF2AD97F951FDA9F2A2EB6546F39689BD3"
    ),
    b=_h(
        "B4C4EE28CEBC6C2C8AC12952CF37F16AC7EFB6A9F69F4B57FFDA2E4F0DE5ADE0"
        "38CBC2FFF719D2C18DE0284B8BFEF3B52B8CC7A5F5BF0A3C8D2319A5312557E1"
    ),
    q=_h(
        "3FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
        "C98CDBA46506AB004C33A9FF5147502CC8EDA9E7A769A12694623CEF47F023ED"
    ),
    x=_h(
        "E2E31EDFC23DE7BDEBE241CE593EF5DE2295B7A9CBAEF021D385F7074CEA043A"
        "A27272A7AE602BF2A7B9033DB9ED3610C6FB85487EAE97AAC5BC7928C1950148"
    ),
    y=_h(
        "F5CE40D95B5EB899ABBCCFF5911CB8577939804D6527378B8C108C3D2090FF9B"
        "E18E2D33E3021ED2EF32D85822423B6304F726AA854BAE07D0396E9A9ADDC40F"
    ),
    size=64,
)

# GOST R 34.10-2012 appendix A, example 1 (256 bit); the same curve is
# id-GostR3410-2001-TestParamSet (1.2.643.2.2.35.0).
TEST_256: Final = Curve(
    name="gost-34.10-2012-appendix-a-256",
    oids=("1.2.643.2.2.35.0",),
    p=_h("8000000000000000000000000000000000000000000000000000000000000431"),
    a=7,
    b=_h("5FBFF498AA938CE739B8E022FBAFEF40563F6E6A3472FC2A514C0CE9DAE23B7E"),
    q=_h("8000000000000000000000000000000150FE8A1892976154C59CFC193ACCF5B3"),
    x=2,
    y=_h("08E2A8A0E65147D4BD6316030E16D19C85C97F0A9CA267122B96ABBCEA7E8FC8"),
    size=32,
)

# GOST R 34.10-2012 appendix A, example 2 (512 bit); the same curve is
# id-tc26-gost-3410-2012-512-paramSetTest (1.2.643.7.1.2.1.2.0).
TEST_512: Final = Curve(
    name="gost-34.10-2012-appendix-a-512",
    oids=("1.2.643.7.1.2.1.2.0",),
    p=_h(
        "4531ACD1FE0023C7550D267B6B2FEE80922B14B2FFB90F04D4EB7C09B5D2D15D"
        "F1D852741AF4704A0458047E80E4546D35B8336FAC224DD81664BBF528BE6373"
    ),
    a=7,
    b=_h(
        "1CFF0806A31116DA29D8CFA54E57EB748BC5F377E49400FDD788B649ECA1AC43"
        "61834013B2AD7322480A89CA58E0CF74BC9E540C2ADD6897FAD0A3084F302ADC"
    ),
    q=_h(
        "4531ACD1FE0023C7550D267B6B2FEE80922B14B2FFB90F04D4EB7C09B5D2D15D"
        "A82F2D7ECB1DBAC719905C5EECC423F1D86E25EDBE23C595D644AAF187E6E6DF"
    ),
    x=_h(
        "24D19CC64572EE30F396BF6EBBFD7A6C5213B3B3D7057CC825F91093A68CD762"
        "FD60611262CD838DC6B60AA7EEE804E28BC849977FAC33B4B530F1B120248A9A"
    ),
    y=_h(
        "2BB312A43BD2CE6E0D020613C857ACDDCFBF061E91E5F2C3F32447C259F39B2C"
        "83AB156D77F1496BF7EB3351E1EE4E43DC1A18B91B24640B6DBB92CB1ADD371E"
    ),
    size=64,
)

_STANDARD: Final = (CRYPTOPRO_A, CRYPTOPRO_B, CRYPTOPRO_C, TC26_256_A, TC26_512_A, TC26_512_B, TC26_512_C)

# Other names under which the same parameter sets are published.
_ALIASES: Final[dict[str, Curve]] = {
    "id-GostR3410-2001-CryptoPro-XchA-ParamSet": CRYPTOPRO_A,
    "id-GostR3410-2001-CryptoPro-XchB-ParamSet": CRYPTOPRO_C,
    "id-tc26-gost-3410-2012-256-paramSetB": CRYPTOPRO_A,
    "id-tc26-gost-3410-2012-256-paramSetC": CRYPTOPRO_B,
    "id-tc26-gost-3410-2012-256-paramSetD": CRYPTOPRO_C,
    "id-tc26-gost-3410-2012-512-paramSetA": TC26_512_A,
    "id-tc26-gost-3410-2012-512-paramSetB": TC26_512_B,
}

CURVES: Final[Mapping[str, Curve]] = MappingProxyType({**{c.name: c for c in _STANDARD}, **_ALIASES})
"""Standard parameter sets by name; aliases (XchA, tc26 256 B-D, ...) map to the same object."""

TEST_CURVES: Final[Mapping[str, Curve]] = MappingProxyType({c.name: c for c in (TEST_256, TEST_512)})
"""The example curves of GOST R 34.10-2012 appendix A, for known-answer tests only."""

_BY_OID: Final[Mapping[str, Curve]] = MappingProxyType({oid: c for c in _STANDARD for oid in c.oids})


def curve_by_oid(oid: str) -> Curve:
    """Return the standard parameter set named by a dotted OID; raise :class:`UnknownCurve` otherwise.

    Test parameter sets are deliberately not resolvable: a certificate that names one is not a
    certificate the gateway should accept.
    """
    try:
        return _BY_OID[oid]
    except KeyError:
        raise UnknownCurve(oid) from None

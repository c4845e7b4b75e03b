"""Object identifiers the signature code needs, in one place.

asn1crypto knows the international OIDs by name but not the Russian (TK26) or Kazakh (NCA) ones. We
do not patch its global name maps (that would change how every other user of asn1crypto in the
process sees these OIDs); instead the code compares dotted strings from ``.dotted`` against the
constants below.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "CURVE_ALIASES",
    "EKU_CLIENT_AUTH",
    "EKU_EMAIL_PROTECTION",
    "GOST_DIGEST_256",
    "GOST_DIGEST_512",
    "GOST_KEY_256",
    "GOST_KEY_512",
    "GOST_SIG_256",
    "GOST_SIG_512",
    "KZ_DIGEST_256",
    "KZ_DIGEST_512",
    "KZ_GOST_CURVE_512_A",
    "KZ_KEY_GOST2015",
    "KZ_ROLE_NAMES",
    "KZ_SIG_256",
    "KZ_SIG_512",
    "NAME_ATTRIBUTES",
    "RU_INN",
    "RU_INNLE",
    "RU_OGRN",
    "RU_OGRNIP",
    "RU_SNILS",
    "TC26_CURVE_256_A",
    "TC26_CURVE_512_A",
]

# GOST R 34.10-2012 / 34.11-2012 (TK26)
GOST_KEY_256: Final = "1.2.643.7.1.1.1.1"
GOST_KEY_512: Final = "1.2.643.7.1.1.1.2"
GOST_SIG_256: Final = "1.2.643.7.1.1.3.2"
GOST_SIG_512: Final = "1.2.643.7.1.1.3.3"
GOST_DIGEST_256: Final = "1.2.643.7.1.1.2.2"
GOST_DIGEST_512: Final = "1.2.643.7.1.1.2.3"

CRYPTOPRO_CURVE_A: Final = "1.2.643.2.2.35.1"
TC26_CURVE_256_A: Final = "1.2.643.7.1.2.1.1.1"
TC26_CURVE_256_B: Final = "1.2.643.7.1.2.1.1.2"
TC26_CURVE_512_A: Final = "1.2.643.7.1.2.1.2.1"

# Kazakh NCA GOST 34.10-2015 (signature value is r||s little-endian, see PROTOCOLS.md)
KZ_KEY_GOST2015: Final = "1.2.398.3.10.1.1.2.2"
KZ_GOST_CURVE_512_A: Final = "1.2.398.3.10.1.1.2.2.1"
KZ_SIG_512: Final = "1.2.398.3.10.1.1.2.3.2"
KZ_SIG_256: Final = "1.2.398.3.10.1.1.2.3.1"
KZ_DIGEST_512: Final = "1.2.398.3.10.1.3.3"
KZ_DIGEST_256: Final = "1.2.398.3.10.1.3.2"

# Kazakh legacy GOST 34.310-2004 with GOST 34.311-95 (verification only; PROTOCOLS.md): the curve is
# CryptoPro A, the hash GOST R 34.11-94 with the test S-box, the signature r||s little-endian.
KZ_KEY_GOST2004: Final = "1.2.398.3.10.1.1.1.1"
KZ_GOST2004_CURVE_A: Final = "1.2.398.3.10.1.1.1.1.1"
KZ_SIG_GOST2004: Final = "1.2.398.3.10.1.1.1.2"
KZ_DIGEST_GOST34311: Final = "1.2.398.3.10.1.3.1"

# Curve OIDs that name a curve the primitives know under another OID. Used only when
# ``curve_by_oid`` does not know the OID itself.
CURVE_ALIASES: Final[dict[str, str]] = {
    KZ_GOST_CURVE_512_A: TC26_CURVE_512_A,
    "1.2.643.2.2.36.0": CRYPTOPRO_CURVE_A,  # XchA is CryptoPro A
    KZ_GOST2004_CURVE_A: CRYPTOPRO_CURVE_A,  # the Kazakh legacy parameter set (checked on NCA's test CA)
    TC26_CURVE_256_B: CRYPTOPRO_CURVE_A,  # tc26 256 paramSetB is CryptoPro A
}

# Russian qualified-certificate subject attributes
RU_OGRN: Final = "1.2.643.100.1"
RU_SNILS: Final = "1.2.643.100.3"
RU_INNLE: Final = "1.2.643.100.4"
RU_OGRNIP: Final = "1.2.643.100.5"
RU_INN: Final = "1.2.643.3.131.1.1"
RU_SUBJECT_SIGN_TOOL: Final = "1.2.643.100.111"
RU_ISSUER_SIGN_TOOLS: Final = "1.2.643.100.112"

EKU_CLIENT_AUTH: Final = "1.3.6.1.5.5.7.3.2"
EKU_EMAIL_PROTECTION: Final = "1.3.6.1.5.5.7.3.4"

# Kazakh holder types/roles carried in Extended Key Usage (names as NCANode uses them)
KZ_ROLE_NAMES: Final[dict[str, str]] = {
    "1.2.398.3.3.4.1.1": "INDIVIDUAL",
    "1.2.398.3.3.4.1.2": "ORGANIZATION",
    "1.2.398.3.3.4.1.2.1": "CEO",
    "1.2.398.3.3.4.1.2.2": "CAN_SIGN",
    "1.2.398.3.3.4.1.2.3": "CAN_SIGN_FINANCIAL",
    "1.2.398.3.3.4.1.2.4": "HR",
    "1.2.398.3.3.4.1.2.5": "EMPLOYEE",
}

# Short names for distinguished-name attributes when a name is rendered as a string.
NAME_ATTRIBUTES: Final[dict[str, str]] = {
    "2.5.4.3": "CN",
    "2.5.4.4": "SN",
    "2.5.4.42": "G",
    "2.5.4.12": "T",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.9": "STREET",
    "2.5.4.5": "SERIALNUMBER",
    "1.2.840.113549.1.9.1": "E",
    RU_OGRN: "OGRN",
    RU_SNILS: "SNILS",
    RU_INNLE: "INNLE",
    RU_OGRNIP: "OGRNIP",
    RU_INN: "INN",
}

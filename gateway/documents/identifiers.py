"""Checksums, normalisation, masking and test generators for Russian and Kazakh identifiers.

Every identifier the gateway reads from a peer (a patient's SNILS or IIN, an organisation's OGRN,
BIN or INN in a certificate or an envelope) is checked here before it is trusted or compared, so a
typo is reported as a typo and not as "patient not found" three systems later.

Algorithms (each is the published one; the quirks are part of the algorithm, not bugs here):

* **SNILS** (11 digits, ``123-456-789 01``): the check number is the sum of the first nine digits
  weighted 9..1; below 100 it is the sum itself, 100 and 101 give ``00``, above 101 it is the sum
  mod 101 with 100 again written as ``00`` — i.e. ``(sum mod 101) mod 100``. The check applies only
  to numbers *above* 001-001-998: older numbers were issued before the checksum existed, so any
  check digits are accepted for them.
* **IIN / BIN** (Kazakhstan, 12 digits): the 12th digit is the sum of the first eleven weighted
  1..11, mod 11. If that gives 10, a second pass uses weights 3,4,5,6,7,8,9,10,11,1,2; if that
  gives 10 again the number is never issued (invalid). Weight 11 is 0 mod 11, so in the first pass
  the 11th digit does not influence the check at all (see the tests for what that means).
  The IIN's digits 1–6 are the birth date (YYMMDD), digit 7 is century and sex
  (1/2: 1800s, 3/4: 1900s, 5/6: 2000s; odd = male, even = female).
* **OGRN** (13 digits): check = (first 12 digits as a number mod 11) mod 10.
  **OGRNIP** (15 digits): check = (first 14 digits mod 13) mod 10.
* **INN**: 10 digits (organisations) with weights 2,4,10,3,5,9,4,6,8; 12 digits (individuals) with
  two check digits, weights 7,2,4,10,3,5,9,4,6,8 and 3,7,2,4,10,3,5,9,4,6,8; each (sum mod 11) mod 10.

Errors never echo the identifier: an exception message can end up in a log line, and these numbers
are personal data (SNILS, IIN).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final, Literal

__all__ = [
    "IdentifierError",
    "IdentifierKind",
    "IinInfo",
    "InvalidChecksum",
    "InvalidContent",
    "InvalidFormat",
    "Sex",
    "decode_iin",
    "format_snils",
    "iin_check_digit",
    "inn_check_digits",
    "is_valid_bin",
    "is_valid_iin",
    "is_valid_inn",
    "is_valid_ogrn",
    "is_valid_ogrnip",
    "is_valid_snils",
    "mask_iin",
    "mask_snils",
    "normalise_snils",
    "ogrn_check_digit",
    "ogrnip_check_digit",
    "random_bin",
    "random_iin",
    "random_inn",
    "random_ogrn",
    "random_ogrnip",
    "random_snils",
    "snils_check_number",
    "validate_bin",
    "validate_iin",
    "validate_inn",
    "validate_ogrn",
    "validate_ogrnip",
    "validate_snils",
]


class IdentifierKind(StrEnum):
    SNILS = "SNILS"
    IIN = "IIN"
    BIN = "BIN"
    OGRN = "OGRN"
    OGRNIP = "OGRNIP"
    INN = "INN"


class IdentifierError(ValueError):
    """An identifier failed validation. ``kind`` says which identifier, ``reason`` a stable code.

    The message never contains the identifier itself (it is personal data)."""

    reason: str = "INVALID"

    def __init__(self, kind: IdentifierKind, detail: str) -> None:
        super().__init__(f"invalid {kind.value}: {detail}")
        self.kind = kind
        self.detail = detail


class InvalidFormat(IdentifierError):
    """Wrong length, wrong characters or wrong separators."""

    reason = "FORMAT"


class InvalidChecksum(IdentifierError):
    """Well-formed, but the check digit(s) do not match."""

    reason = "CHECKSUM"


class InvalidContent(IdentifierError):
    """Checksum fine, but an embedded field (date, century/sex digit) is impossible."""

    reason = "CONTENT"


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


@dataclass(frozen=True, slots=True)
class IinInfo:
    """What an IIN says about its holder."""

    birth_date: date
    sex: Sex


def _digits(value: str) -> list[int]:
    return [ord(c) - 48 for c in value]


# --------------------------------------------------------------------------------------------- SNILS

# Accepts "12345678901", "123-456-789 01", "123-456-789-01", "123 456 789 01"; separators, if any,
# only at the canonical places (a stray hyphen elsewhere is more likely a different number).
_SNILS_RE: Final = re.compile(r"(\d{3})[- ]?(\d{3})[- ]?(\d{3})[- ]?(\d{2})")
_SNILS_CHECK_FROM: Final = 1_001_998  # the check applies to numbers strictly above 001-001-998
_SNILS_WEIGHTS: Final = (9, 8, 7, 6, 5, 4, 3, 2, 1)


def snils_check_number(number9: str) -> int:
    """The two-digit check number (0..99) for the 9-digit SNILS number ``number9``."""
    if len(number9) != 9 or not number9.isascii() or not number9.isdigit():
        raise InvalidFormat(IdentifierKind.SNILS, "the number part must be 9 digits")
    total = sum(w * d for w, d in zip(_SNILS_WEIGHTS, _digits(number9), strict=True))
    return (total % 101) % 100


def normalise_snils(value: str) -> str:
    """The 11 digits of a SNILS written with or without the usual separators; format only, no
    checksum. Raises InvalidFormat."""
    match = _SNILS_RE.fullmatch(value.strip())
    if match is None or not value.isascii():
        raise InvalidFormat(IdentifierKind.SNILS, "expected 11 digits, optionally as 123-456-789 01")
    return "".join(match.groups())


def format_snils(value: str) -> str:
    """``12345678901`` → ``123-456-789 01`` (format only, no checksum)."""
    d = normalise_snils(value)
    return f"{d[0:3]}-{d[3:6]}-{d[6:9]} {d[9:11]}"


def validate_snils(value: str) -> str:
    """Return the normalised 11-digit SNILS or raise InvalidFormat / InvalidChecksum.

    Numbers up to 001-001-998 are accepted with any check digits (issued before the checksum)."""
    d = normalise_snils(value)
    if int(d[:9]) > _SNILS_CHECK_FROM and snils_check_number(d[:9]) != int(d[9:]):
        raise InvalidChecksum(IdentifierKind.SNILS, "check number does not match")
    return d


def is_valid_snils(value: str) -> bool:
    try:
        validate_snils(value)
    except IdentifierError:
        return False
    return True


def mask_snils(value: str) -> str:
    """``123-456-789 01`` → ``***-***-*** 01``. Input that is not SNILS-shaped gives a full mask,
    so a malformed value cannot leak through the masker either."""
    try:
        d = normalise_snils(value)
    except IdentifierError:
        return "***-***-*** **"
    return f"***-***-*** {d[9:]}"


def random_snils(rng: random.Random, *, formatted: bool = False) -> str:
    """A valid SNILS whose number is above 001-001-998 (so its checksum really is checked)."""
    number = rng.randint(_SNILS_CHECK_FROM + 1, 999_999_999)
    n9 = f"{number:09d}"
    value = f"{n9}{snils_check_number(n9):02d}"
    return format_snils(value) if formatted else value


# ------------------------------------------------------------------------------------------ IIN/BIN

_IIN_W1: Final = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
_IIN_W2: Final = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
_TWELVE: Final = re.compile(r"\d{12}")
_CENTURY_BASE: Final = {1: 1800, 2: 1800, 3: 1900, 4: 1900, 5: 2000, 6: 2000}


def iin_check_digit(first11: str) -> int | None:
    """The check digit for the first eleven digits of an IIN/BIN, or None when both passes give
    10 (such numbers are never issued)."""
    if len(first11) != 11 or not first11.isascii() or not first11.isdigit():
        raise InvalidFormat(IdentifierKind.IIN, "expected 11 leading digits")
    d = _digits(first11)
    check = sum(w * x for w, x in zip(_IIN_W1, d, strict=True)) % 11
    if check == 10:
        check = sum(w * x for w, x in zip(_IIN_W2, d, strict=True)) % 11
        if check == 10:
            return None
    return check


def _validate_12(value: str, kind: IdentifierKind) -> str:
    v = value.strip()
    if not v.isascii() or _TWELVE.fullmatch(v) is None:
        raise InvalidFormat(kind, "expected exactly 12 digits")
    check = iin_check_digit(v[:11])
    if check is None:
        raise InvalidChecksum(kind, "the leading digits admit no check digit (never issued)")
    if check != int(v[11]):
        raise InvalidChecksum(kind, "check digit does not match")
    return v


def decode_iin(value: str) -> IinInfo:
    """Birth date and sex encoded in an IIN (digits 1–7). Checks format, not the checksum.

    Raises InvalidFormat, or InvalidContent for a century/sex digit outside 1..6 or an impossible
    date."""
    v = value.strip()
    if not v.isascii() or _TWELVE.fullmatch(v) is None:
        raise InvalidFormat(IdentifierKind.IIN, "expected exactly 12 digits")
    marker = int(v[6])
    if marker not in _CENTURY_BASE:
        raise InvalidContent(IdentifierKind.IIN, "century/sex digit must be 1..6")
    year = _CENTURY_BASE[marker] + int(v[0:2])
    try:
        born = date(year, int(v[2:4]), int(v[4:6]))
    except ValueError:
        raise InvalidContent(IdentifierKind.IIN, "digits 1-6 are not a valid date") from None
    return IinInfo(birth_date=born, sex=Sex.MALE if marker % 2 == 1 else Sex.FEMALE)


def validate_iin(value: str, *, check_content: bool = True) -> str:
    """Return the 12-digit IIN or raise. With ``check_content`` (default) the birth date and the
    century/sex digit must also decode."""
    v = _validate_12(value, IdentifierKind.IIN)
    if check_content:
        decode_iin(v)
    return v


def is_valid_iin(value: str, *, check_content: bool = True) -> bool:
    try:
        validate_iin(value, check_content=check_content)
    except IdentifierError:
        return False
    return True


def validate_bin(value: str) -> str:
    """Return the 12-digit BIN or raise (checksum only: the BIN's embedded registration month and
    entity-type digits have changed meaning over the years, so they are not judged here)."""
    return _validate_12(value, IdentifierKind.BIN)


def is_valid_bin(value: str) -> bool:
    try:
        validate_bin(value)
    except IdentifierError:
        return False
    return True


def mask_iin(value: str, *, keep: int = 4) -> str:
    """``900101300123`` → ``********0123`` (``keep`` = 2..4 trailing digits stay visible; the
    leading ones hold the birth date and sex). Non-IIN-shaped input gives a full mask."""
    if not 2 <= keep <= 4:
        raise ValueError("keep must be 2, 3 or 4")
    v = value.strip()
    if not v.isascii() or _TWELVE.fullmatch(v) is None:
        return "*" * 12
    return "*" * (12 - keep) + v[12 - keep :]


def _complete_12(rng: random.Random, prefix: str) -> str:
    """Append random digits and a check digit to ``prefix`` until a valid 12-digit number comes
    out (about 1 in 11 candidates admits no check digit and is redrawn)."""
    while True:
        body = prefix + "".join(rng.choice("0123456789") for _ in range(11 - len(prefix)))
        check = iin_check_digit(body)
        if check is not None:
            return f"{body}{check}"


def random_iin(rng: random.Random, birth_date: date | None = None, sex: Sex | None = None) -> str:
    """A valid IIN for someone born on ``birth_date`` (random 1900..2025 if None) of ``sex``
    (random if None). Birth years outside 1800..2099 cannot be encoded."""
    if birth_date is None:
        birth_date = date.fromordinal(rng.randint(date(1900, 1, 1).toordinal(), date(2025, 12, 31).toordinal()))
    if not 1800 <= birth_date.year <= 2099:
        raise ValueError("an IIN can encode birth years 1800..2099 only")
    if sex is None:
        sex = rng.choice([Sex.MALE, Sex.FEMALE])
    marker = 1 + 2 * ((birth_date.year - 1800) // 100) + (0 if sex is Sex.MALE else 1)
    return _complete_12(rng, f"{birth_date:%y%m%d}{marker}")


def random_bin(
    rng: random.Random,
    registered: date | None = None,
    entity_type: Literal[4, 5, 6] = 4,
    division: Literal[0, 1, 2, 3] = 0,
) -> str:
    """A valid BIN: YYMM of registration, entity type (4 resident legal entity, 5 non-resident,
    6 individual entrepreneur in joint venture), division (0 head office, 1 branch,
    2 representative office, 3 peasant farm), five serial digits, check digit."""
    if registered is None:
        registered = date(rng.randint(2000, 2025), rng.randint(1, 12), 1)
    return _complete_12(rng, f"{registered:%y%m}{entity_type}{division}")


# ----------------------------------------------------------------------------------- OGRN / OGRNIP


def ogrn_check_digit(first12: str) -> int:
    if len(first12) != 12 or not first12.isascii() or not first12.isdigit():
        raise InvalidFormat(IdentifierKind.OGRN, "expected 12 leading digits")
    return (int(first12) % 11) % 10


def ogrnip_check_digit(first14: str) -> int:
    if len(first14) != 14 or not first14.isascii() or not first14.isdigit():
        raise InvalidFormat(IdentifierKind.OGRNIP, "expected 14 leading digits")
    return (int(first14) % 13) % 10


def validate_ogrn(value: str) -> str:
    v = value.strip()
    if not v.isascii() or re.fullmatch(r"\d{13}", v) is None:
        raise InvalidFormat(IdentifierKind.OGRN, "expected exactly 13 digits")
    if ogrn_check_digit(v[:12]) != int(v[12]):
        raise InvalidChecksum(IdentifierKind.OGRN, "check digit does not match")
    return v


def validate_ogrnip(value: str) -> str:
    v = value.strip()
    if not v.isascii() or re.fullmatch(r"\d{15}", v) is None:
        raise InvalidFormat(IdentifierKind.OGRNIP, "expected exactly 15 digits")
    if ogrnip_check_digit(v[:14]) != int(v[14]):
        raise InvalidChecksum(IdentifierKind.OGRNIP, "check digit does not match")
    return v


def is_valid_ogrn(value: str) -> bool:
    try:
        validate_ogrn(value)
    except IdentifierError:
        return False
    return True


def is_valid_ogrnip(value: str) -> bool:
    try:
        validate_ogrnip(value)
    except IdentifierError:
        return False
    return True


def random_ogrn(rng: random.Random) -> str:
    """A valid OGRN: sign 1 or 5 (a legal entity's primary registration number), year, region,
    serial, check digit."""
    body = rng.choice("15") + "".join(rng.choice("0123456789") for _ in range(11))
    return f"{body}{ogrn_check_digit(body)}"


def random_ogrnip(rng: random.Random) -> str:
    """A valid OGRNIP: sign 3 (an individual entrepreneur's primary registration), 13 digits,
    check digit."""
    body = "3" + "".join(rng.choice("0123456789") for _ in range(13))
    return f"{body}{ogrnip_check_digit(body)}"


# --------------------------------------------------------------------------------------------- INN

_INN10_W: Final = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_W1: Final = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_W2: Final = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _weighted_mod(weights: tuple[int, ...], digits: list[int]) -> int:
    return (sum(w * d for w, d in zip(weights, digits, strict=True)) % 11) % 10


def inn_check_digits(body: str) -> str:
    """The check digit(s) for an INN body: 9 digits → 1 check digit (10-digit INN), 10 digits →
    2 check digits (12-digit INN)."""
    if not body.isascii() or not body.isdigit() or len(body) not in (9, 10):
        raise InvalidFormat(IdentifierKind.INN, "expected a 9- or 10-digit INN body")
    d = _digits(body)
    if len(d) == 9:
        return str(_weighted_mod(_INN10_W, d))
    c11 = _weighted_mod(_INN12_W1, d)
    c12 = _weighted_mod(_INN12_W2, [*d, c11])
    return f"{c11}{c12}"


def validate_inn(value: str) -> str:
    """Return the 10- or 12-digit INN or raise InvalidFormat / InvalidChecksum."""
    v = value.strip()
    if not v.isascii() or re.fullmatch(r"\d{10}|\d{12}", v) is None:
        raise InvalidFormat(IdentifierKind.INN, "expected 10 or 12 digits")
    body_len = 9 if len(v) == 10 else 10
    if inn_check_digits(v[:body_len]) != v[body_len:]:
        raise InvalidChecksum(IdentifierKind.INN, "check digit(s) do not match")
    return v


def is_valid_inn(value: str) -> bool:
    try:
        validate_inn(value)
    except IdentifierError:
        return False
    return True


def random_inn(rng: random.Random, *, length: Literal[10, 12] = 10) -> str:
    """A valid INN of an organisation (10 digits) or an individual (12 digits). The first two
    digits (the tax office's region) are 01..99."""
    region = f"{rng.randint(1, 99):02d}"
    body = region + "".join(rng.choice("0123456789") for _ in range(7 if length == 10 else 8))
    return body + inn_check_digits(body)

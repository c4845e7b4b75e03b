"""Identifier checksums: published examples, hand-computed edge cases, and properties.

Hand computations are written next to each constructed value so a reader can re-check them
without trusting the implementation.
"""

from __future__ import annotations

import random
from datetime import date

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from gateway.documents import identifiers as ids
from gateway.documents.identifiers import (
    IdentifierError,
    IdentifierKind,
    InvalidChecksum,
    InvalidContent,
    InvalidFormat,
    Sex,
)

# ------------------------------------------------------------------------------------------ SNILS


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        # The example used throughout Russian documentation of the algorithm:
        # 1*9+1*8+2*7+2*6+3*5+3*4+4*3+4*2+5*1 = 95 -> "95".
        ("112-233-445 95", True),
        ("11223344595", True),
        ("112-233-445-95", True),
        ("112 233 445 95", True),
        ("112-233-445 96", False),
        ("112-233-445 59", False),
        # sum = 100 -> "00": 0*9+0*8+1*7+0*6+1*5+9*4+9*3+9*2+7*1 = 7+5+36+27+18+7 = 100
        ("001-019-997 00", True),
        # sum = 101 -> 101 mod 101 = 0 -> "00"
        ("001-019-998 00", True),
        ("001-019-998 01", False),
        # sum > 101: 9-9-9... 999999999: 9*(9+8+...+1) = 405; 405 mod 101 = 1 -> "01"
        ("999-999-999 01", True),
        ("999-999-999 00", False),
        # numbers up to 001-001-998 predate the checksum: any check digits are accepted
        ("001-001-998 77", True),
        ("000-000-001 42", True),
        # 001-001-999 is the first checked number: 1*7+1*4+9*3+9*2+9*1 = 65
        ("001-001-999 65", True),
        ("001-001-999 66", False),
    ],
)
def test_snils_table(value: str, valid: bool) -> None:
    assert ids.is_valid_snils(value) is valid


@pytest.mark.parametrize(
    "value",
    ["", "1122334459", "112233445950", "11-2233-44595", "abc-def-ghi 12", "١١٢٢٣٣٤٤٥٩٥"],
)
def test_snils_format_errors(value: str) -> None:
    with pytest.raises(InvalidFormat) as info:
        ids.validate_snils(value)
    assert info.value.kind is IdentifierKind.SNILS
    assert isinstance(info.value, ValueError)


def test_snils_errors_do_not_echo_the_number() -> None:
    with pytest.raises(InvalidChecksum) as info:
        ids.validate_snils("112-233-445 96")
    assert "112" not in str(info.value) and "96" not in str(info.value)
    assert info.value.reason == "CHECKSUM"


def test_snils_normalise_and_format() -> None:
    assert ids.validate_snils(" 112-233-445 95 ") == "11223344595"
    assert ids.format_snils("11223344595") == "112-233-445 95"


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("123-456-789 01", "***-***-*** 01"),
        ("12345678901", "***-***-*** 01"),
        ("not a snils", "***-***-*** **"),
        ("123-456-78", "***-***-*** **"),
    ],
)
def test_mask_snils(value: str, masked: str) -> None:
    assert ids.mask_snils(value) == masked


@given(st.randoms(use_true_random=False))
def test_random_snils_validates(rng: random.Random) -> None:
    value = ids.random_snils(rng)
    assert ids.is_valid_snils(value)
    assert int(value[:9]) > 1_001_998
    assert ids.is_valid_snils(ids.random_snils(rng, formatted=True))


def _snils_sum(number9: str) -> int:
    return sum(w * int(c) for w, c in zip(range(9, 0, -1), number9, strict=True))


@given(st.randoms(use_true_random=False), st.integers(0, 10), st.integers(1, 9))
def test_snils_single_digit_change(rng: random.Random, position: int, delta: int) -> None:
    """The precise truth: among checked numbers (> 001-001-998), a one-digit change is detected
    except a +-1 change of the 9th digit that moves the weighted sum's residue mod 101 between
    100 and 0 (both are written "00"). Weights are 1..9 and |delta| <= 9, so the sum moves by
    1..81 < 101: no other collision is possible."""
    value = ids.random_snils(rng)
    new_digit = (int(value[position]) + delta) % 10
    changed = value[:position] + str(new_digit) + value[position + 1 :]
    assume(int(changed[:9]) > 1_001_998)
    collides = (
        position == 8
        and abs(new_digit - int(value[8])) == 1
        and {_snils_sum(value[:9]) % 101, _snils_sum(changed[:9]) % 101} == {0, 100}
    )
    assert ids.is_valid_snils(changed) is collides


def test_snils_collision_class_exists() -> None:
    # 001-019-997 (sum 100) and 001-019-998 (sum 101) share the check "00": one digit apart.
    assert ids.is_valid_snils("00101999700") and ids.is_valid_snils("00101999800")


# --------------------------------------------------------------------------------------- IIN / BIN


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        # 9*1+0*2+0*3+1*4+0*5+1*6+3*7+0*8+0*9+1*10+2*11 = 9+4+6+21+10+22 = 72; 72 mod 11 = 6
        ("900101300126", True),
        ("900101300125", False),
        # first pass: 0*1+0*2+0*3+0*4+0*5+0*6+0*7+0*8+0*9+1*10+0*11 = 10 -> second pass with
        # weights 3..11,1,2: 1*1 = 1 -> check digit 1
        ("000000000101", True),
        ("000000000100", False),
        # first pass: 1*1 + 1*10 = 11 -> 0, resolved in the first pass
        ("100000000100", True),
    ],
)
def test_iin_checksum_table(value: str, valid: bool) -> None:
    assert ids.is_valid_iin(value, check_content=False) is valid
    assert ids.is_valid_bin(value) is valid


def test_iin_never_issued_numbers() -> None:
    # Take the first 11-digit body the implementation calls "never issued" and re-check both
    # passes from the definition.
    body = next(f"{n:011d}" for n in range(10**6) if ids.iin_check_digit(f"{n:011d}") is None)
    d = [int(c) for c in body]
    pass1 = sum(w * x for w, x in zip(range(1, 12), d, strict=True)) % 11
    pass2 = sum(w * x for w, x in zip((3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2), d, strict=True)) % 11
    assert (pass1, pass2) == (10, 10)
    for last in "0123456789":
        with pytest.raises(InvalidChecksum):
            ids.validate_bin(body + last)


def test_iin_from_nca_test_certificates_is_not_checksum_valid() -> None:
    # The Kazakh NCA *test* certificates (shared/reference/nca-test/README.md) carry the
    # placeholder IIN123456789011 / BIN123456789021; neither passes the checksum, so a role
    # check that insists on a valid checksum would reject the official test material.
    assert not ids.is_valid_iin("123456789011", check_content=False)
    assert not ids.is_valid_bin("123456789021")


@pytest.mark.parametrize(
    ("value", "birth", "sex"),
    [
        ("900101300126", date(1990, 1, 1), Sex.MALE),
        ("051231600000", date(2005, 12, 31), Sex.FEMALE),
        ("991231100000", date(1899, 12, 31), Sex.MALE),
        ("000229500000", date(2000, 2, 29), Sex.MALE),
    ],
)
def test_decode_iin(value: str, birth: date, sex: Sex) -> None:
    info = ids.decode_iin(value)
    assert (info.birth_date, info.sex) == (birth, sex)


@pytest.mark.parametrize("value", ["900230300000", "901301300000", "900101000000", "900101700000"])
def test_decode_iin_rejects_impossible_content(value: str) -> None:
    with pytest.raises(InvalidContent):
        ids.decode_iin(value)


def test_validate_iin_checks_content_unless_told_not_to() -> None:
    # 1900-02-30 does not exist; build a checksum-valid number around it.
    body = "9002303" + "0000"
    check = ids.iin_check_digit(body)
    assert check is not None
    value = f"{body}{check}"
    assert ids.is_valid_iin(value, check_content=False)
    assert not ids.is_valid_iin(value)


@pytest.mark.parametrize(("keep", "masked"), [(4, "********0126"), (3, "*********126"), (2, "**********26")])
def test_mask_iin(keep: int, masked: str) -> None:
    assert ids.mask_iin("900101300126", keep=keep) == masked


def test_mask_iin_never_leaks_malformed_input() -> None:
    assert ids.mask_iin("90010130012") == "*" * 12
    with pytest.raises(ValueError):
        ids.mask_iin("900101300126", keep=6)


@given(
    st.randoms(use_true_random=False),
    st.dates(min_value=date(1800, 1, 1), max_value=date(2099, 12, 31)),
    st.sampled_from(Sex),
)
def test_random_iin_validates_and_decodes(rng: random.Random, born: date, sex: Sex) -> None:
    value = ids.random_iin(rng, born, sex)
    assert ids.is_valid_iin(value)
    info = ids.decode_iin(value)
    assert (info.birth_date, info.sex) == (born, sex)


def _first_pass(value: str) -> int:
    return sum(w * int(c) for w, c in zip(range(1, 12), value[:11], strict=True)) % 11


@given(st.randoms(use_true_random=False), st.integers(0, 11), st.integers(1, 9))
def test_iin_single_digit_change_first_pass(rng: random.Random, position: int, delta: int) -> None:
    """What is actually true: when neither number needs the second pass, a change at positions
    1-10 or 12 is always detected (weights 1..10 are invertible mod 11), and a change at
    position 11 is NEVER detected (weight 11 = 0 mod 11)."""
    value = ids.random_iin(rng)
    changed = value[:position] + str((int(value[position]) + delta) % 10) + value[position + 1 :]
    assume(_first_pass(value) != 10 and _first_pass(changed) != 10)
    undetected = ids.is_valid_iin(changed, check_content=False)
    assert undetected is (position == 10)


def test_iin_second_pass_collisions_exist() -> None:
    # Found by search and re-checked here from the definition: a change in position 3 that the
    # checksum cannot see because one of the two numbers needs the second pass.
    a, b = "240210341771", "243210341771"
    assert ids.is_valid_iin(a, check_content=False) and ids.is_valid_iin(b, check_content=False)
    assert 10 in (_first_pass(a), _first_pass(b))


@given(st.randoms(use_true_random=False))
def test_random_bin_validates(rng: random.Random) -> None:
    value = ids.random_bin(rng, date(2021, 7, 1), entity_type=4, division=1)
    assert ids.is_valid_bin(value)
    assert value[:6] == "210741"


# ------------------------------------------------------------------------------- OGRN / OGRNIP / INN


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        # Sberbank's OGRN, published in its charter and the state register:
        # 102770013219 mod 11 = 5 -> 5
        ("1027700132195", True),
        ("1027700132194", False),
        ("102770013219", False),
    ],
)
def test_ogrn_table(value: str, valid: bool) -> None:
    assert ids.is_valid_ogrn(value) is valid


def test_ogrn_residue_ten_maps_to_zero() -> None:
    # 12-digit body ≡ 10 (mod 11): the check digit is 0, same as for residue 0.
    body = next(f"{n:012d}" for n in range(10**11, 10**11 + 100) if n % 11 == 10)
    assert ids.ogrn_check_digit(body) == 0
    assert ids.is_valid_ogrn(body + "0")


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        # A commonly published sample OGRNIP: 30450011600015 mod 13 = 7 -> 7
        ("304500116000157", True),
        ("304500116000158", False),
        ("30450011600015", False),
    ],
)
def test_ogrnip_table(value: str, valid: bool) -> None:
    assert ids.is_valid_ogrnip(value) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        # Sberbank INN: 7*2+7*4+0*10+7*3+0*5+8*9+3*4+8*6+9*8 = 14+28+21+72+12+48+72 = 267;
        # 267 mod 11 = 3 -> 3
        ("7707083893", True),
        ("7707083894", False),
        # A widely used sample individual INN: 500100732259
        ("500100732259", True),
        ("500100732258", False),
        ("500100732269", False),
        ("77070838", False),
        ("77070838931", False),
    ],
)
def test_inn_table(value: str, valid: bool) -> None:
    assert ids.is_valid_inn(value) is valid


def test_inn_twelve_by_hand() -> None:
    # 5*7+0*2+0*4+1*10+0*3+0*5+7*9+3*4+2*6+2*8 = 35+10+63+12+12+16 = 148; 148 mod 11 = 5
    # then 5*3+0*7+0*2+1*4+0*10+0*3+7*5+3*9+2*4+2*6+5*8 = 15+4+35+27+8+12+40 = 141; mod 11 = 9
    assert ids.inn_check_digits("5001007322") == "59"


@given(st.randoms(use_true_random=False))
def test_generated_org_identifiers_validate(rng: random.Random) -> None:
    assert ids.is_valid_ogrn(ids.random_ogrn(rng))
    assert ids.is_valid_ogrnip(ids.random_ogrnip(rng))
    assert ids.is_valid_inn(ids.random_inn(rng, length=10))
    assert ids.is_valid_inn(ids.random_inn(rng, length=12))


@given(st.text(max_size=20))
def test_validators_raise_only_identifier_errors(text: str) -> None:
    """Arbitrary input either validates or raises the documented error family, never anything
    else, and the bool form agrees (a log masker or an FLK rule relies on both)."""
    pairs = [
        (ids.validate_snils, ids.is_valid_snils),
        (ids.validate_iin, ids.is_valid_iin),
        (ids.validate_bin, ids.is_valid_bin),
        (ids.validate_ogrn, ids.is_valid_ogrn),
        (ids.validate_ogrnip, ids.is_valid_ogrnip),
        (ids.validate_inn, ids.is_valid_inn),
    ]
    for validate, is_valid in pairs:
        try:
            validate(text)
            accepted = True
        except IdentifierError:
            accepted = False
        assert accepted is is_valid(text)
    assert ids.mask_snils(text).startswith("***-***-***")
    assert len(ids.mask_iin(text)) == 12

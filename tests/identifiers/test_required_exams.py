"""The required-examinations table (order 402н/631н) and its ICD-10 matching."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.flk.required_exams import (
    COLUMNS,
    ExamGroup,
    Icd10Range,
    RequiredExamsError,
    groups_for_icd10,
    load_required_exams,
    missing_exams,
    normalise_icd10,
)

TABLE = Path(__file__).resolve().parents[2] / "config" / "required_exams_ru.tsv"


@pytest.fixture(scope="module")
def groups() -> list[ExamGroup]:
    return load_required_exams(TABLE)


def test_shipped_table_loads(groups: list[ExamGroup]) -> None:
    assert len(groups) >= 10
    assert len({g.group_id for g in groups}) == len(groups)
    for group in groups:
        assert group.required_exams, group.group_id
        # Nothing in the shipped table has been checked against the order's text yet; the
        # README says so, and FLK must treat these rows as advisory. Flip this when rows are.
        assert group.verified is False
    # ranges do not overlap between groups of the same section (a diagnosis picks one group)
    codes = [f"{letter}{n:02d}.{s}" for letter in "ACEFGHIJMN" for n in range(100) for s in range(10)]
    for code in codes:
        assert len(groups_for_icd10(code, groups, section="adult")) <= 1, code


@pytest.mark.parametrize(
    ("code", "group_id"),
    [
        ("I21.0", "ru-a-ischaemic-heart-disease"),
        ("I25", "ru-a-ischaemic-heart-disease"),
        ("I20.9", "ru-a-ischaemic-heart-disease"),
        ("I26.0", None),
        ("I19", None),
        ("С34.1", "ru-a-malignant-neoplasms"),  # Cyrillic Es
        ("c97", "ru-a-malignant-neoplasms"),
        ("D00.0", None),
        ("e119", "ru-a-diabetes"),
        ("G35", "ru-a-multiple-sclerosis"),
        ("G36.0", None),
        ("H40.1", "ru-a-glaucoma"),
        ("H91.9", "ru-a-hearing-loss"),
        ("N18.5", "ru-a-chronic-kidney-disease"),
        ("A19.9", "ru-a-tuberculosis"),
        ("A20", None),
    ],
)
def test_groups_for_icd10(groups: list[ExamGroup], code: str, group_id: str | None) -> None:
    found = [g.group_id for g in groups_for_icd10(code, groups)]
    assert found == ([group_id] if group_id else [])


def test_section_filter(groups: list[ExamGroup]) -> None:
    assert groups_for_icd10("I21.0", groups, section="child") == []


def test_missing_exams(groups: list[ExamGroup]) -> None:
    ihd = next(g for g in groups if g.group_id == "ru-a-ischaemic-heart-disease")
    missing = missing_exams(ihd, ["A05.10.006", " A04.10.002 "])
    assert "A05.10.006" not in {e.code for e in missing}
    assert "A04.10.002" not in {e.code for e in missing}
    assert {e.code for e in missing} == {e.code for e in ihd.required_exams} - {"A05.10.006", "A04.10.002"}
    assert missing_exams(ihd, [e.code for e in ihd.required_exams]) == []


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("I21.0", "I21.0"),
        (" i210 ", "I21.0"),
        ("С34.1", "C34.1"),
        ("G63.2*", "G63.2"),
        ("A15.0+", "A15.0"),
        ("Е11", "E11"),
        ("Q71.01", "Q71.01"),
    ],
)
def test_normalise_icd10(raw: str, normalised: str) -> None:
    assert normalise_icd10(raw) == normalised


@pytest.mark.parametrize("raw", ["", "I2", "21.0", "I21.", "I21.123", "II21", "I21-I25", "Ы21"])
def test_normalise_icd10_rejects(raw: str) -> None:
    with pytest.raises(RequiredExamsError):
        normalise_icd10(raw)


@pytest.mark.parametrize(
    ("range_text", "code", "inside"),
    [
        ("Q71.0-Q71.3", "Q71.0", True),
        ("Q71.0-Q71.3", "Q71.3", True),
        ("Q71.0-Q71.3", "Q71.31", True),
        ("Q71.0-Q71.3", "Q71.4", False),
        ("Q71.0-Q71.3", "Q71", False),  # only part of Q71 is in the range
        ("Q71.0-Q71.3", "Q70.9", False),
        ("I20-I25", "I25.9", True),
        ("I20-I25", "I20", True),
        ("I20-I25", "I26", False),
        ("S68-S68.9", "S68.4", True),
        ("S68-S68.9", "S68", True),  # the whole category: .0-.9 all inside
        ("G35", "G35.1", True),
        ("G35", "G35", True),
        ("S48.0", "S48.0", True),
        ("S48.0", "S48.1", False),
        ("S48.0", "S48", False),
        ("C00-D09", "C97", True),
        ("C00-D09", "D09.9", True),
        ("C00-D09", "D10", False),
    ],
)
def test_range_containment(range_text: str, code: str, inside: bool) -> None:
    assert Icd10Range.parse(range_text).contains(normalise_icd10(code)) is inside


def test_backwards_range_is_refused() -> None:
    with pytest.raises(RequiredExamsError, match="backwards"):
        Icd10Range.parse("I25-I20")


# ----------------------------------------------------------------------------- malformed tables


def _write(tmp_path: Path, rows: list[list[str]], header: tuple[str, ...] = COLUMNS) -> Path:
    path = tmp_path / "t.tsv"
    path.write_text("\n".join("\t".join(r) for r in [list(header), *rows]) + "\n", encoding="utf-8")
    return path


GOOD = ["g1", "adult", "I20-I25", "ИБС", "A04.10.002 Эхокардиография", "src", "yes", ""]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({1: "elderly"}, "section"),
        ({2: "I20-XX"}, "not an ICD-10 code"),
        ({2: ""}, "no ICD-10 codes"),
        ({4: "Эхокардиография"}, "CODE name"),
        ({4: "A04.10.002 Эхо; A04.10.002 Эхо"}, "twice"),
        ({6: "maybe"}, "verified"),
        ({0: ""}, "must not be empty"),
    ],
)
def test_malformed_rows_are_reported_with_line(tmp_path: Path, change: dict[int, str], message: str) -> None:
    row = list(GOOD)
    for index, value in change.items():
        row[index] = value
    with pytest.raises(RequiredExamsError, match=message) as info:
        load_required_exams(_write(tmp_path, [GOOD, row]))
    assert ":3:" in str(info.value)


def test_duplicate_group_and_bad_header(tmp_path: Path) -> None:
    with pytest.raises(RequiredExamsError, match="duplicate"):
        load_required_exams(_write(tmp_path, [GOOD, GOOD]))
    with pytest.raises(RequiredExamsError, match="header"):
        load_required_exams(_write(tmp_path, [GOOD], header=COLUMNS[:-1]))
    with pytest.raises(RequiredExamsError, match="columns"):
        load_required_exams(_write(tmp_path, [GOOD[:-2]]))


def test_comma_separated_codes_as_in_the_kz_reference(tmp_path: Path) -> None:
    row = list(GOOD)
    row[2] = "S48, S48.0, S48.1; S68-S68.9; T05-T05.9"
    (group,) = load_required_exams(_write(tmp_path, [row]))
    assert [str(r) for r in group.icd10] == ["S48", "S48.0", "S48.1", "S68-S68.9", "T05-T05.9"]
    assert group.covers("T05.3") and not group.covers("T06")


# ---------------------------------------------------------------------------------- properties

LETTERS = "ABQ"
categories = st.builds(lambda letter, n: f"{letter}{n:02d}", st.sampled_from(LETTERS), st.integers(0, 99))
subs = st.sampled_from(["", *map(str, range(10))])
codes = st.builds(lambda cat, sub: f"{cat}.{sub}" if sub else cat, categories, subs)


def _leaves(code: str) -> list[tuple[str, str]]:
    category, _, sub = code.partition(".")
    return [(category, sub)] if sub else [(category, str(d)) for d in range(10)]


@given(codes, codes, codes)
def test_containment_equals_leaf_set_inclusion(a: str, b: str, code: str) -> None:
    """An independent formulation: a code is in a range iff every one-digit leaf it stands for
    lies between the range's first and last leaf."""
    lo, hi = sorted([a, b], key=lambda c: (c.partition(".")[0], c.partition(".")[2]))
    first, last = _leaves(lo)[0], _leaves(hi)[-1]
    expected = all(first <= leaf <= last for leaf in _leaves(code))
    assert Icd10Range.parse(f"{lo}-{hi}").contains(code) is expected


@given(codes)
def test_lookup_ignores_spelling(code: str) -> None:
    groups = load_required_exams(TABLE)
    variants = [code, code.lower(), f"  {code} ", code.replace(".", ""), code.replace("A", "А").replace("B", "В")]
    results = [[g.group_id for g in groups_for_icd10(v, groups)] for v in variants]
    assert all(r == results[0] for r in results)


def test_every_one_digit_code_of_a_category_is_in_its_single_code_range() -> None:
    for letter, n in itertools.product("GN", (35, 18)):
        rng = Icd10Range.parse(f"{letter}{n}")
        assert all(rng.contains(f"{letter}{n}.{d}") for d in range(10))

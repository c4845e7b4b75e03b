"""Required examinations per disease group for an MSE referral (Russia, order 402н/631н).

After registration the bureau checks that the referral's examinations match the list required for
the patient's disease (joint order of the Ministry of Labour No 402н and the Ministry of Health
No 631н of 10.06.2021). The list is data, kept in ``config/required_exams_ru.tsv`` (format and
provenance in ``config/README-required-exams.md``), so that it can be corrected or replaced by the
ministry's own directory (FNSI 1.2.643.5.1.13.13.99.2.857) without a code change.

ICD-10 matching: a group lists codes and ranges (``I20-I25``, ``G35``, ``Q71.0-Q71.3``; separated
by ``;`` or ``,``). A single code covers itself and everything below it (``G35`` covers ``G35.0``);
a range covers every code from its start to its end, both included, an end without a subcode
covering the whole end category (``I20-I25`` covers ``I25.9``). A code is looked up after
normalisation: upper case, Cyrillic look-alike letters replaced by Latin ones (``С34.1`` typed with
a Cyrillic Es is ``C34.1``), a missing dot restored (``I210`` → ``I21.0``), dagger/asterisk marks
dropped. A category-only code (``Q71``) is *not* in a range that covers only part of that category
(``Q71.0-Q71.3``): the group cannot be decided from it.

Exam codes are those of the Russian nomenclature of medical services (order 804н; FNSI
1.2.643.5.1.13.13.11.1070), e.g. ``A04.10.002`` (echocardiography), the coding SEMD kind 121 and
the FNSI directory above use.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

__all__ = [
    "COLUMNS",
    "Exam",
    "ExamGroup",
    "Icd10Range",
    "RequiredExamsError",
    "groups_for_icd10",
    "load_required_exams",
    "missing_exams",
    "normalise_icd10",
]

COLUMNS: Final = (
    "group_id",
    "section",
    "icd10_codes",
    "group_name_ru",
    "required_exams",
    "source",
    "verified",
    "note",
)

# Cyrillic letters that look like Latin ICD-10 chapter letters and turn up in MIS data.
_LOOKALIKES: Final = str.maketrans("АВСЕНКМОРТХ", "ABCEHKMOPTX")
_ICD10: Final = re.compile(r"([A-Z])(\d{2})(?:\.?(\d{1,2}))?")
_EXAM: Final = re.compile(r"([AB]\d{2}\.\d{2,3}\.\d{3}(?:\.\d{3})?)\s+(\S.*)")


class RequiredExamsError(ValueError):
    """The table is malformed (the message names the line), or an ICD-10 code is not valid."""


def normalise_icd10(code: str) -> str:
    """``" с34.1* "`` → ``"C34.1"``; raises RequiredExamsError for anything that is not an ICD-10
    category or subcategory."""
    cleaned = code.strip().upper().translate(_LOOKALIKES).rstrip("*+†")
    match = _ICD10.fullmatch(cleaned)
    if match is None:
        raise RequiredExamsError(f"not an ICD-10 code: {code!r}")
    letter, number, sub = match.groups()
    return f"{letter}{number}.{sub}" if sub else f"{letter}{number}"


def _split(code: str) -> tuple[str, str]:
    category, _, sub = code.partition(".")
    return category, sub


@dataclass(frozen=True, slots=True)
class Icd10Range:
    """An inclusive range of ICD-10 codes; ``start == end`` for a single code."""

    start: str
    end: str

    @classmethod
    def parse(cls, text: str) -> Icd10Range:
        lo, sep, hi = text.partition("-")
        start = normalise_icd10(lo)
        end = normalise_icd10(hi) if sep else start
        if _split(start) > _split(end):
            raise RequiredExamsError(f"ICD-10 range runs backwards: {text!r}")
        return cls(start, end)

    def contains(self, code: str) -> bool:
        """Whether the (normalised) ``code`` lies wholly inside this range."""
        category, sub = _split(code)
        lo_category, lo_sub = _split(self.start)
        hi_category, hi_sub = _split(self.end)
        if not lo_category <= category <= hi_category:
            return False
        # A whole category (no subcode) stands for all its subcodes .0-.9: it is inside only if the
        # bound covers them all.
        if category == lo_category and lo_sub and (sub < lo_sub if sub else lo_sub > "0"):
            return False
        # A bound's subcode covers the codes below it (I21.1 covers I21.10), hence the prefix test.
        if category == hi_category and hi_sub:
            if not sub:
                return hi_sub >= "9"
            return not (sub > hi_sub and not sub.startswith(hi_sub))
        return True

    def __str__(self) -> str:
        return self.start if self.start == self.end else f"{self.start}-{self.end}"


@dataclass(frozen=True, slots=True)
class Exam:
    """One examination: nomenclature-of-medical-services code and its name."""

    code: str
    name: str


@dataclass(frozen=True, slots=True)
class ExamGroup:
    """One disease group of the list with the examinations a referral for it must contain.

    ``verified`` is False for rows not yet checked against the order's text: an FLK rule should
    warn, not reject, on those."""

    group_id: str
    section: Literal["adult", "child"]
    icd10: tuple[Icd10Range, ...]
    name_ru: str
    required_exams: tuple[Exam, ...]
    source: str
    verified: bool
    note: str

    def covers(self, code: str) -> bool:
        normalised = normalise_icd10(code)
        return any(r.contains(normalised) for r in self.icd10)


def _parse_exams(text: str, where: str) -> tuple[Exam, ...]:
    exams = []
    for item in (part.strip() for part in text.split(";")):
        match = _EXAM.fullmatch(item)
        if match is None:
            raise RequiredExamsError(f"{where}: exam {item!r} is not 'CODE name' with a services-nomenclature code")
        exams.append(Exam(match.group(1), match.group(2).strip()))
    codes = [e.code for e in exams]
    if len(set(codes)) != len(codes):
        raise RequiredExamsError(f"{where}: an exam code is listed twice")
    return tuple(exams)


def _parse_row(row: dict[str, str], where: str) -> ExamGroup:
    section = row["section"]
    if section not in ("adult", "child"):
        raise RequiredExamsError(f"{where}: section must be 'adult' or 'child', not {section!r}")
    if row["verified"] not in ("yes", "no"):
        raise RequiredExamsError(f"{where}: verified must be 'yes' or 'no'")
    if not row["group_id"] or not row["group_name_ru"] or not row["source"]:
        raise RequiredExamsError(f"{where}: group_id, group_name_ru and source must not be empty")
    try:
        ranges = tuple(Icd10Range.parse(p) for p in re.split(r"[;,]", row["icd10_codes"]) if p.strip())
    except RequiredExamsError as exc:
        raise RequiredExamsError(f"{where}: {exc}") from None
    if not ranges:
        raise RequiredExamsError(f"{where}: no ICD-10 codes")
    return ExamGroup(
        group_id=row["group_id"],
        section="adult" if section == "adult" else "child",
        icd10=ranges,
        name_ru=row["group_name_ru"],
        required_exams=_parse_exams(row["required_exams"], where),
        source=row["source"],
        verified=row["verified"] == "yes",
        note=row["note"],
    )


def load_required_exams(path: str | Path) -> list[ExamGroup]:
    """Read and validate the TSV table; raises RequiredExamsError naming the offending line."""
    groups: list[ExamGroup] = []
    seen: set[str] = set()
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise RequiredExamsError(f"{path}: header must be the columns {', '.join(COLUMNS)}, tab-separated")
        for row in reader:
            where = f"{path}:{reader.line_num}"
            if None in row or any(v is None for v in row.values()):
                raise RequiredExamsError(f"{where}: expected {len(COLUMNS)} tab-separated columns")
            group = _parse_row(row, where)
            if group.group_id in seen:
                raise RequiredExamsError(f"{where}: duplicate group_id {group.group_id!r}")
            seen.add(group.group_id)
            groups.append(group)
    return groups


def groups_for_icd10(
    code: str, groups: Iterable[ExamGroup], *, section: Literal["adult", "child"] | None = None
) -> list[ExamGroup]:
    """The groups whose ICD-10 codes cover ``code`` (optionally of one section), in table order.

    Raises RequiredExamsError if ``code`` is not an ICD-10 code."""
    normalised = normalise_icd10(code)
    return [
        g for g in groups if (section is None or g.section == section) and any(r.contains(normalised) for r in g.icd10)
    ]


def missing_exams(group: ExamGroup, performed_codes: Sequence[str]) -> list[Exam]:
    """The group's required exams whose codes are not among ``performed_codes``."""
    done = {c.strip() for c in performed_codes}
    return [e for e in group.required_exams if e.code not in done]

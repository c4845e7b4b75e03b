"""The Kazakh pilot's nosology groups and their mandatory examinations (``config/kz_nosologies.tsv``).

Format and provenance: config/README-kz-nosologies.md. ICD-10 codes and ranges are read with the
same matcher as the Russian list (:class:`gateway.flk.required_exams.Icd10Range`).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from gateway.flk.required_exams import Icd10Range, RequiredExamsError, normalise_icd10

__all__ = ["KZ_COLUMNS", "KzGroup", "KzNosologyError", "load_kz_nosologies"]

KZ_COLUMNS: Final = (
    "group_id",
    "icd10_codes",
    "group_name_ru",
    "age",
    "mandatory_exam_codes",
    "mandatory_examinations",
    "optional_examinations",
    "source",
    "verified",
    "note",
)
_CODE: Final = re.compile(r"[A-Z][A-Z0-9_]*")


class KzNosologyError(ValueError):
    """The table is malformed (the message names the line)."""


@dataclass(frozen=True, slots=True)
class KzGroup:
    """One nosology group: which diagnoses it covers and which examinations it requires.

    ``requirements[i]`` is a set of alternative exam codes (any one satisfies it) named
    ``requirement_names[i]``."""

    group_id: str
    icd10: tuple[Icd10Range, ...]
    name_ru: str
    age: Literal["any", "child"]
    requirements: tuple[frozenset[str], ...]
    requirement_names: tuple[str, ...]
    source: str
    verified: bool

    def covers(self, code: str) -> bool:
        """Whether ICD-10 ``code`` is in the group (RequiredExamsError if it is not a code)."""
        normalised = normalise_icd10(code)
        return any(r.contains(normalised) for r in self.icd10)

    def unmet(self, performed: Iterable[str]) -> list[str]:
        """Names of the requirements none of whose codes is among ``performed``."""
        done = {c.strip() for c in performed}
        return [name for alts, name in zip(self.requirements, self.requirement_names, strict=True) if not alts & done]


def _row(row: Mapping[str, str], where: str) -> KzGroup:
    if row["age"] not in ("any", "child"):
        raise KzNosologyError(f"{where}: age must be 'any' or 'child'")
    if row["verified"] not in ("yes", "no"):
        raise KzNosologyError(f"{where}: verified must be 'yes' or 'no'")
    try:
        ranges = tuple(Icd10Range.parse(p) for p in re.split(r"[;,]", row["icd10_codes"]) if p.strip())
    except RequiredExamsError as exc:
        raise KzNosologyError(f"{where}: {exc}") from None
    requirements = []
    for part in row["mandatory_exam_codes"].split(";"):
        alternatives = frozenset(a.strip() for a in part.split("|") if a.strip())
        if not alternatives or not all(_CODE.fullmatch(a) for a in alternatives):
            raise KzNosologyError(f"{where}: bad exam requirement {part!r}")
        requirements.append(alternatives)
    names = tuple(n.strip() for n in row["mandatory_examinations"].split(";"))
    if len(names) != len(requirements) or not all(names):
        raise KzNosologyError(f"{where}: one examination name per requirement is needed")
    if not ranges or not row["group_id"] or not row["group_name_ru"]:
        raise KzNosologyError(f"{where}: group_id, icd10_codes and group_name_ru must not be empty")
    return KzGroup(
        group_id=row["group_id"],
        icd10=ranges,
        name_ru=row["group_name_ru"],
        age="child" if row["age"] == "child" else "any",
        requirements=tuple(requirements),
        requirement_names=names,
        source=row["source"],
        verified=row["verified"] == "yes",
    )


def load_kz_nosologies(path: str | Path) -> dict[str, KzGroup]:
    """Group id → group. Raises KzNosologyError naming the offending line."""
    groups: dict[str, KzGroup] = {}
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        if tuple(reader.fieldnames or ()) != KZ_COLUMNS:
            raise KzNosologyError(f"{path}: header must be the columns {', '.join(KZ_COLUMNS)}, tab-separated")
        for row in reader:
            where = f"{path}:{reader.line_num}"
            if None in row or any(v is None for v in row.values()):
                raise KzNosologyError(f"{where}: expected {len(KZ_COLUMNS)} tab-separated columns")
            group = _row(row, where)
            if group.group_id in groups:
                raise KzNosologyError(f"{where}: duplicate group_id {group.group_id!r}")
            groups[group.group_id] = group
    return groups

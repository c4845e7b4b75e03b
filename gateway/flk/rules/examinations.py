"""Rule ``examinations``: the examinations the diagnosis requires are in the document.

- Russia (referrals 121/109): the list of joint order 402н/631н, ``config/required_exams_ru.tsv``
  (:mod:`gateway.flk.required_exams`), by the main diagnosis and the patient's age section.
- Kazakhstan (031/у): the pilot's nosology groups, ``config/kz_nosologies.tsv``: the declared group
  must cover the main diagnosis, and its mandatory examinations must be present.

Severity: a finding from a table row marked ``verified = no`` has the configured
``unverified_severity`` (``warning`` by default: reported, does not fail the check); rows marked
``yes`` give errors. The shipped Russian table is a draft with every row unverified.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from gateway.common.language import Text
from gateway.documents import DocumentKind, ParsedDocument
from gateway.documents.model import Kz031Details
from gateway.flk.codes import FlkCode
from gateway.flk.findings import RuleFinding, Severity, finding
from gateway.flk.kz_nosologies import KzGroup
from gateway.flk.messages import FLK_TEXTS
from gateway.flk.required_exams import ExamGroup, RequiredExamsError, groups_for_icd10, missing_exams, normalise_icd10
from gateway.flk.rules.citizen import age_on

__all__ = ["RULE", "kz_examination_findings", "ru_examination_findings"]

RULE = "examinations"
_RU_REFERRALS = frozenset({DocumentKind.REFERRAL, DocumentKind.REFERRAL_ED5})


def _severity(verified: bool, unverified: Severity) -> Severity:
    return "error" if verified else unverified


def _main_code(doc: ParsedDocument) -> tuple[str | None, list[RuleFinding]]:
    if doc.diagnoses is None:
        return None, [
            finding(RULE, FlkCode.DIAGNOSIS_INVALID, "examinations", FLK_TEXTS.text("exams.no_diagnosis"), "diagnoses")
        ]
    try:
        return normalise_icd10(doc.diagnoses.main.icd10), []
    except RequiredExamsError:
        return None, [
            finding(
                RULE,
                FlkCode.DIAGNOSIS_INVALID,
                "examinations",
                FLK_TEXTS.text("exams.not_icd10"),
                "diagnoses.main.icd10",
            )
        ]


def ru_examination_findings(
    doc: ParsedDocument,
    groups: Sequence[ExamGroup],
    *,
    adult_age_years: int = 18,
    unverified_severity: Severity = "warning",
) -> list[RuleFinding]:
    """Missing examinations of every list group that covers the main diagnosis (referrals only)."""
    if doc.kind not in _RU_REFERRALS:
        return []
    code, out = _main_code(doc)
    if code is None:
        return out
    section: Literal["adult", "child"] = (
        "adult" if age_on(doc.patient.birth_date, doc.created.date()) >= adult_age_years else "child"
    )
    performed = [e.code for e in doc.examinations]
    for group in groups_for_icd10(code, groups, section=section):
        missing = missing_exams(group, performed)
        if not missing:
            continue
        # names come from the order's table, in Russian: quoted, so they read as names in English too
        listed = "; ".join(f"{e.code} «{e.name}»" for e in missing)
        message = FLK_TEXTS.text("exams.missing", group=group.name_ru, code=code, listed=listed)
        if not group.verified:
            unverified = FLK_TEXTS.text("exams.unverified")
            message = Text(message.ru + unverified.ru, message.en + unverified.en)
        out.append(
            finding(
                RULE,
                FlkCode.REQUIRED_EXAMS_MISSING,
                "examinations",
                message,
                "examinations",
                severity=_severity(group.verified, unverified_severity),
            )
        )
    return out


def kz_examination_findings(
    doc: ParsedDocument,
    groups: Mapping[str, KzGroup],
    *,
    adult_age_years: int = 18,
    unverified_severity: Severity = "warning",
) -> list[RuleFinding]:
    """The declared nosology group fits the main diagnosis and its mandatory examinations are present."""
    if doc.kind is not DocumentKind.KZ_031U or not isinstance(doc.details, Kz031Details):
        return []
    code, out = _main_code(doc)
    if code is None:
        return out
    declared = doc.details.nosology_group.code
    group = groups.get(declared)
    if group is None:
        return [
            finding(
                RULE,
                FlkCode.KZ_NOSOLOGY_MISMATCH,
                "examinations",
                FLK_TEXTS.text("exams.kz_unknown_group", group=declared),
                "details.nosology_group",
            )
        ]
    severity = _severity(group.verified, unverified_severity)
    if not group.covers(code):
        out.append(
            finding(
                RULE,
                FlkCode.KZ_NOSOLOGY_MISMATCH,
                "examinations",
                FLK_TEXTS.text("exams.kz_not_in_group", code=code, group=group.name_ru),
                "diagnoses.main.icd10",
                severity=severity,
            )
        )
    if group.age == "child" and age_on(doc.patient.birth_date, doc.created.date()) >= adult_age_years:
        out.append(
            finding(
                RULE,
                FlkCode.KZ_NOSOLOGY_MISMATCH,
                "examinations",
                FLK_TEXTS.text("exams.kz_children_only", group=group.name_ru),
                "details.nosology_group",
                severity=severity,
            )
        )
    unmet = group.unmet(e.code for e in doc.examinations)
    if unmet:
        out.append(
            finding(
                RULE,
                FlkCode.KZ_EXAMS_MISSING,
                "examinations",
                FLK_TEXTS.text("exams.kz_missing", group=group.name_ru, listed="; ".join(f"«{u}»" for u in unmet)),
                "examinations",
                severity=severity,
            )
        )
    return out

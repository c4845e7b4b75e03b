"""Rule ``examinations`` (Russia: the 402н/631н draft table; Kazakhstan: the pilot's nosologies),
and the shipped Kazakh table against the reference it was transcribed from."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest

from flk.helpers import REFERENCE, ROOT, replace
from gateway.documents import ParsedDocument
from gateway.documents.model import Coded, Diagnosis, Examination
from gateway.flk.kz_nosologies import KzGroup, KzNosologyError, load_kz_nosologies
from gateway.flk.required_exams import ExamGroup, load_required_exams
from gateway.flk.rules import kz_examination_findings, ru_examination_findings

DocOf = Callable[..., ParsedDocument]
RU_TABLE = ROOT / "config" / "required_exams_ru.tsv"
KZ_TABLE = ROOT / "config" / "kz_nosologies.tsv"


@pytest.fixture(scope="module")
def ru_groups() -> list[ExamGroup]:
    return load_required_exams(RU_TABLE)


@pytest.fixture(scope="module")
def kz_groups() -> dict[str, KzGroup]:
    return dict(load_kz_nosologies(KZ_TABLE))


def test_referral_with_the_required_examinations(doc_of: DocOf, ru_groups: list[ExamGroup]) -> None:
    assert ru_examination_findings(doc_of("121"), ru_groups) == []


def test_unverified_row_gives_a_warning(doc_of: DocOf, ru_groups: list[ExamGroup]) -> None:
    doc = doc_of("121", exam_groups=())  # the sample's own three examinations
    found = ru_examination_findings(doc, ru_groups)
    assert [(f.code, f.severity, f.category) for f in found] == [
        ("FLK_REQUIRED_EXAMS_MISSING", "warning", "examinations")
    ]
    assert "A04.10.002" in found[0].message and "не сверена" in found[0].message


def test_verified_row_or_strict_configuration_gives_an_error(doc_of: DocOf, ru_groups: list[ExamGroup]) -> None:
    doc = doc_of("121", exam_groups=())
    assert [f.severity for f in ru_examination_findings(doc, ru_groups, unverified_severity="error")] == ["error"]
    verified = [replace(g, verified=True) for g in ru_groups]
    assert [f.severity for f in ru_examination_findings(doc, verified)] == ["error"]


def test_diagnosis_outside_the_list_and_child_section(doc_of: DocOf, ru_groups: list[ExamGroup]) -> None:
    doc = doc_of("121", exam_groups=())
    assert doc.diagnoses is not None
    other = replace(doc, diagnoses=replace(doc.diagnoses, main=Diagnosis("Z00.0", "Осмотр")))
    assert ru_examination_findings(other, ru_groups) == []
    child = replace(doc, patient=replace(doc.patient, birth_date=doc.created.date().replace(year=doc.created.year - 8)))
    assert ru_examination_findings(child, ru_groups) == []  # the draft has no children's rows


def test_not_an_icd10_code(doc_of: DocOf, ru_groups: list[ExamGroup]) -> None:
    doc = doc_of("121")
    assert doc.diagnoses is not None
    bad = replace(doc, diagnoses=replace(doc.diagnoses, main=Diagnosis("XYZ", "?")))
    assert [f.code for f in ru_examination_findings(bad, ru_groups)] == ["FLK_DIAGNOSIS_INVALID"]


def test_kz_conclusion_with_the_mandatory_examinations(doc_of: DocOf, kz_groups: dict[str, KzGroup]) -> None:
    assert kz_examination_findings(doc_of("kz-031u"), kz_groups) == []


def test_kz_missing_examination_is_an_error(doc_of: DocOf, kz_groups: dict[str, KzGroup]) -> None:
    doc = doc_of("kz-031u")
    doc = replace(doc, examinations=tuple(e for e in doc.examinations if e.code != "RADIOLOGIST_CONCLUSION"))
    found = kz_examination_findings(doc, kz_groups)
    assert [(f.code, f.severity) for f in found] == [("FLK_KZ_EXAMS_MISSING", "error")]
    assert "рентгенолога" in found[0].message


def test_kz_alternatives_satisfy_a_requirement(doc_of: DocOf, kz_groups: dict[str, KzGroup]) -> None:
    doc = doc_of("kz-031u")
    swapped = tuple(
        replace(e, code="SURGEON_CONCLUSION") if e.code == "ORTHO_CONCLUSION" else e for e in doc.examinations
    )
    assert kz_examination_findings(replace(doc, examinations=swapped), kz_groups) == []


def test_kz_nosology_must_fit_the_diagnosis_and_age(doc_of: DocOf, kz_groups: dict[str, KzGroup]) -> None:
    doc = doc_of("kz-031u")
    assert doc.diagnoses is not None and doc.details is not None
    down = replace(doc, diagnoses=replace(doc.diagnoses, main=Diagnosis("Q90.0", "Синдром Дауна")))
    assert [f.code for f in kz_examination_findings(down, kz_groups)][:1] == ["FLK_KZ_NOSOLOGY_MISMATCH"]
    unknown = replace(doc, details=replace(doc.details, nosology_group=Coded("diabetes", "?")))
    assert [f.code for f in kz_examination_findings(unknown, kz_groups)] == ["FLK_KZ_NOSOLOGY_MISMATCH"]
    mps = replace(
        doc,
        diagnoses=replace(doc.diagnoses, main=Diagnosis("E76.1", "МПС II")),
        details=replace(doc.details, nosology_group=Coded("mucopolysaccharidosis_children", "МПС у детей")),
        examinations=(Examination("MOLECULAR_GENETIC_STUDY", "ДНК", doc.created.date(), "мутация выявлена"),),
    )
    found = kz_examination_findings(mps, kz_groups)
    assert [f.code for f in found] == ["FLK_KZ_NOSOLOGY_MISMATCH"] and "детям" in found[0].message  # adult patient
    child = replace(mps, patient=replace(mps.patient, birth_date=mps.created.date().replace(year=mps.created.year - 6)))
    assert kz_examination_findings(child, kz_groups) == []


def test_kz_table_is_the_references_groups_and_codes() -> None:
    """config/kz_nosologies.tsv carries the reference's three groups with the same ICD-10 codes."""
    reference = REFERENCE / "kz-nosologies.tsv"
    if not reference.is_file():
        pytest.skip(f"reference not at {reference}")
    with reference.open(encoding="utf-8", newline="") as fh:
        ref = {row["group"]: row["icd10_codes"] for row in csv.DictReader(fh, delimiter="\t")}
    with KZ_TABLE.open(encoding="utf-8", newline="") as fh:
        ours = {row["group_id"]: row["icd10_codes"] for row in csv.DictReader(fh, delimiter="\t")}
    assert ours == ref
    groups = load_kz_nosologies(KZ_TABLE)
    assert groups["limb_defects"].covers("S48.1") and groups["limb_defects"].covers("T05.3")
    assert not groups["limb_defects"].covers("Q71.4") and not groups["down_syndrome"].covers("Q91")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda row: row.replace("\tany\t", "\tadults\t"), "age must be"),
        (lambda row: row.replace("XRAY_LIMB", "xray limb"), "bad exam requirement"),
        (lambda row: row.replace("Q71.0-Q71.3", "Q71.3-Q71.0"), "backwards"),
        (lambda row: row.replace("\tyes\t", "\tmaybe\t"), "verified"),
        (lambda row: row.replace("; RADIOLOGIST_CONCLUSION", ""), "one examination name per requirement"),
    ],
)
def test_malformed_kz_tables_are_refused(tmp_path: Path, mutate: Callable[[str], str], message: str) -> None:
    header, first, *rest = KZ_TABLE.read_text(encoding="utf-8").splitlines(keepends=True)
    path = tmp_path / "kz.tsv"
    path.write_text(header + mutate(first) + "".join(rest), encoding="utf-8")
    with pytest.raises(KzNosologyError, match=message):
        load_kz_nosologies(path)

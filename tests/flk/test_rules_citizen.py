"""Rule ``citizen-data``: complete, plausible citizen data — one failing case per check."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from flk.helpers import canonical, replace
from gateway.documents import ParsedDocument
from gateway.documents.model import AuthorityDocument, Coded, IdentityDocument, LegalRepresentative, Sex
from gateway.flk.rules import citizen_findings
from gateway.flk.rules.citizen import age_on

Submit = Callable[..., dict[str, Any]]
DocOf = Callable[..., ParsedDocument]


def _codes(doc: ParsedDocument, data: dict[str, Any]) -> list[str]:
    return [f.code for f in citizen_findings(canonical(data), doc)]


@pytest.mark.parametrize("kind", ["121", "109", "kz-031u"])
def test_sample_citizens_pass(doc_of: DocOf, submit: Submit, kind: str) -> None:
    doc = doc_of(kind)
    assert _codes(doc, submit(doc)) == []


def _patient(doc: ParsedDocument, **changes: Any) -> ParsedDocument:
    return replace(doc, patient=replace(doc.patient, **changes))


def _address(doc: ParsedDocument, **changes: Any) -> ParsedDocument:
    return _patient(doc, address=replace(doc.patient.address, **changes))


def _identity(doc: ParsedDocument, **changes: Any) -> ParsedDocument:
    assert doc.patient.identity_document is not None
    return _patient(doc, identity_document=replace(doc.patient.identity_document, **changes))


RU_CASES: list[tuple[str, Callable[[ParsedDocument], ParsedDocument], str]] = [
    ("no surname", lambda d: _patient(d, family=" "), "PATIENT_SURNAME_NOT_FOUND"),
    ("no name", lambda d: _patient(d, given=""), "PATIENT_NAME_NOT_FOUND"),
    ("no snils", lambda d: _patient(d, snils=None), "NO_SNILS"),
    ("bad snils", lambda d: _patient(d, snils="112-233-445 96"), "FLK_PATIENT_SNILS_INVALID"),
    (
        "born after the document",
        lambda d: _patient(d, birth_date=d.created.date() + timedelta(days=1)),
        "FLK_BIRTH_DATE_IMPLAUSIBLE",
    ),
    ("130 years old", lambda d: _patient(d, birth_date=date(d.created.year - 130, 1, 1)), "FLK_BIRTH_DATE_IMPLAUSIBLE"),
    ("no region", lambda d: _address(d, region=Coded("", "")), "FLK_ADDRESS_INVALID"),
    ("region not a subject", lambda d: _address(d, region=Coded("750", "?")), "FLK_ADDRESS_INVALID"),
    ("no address", lambda d: _address(d, text=" "), "FLK_ADDRESS_INVALID"),
    ("no identity document", lambda d: _patient(d, identity_document=None), "FLK_IDENTITY_DOCUMENT_MISSING"),
    ("no passport number", lambda d: _identity(d, number=""), "FLK_IDENTITY_DOCUMENT_INVALID"),
    ("no passport series", lambda d: _identity(d, series=None), "SERIES_REQUIRED"),
    (
        "passport before birth",
        lambda d: _identity(d, issue_date=d.patient.birth_date - timedelta(days=1)),
        "FLK_IDENTITY_DOCUMENT_INVALID",
    ),
]


@pytest.mark.parametrize(("what", "break_it", "code"), RU_CASES, ids=[c[0] for c in RU_CASES])
def test_russian_citizen_data_failures(
    doc_of: DocOf, submit: Submit, what: str, break_it: Callable[[ParsedDocument], ParsedDocument], code: str
) -> None:
    doc = doc_of("121", 2)
    broken = break_it(doc)
    found = citizen_findings(canonical(submit(doc)), broken)  # metadata from the good document
    assert code in [f.code for f in found]
    assert {f.category for f in found} == {"citizen_data"}


def _minor(doc: ParsedDocument, representative: LegalRepresentative | None) -> ParsedDocument:
    birth = date(doc.created.year - 9, 5, 5)
    certificate = IdentityDocument(
        Coded("3", "Свидетельство о рождении"), "654321", "ЗАГС", birth + timedelta(days=9), "II-МЮ"
    )
    return _patient(doc, birth_date=birth, identity_document=certificate, legal_representative=representative)


def test_minor_needs_a_representative(doc_of: DocOf, submit: Submit) -> None:
    doc = _minor(doc_of("121", 3), None)
    assert _codes(doc, submit(doc)) == ["FLK_REPRESENTATIVE_MISSING"]


def test_minor_with_a_representative(doc_of: DocOf, submit: Submit) -> None:
    guardian = LegalRepresentative(
        "Петрова",
        "Анна",
        "Николаевна",
        snils="112-233-445 95",
        authority_document=AuthorityDocument(Coded("1", "Решение суда"), "2-1/2020", "Суд", date(2020, 1, 1)),
    )
    doc = _minor(doc_of("121", 3), guardian)
    assert _codes(doc, submit(doc)) == []
    bad = _minor(doc_of("121", 3), replace(guardian, snils="112-233-445 96", authority_document=None))
    assert _codes(bad, submit(bad)) == ["FLK_REPRESENTATIVE_INVALID", "FLK_REPRESENTATIVE_INVALID"]


def test_patient_metadata_must_match_the_document(doc_of: DocOf, submit: Submit) -> None:
    doc = doc_of("121", 4)
    data = submit(doc)
    data["patient"] = {**data["patient"], "snils": "112-233-445 95", "family": "Другая", "birth_date": "1900-01-01"}
    found = citizen_findings(canonical(data), doc)
    assert [f.field for f in found] == ["patient/snils", "patient/family", "patient/birth_date"]
    assert {f.code for f in found} == {"FLK_PATIENT_METADATA_MISMATCH"}


def test_metadata_comparison_ignores_case_and_yo(doc_of: DocOf, submit: Submit) -> None:
    doc = _patient(doc_of("121", 4), family="Пётрова")
    data = submit(doc)
    data["patient"] = {**data["patient"], "family": "ПЕТРОВА", "snils": (doc.patient.snils or "").replace("-", "")}
    assert citizen_findings(canonical(data), doc) == []


def test_kz_iin_checks(doc_of: DocOf, submit: Submit) -> None:
    doc = doc_of("kz-031u", 2)
    iin = doc.patient.iin or ""
    assert _codes(_patient(doc, iin=None), submit(doc)) == ["FLK_PATIENT_IIN_MISSING", "FLK_PATIENT_METADATA_MISMATCH"]
    wrong_check = iin[:11] + str((int(iin[11]) + 1) % 10)
    assert "FLK_PATIENT_IIN_INVALID" in _codes(_patient(doc, iin=wrong_check), submit(doc))
    other_sex = Sex.MALE if doc.patient.sex is Sex.FEMALE else Sex.FEMALE
    assert _codes(_patient(doc, sex=other_sex), submit(doc)) == ["FLK_PATIENT_IIN_MISMATCH"]


def test_bureau_documents_are_not_judged(doc_of: DocOf, submit: Submit) -> None:
    doc = doc_of("108", 2)
    assert citizen_findings(canonical(submit(doc)), _patient(doc, snils=None, identity_document=None)) == []


@pytest.mark.parametrize(
    ("birth", "day", "age"),
    [
        (date(2000, 2, 29), date(2018, 2, 28), 17),
        (date(2000, 2, 29), date(2018, 3, 1), 18),
        (date(2010, 1, 1), date(2009, 1, 1), -1),
    ],
)
def test_age_on(birth: date, day: date, age: int) -> None:
    assert age_on(birth, day) == age

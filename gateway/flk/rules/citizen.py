"""Rule ``citizen-data``: the citizen's data is complete and plausible.

The seed's «insufficient / incorrect citizen data»: name, identifiers (SNILS in Russia, IIN in
Kazakhstan, with their check digits — :mod:`gateway.documents.identifiers`), a birth date that makes sense,
an address with a region code, an identity document, and a legal representative for a minor. The
submission's own patient metadata, when given, must say the same as the document.

The rule applies to the documents an MO sends for expertise (referrals 121/109, the Kazakh 031/у).
The bureau's own documents (result 35, return notice 108) repeat the referral's citizen data; a
notice returning a referral *because* of bad citizen data must not itself be stopped for it.
"""

from __future__ import annotations

from datetime import date

from gateway.documents import DocumentKind, ParsedDocument
from gateway.documents.identifiers import (
    IdentifierError,
    decode_iin,
    is_valid_iin,
    is_valid_snils,
    normalise_snils,
    validate_iin,
)
from gateway.documents.identifiers import Sex as IinSex
from gateway.documents.model import LegalRepresentative, Patient, Sex
from gateway.flk.codes import FlkCode
from gateway.flk.findings import RuleFinding, finding
from gateway.flk.messages import FLK_TEXTS
from gateway.intake.submission import CanonicalSubmission

__all__ = ["APPLIES_TO", "RULE", "age_on", "citizen_findings"]

RULE = "citizen-data"
APPLIES_TO = frozenset({DocumentKind.REFERRAL, DocumentKind.REFERRAL_ED5, DocumentKind.KZ_031U})
# NSI 1.2.643.5.1.13.13.99.2.48: 1 = паспорт гражданина РФ, which has a series.
_RU_PASSPORT = "1"


def age_on(birth: date, day: date) -> int:
    """Full years between ``birth`` and ``day`` (negative when ``day`` is before ``birth``)."""
    years = day.year - birth.year
    if (day.month, day.day) < (birth.month, birth.day):
        years -= 1
    return years


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def _same_text(a: str, b: str) -> bool:
    def norm(s: str) -> str:
        return " ".join(s.casefold().replace("ё", "е").split())

    return norm(a) == norm(b)


def _f(code: FlkCode, key: str, field: str, **params: object) -> RuleFinding:
    return finding(RULE, code, "citizen_data", FLK_TEXTS.text(key, **params), field)


def _identifiers(doc: ParsedDocument, p: Patient) -> list[RuleFinding]:
    out: list[RuleFinding] = []
    if doc.kind is DocumentKind.KZ_031U:
        if _blank(p.iin):
            out.append(_f(FlkCode.PATIENT_IIN_MISSING, "citizen.iin_missing", "patient.iin"))
            return out
        assert p.iin is not None
        try:
            validate_iin(p.iin)
        except IdentifierError:
            out.append(
                _f(
                    FlkCode.PATIENT_IIN_INVALID,
                    "citizen.iin_invalid",
                    "patient.iin",
                )
            )
            return out
        info = decode_iin(p.iin)
        sex_ok = (info.sex is IinSex.MALE) == (p.sex is Sex.MALE)
        if info.birth_date != p.birth_date or not sex_ok:
            out.append(
                _f(
                    FlkCode.PATIENT_IIN_MISMATCH,
                    "citizen.iin_mismatch",
                    "patient.iin",
                )
            )
        return out
    if _blank(p.snils):
        out.append(_f(FlkCode.NO_SNILS, "citizen.snils_missing", "patient.snils"))
    elif p.snils is not None and not is_valid_snils(p.snils):
        out.append(
            _f(
                FlkCode.PATIENT_SNILS_INVALID,
                "citizen.snils_invalid",
                "patient.snils",
            )
        )
    return out


def _identity_document(doc: ParsedDocument, p: Patient) -> list[RuleFinding]:
    ident = p.identity_document
    if ident is None:
        return [
            _f(
                FlkCode.IDENTITY_DOCUMENT_MISSING,
                "citizen.id_doc_missing",
                "patient.identity_document",
            )
        ]
    out: list[RuleFinding] = []
    if _blank(ident.number):
        out.append(
            _f(
                FlkCode.IDENTITY_DOCUMENT_INVALID,
                "citizen.id_doc_number",
                "patient.identity_document.number",
            )
        )
    if doc.kind is not DocumentKind.KZ_031U and ident.type.code == _RU_PASSPORT and _blank(ident.series):
        out.append(
            _f(
                FlkCode.SERIES_REQUIRED,
                "citizen.passport_series",
                "patient.identity_document.series",
            )
        )
    if ident.issue_date < p.birth_date or ident.issue_date > doc.created.date():
        out.append(
            _f(
                FlkCode.IDENTITY_DOCUMENT_INVALID,
                "citizen.id_doc_date",
                "patient.identity_document.issue_date",
            )
        )
    return out


def _representative(doc: ParsedDocument, rep: LegalRepresentative | None, minor: bool) -> list[RuleFinding]:
    if rep is None:
        if minor:
            return [
                _f(
                    FlkCode.REPRESENTATIVE_MISSING,
                    "citizen.rep_missing",
                    "patient.legal_representative",
                )
            ]
        return []
    where = "patient.legal_representative"
    out: list[RuleFinding] = []
    if _blank(rep.family) or _blank(rep.given):
        out.append(_f(FlkCode.REPRESENTATIVE_INVALID, "citizen.rep_name", where))
    if rep.snils is not None and not is_valid_snils(rep.snils):
        out.append(_f(FlkCode.REPRESENTATIVE_INVALID, "citizen.rep_snils", f"{where}.snils"))
    if rep.iin is not None and not is_valid_iin(rep.iin):
        out.append(_f(FlkCode.REPRESENTATIVE_INVALID, "citizen.rep_iin", f"{where}.iin"))
    if minor and rep.identity_document is None and rep.authority_document is None:
        out.append(
            _f(
                FlkCode.REPRESENTATIVE_INVALID,
                "citizen.rep_document",
                where,
            )
        )
    return out


def _metadata(sub: CanonicalSubmission, p: Patient) -> list[RuleFinding]:
    meta = sub.patient
    out: list[RuleFinding] = []

    def mismatch(field: str) -> None:
        out.append(
            _f(
                FlkCode.PATIENT_METADATA_MISMATCH,
                "citizen.metadata",
                f"patient/{field}",
                what=FLK_TEXTS.text(f"citizen.field.{field}"),
            )
        )

    if "snils" in meta:
        try:
            same = p.snils is not None and normalise_snils(meta["snils"]) == normalise_snils(p.snils)
        except IdentifierError:
            same = False
        if not same:
            mismatch("snils")
    if "iin" in meta and meta["iin"] != (p.iin or ""):
        mismatch("iin")
    for field, value in (("family", p.family), ("given", p.given), ("patronymic", p.patronymic or "")):
        if field in meta and not _same_text(meta[field], value):
            mismatch(field)
    if "birth_date" in meta and meta["birth_date"] != p.birth_date.isoformat():
        mismatch("birth_date")
    return out


def citizen_findings(
    sub: CanonicalSubmission,
    doc: ParsedDocument,
    *,
    max_age_years: int = 120,
    adult_age_years: int = 18,
) -> list[RuleFinding]:
    """Every problem with the citizen's data; ages are taken on the document's creation date."""
    if doc.kind not in APPLIES_TO:
        return []
    p = doc.patient
    out: list[RuleFinding] = []
    if _blank(p.family):
        out.append(_f(FlkCode.PATIENT_SURNAME_NOT_FOUND, "citizen.surname_missing", "patient.family"))
    if _blank(p.given):
        out.append(_f(FlkCode.PATIENT_NAME_NOT_FOUND, "citizen.name_missing", "patient.given"))
    out.extend(_identifiers(doc, p))
    on = doc.created.date()
    age = age_on(p.birth_date, on)
    if p.birth_date > on:
        out.append(_f(FlkCode.BIRTH_DATE_IMPLAUSIBLE, "citizen.born_after", "patient.birth_date"))
    elif age > max_age_years:
        out.append(
            _f(
                FlkCode.BIRTH_DATE_IMPLAUSIBLE,
                "citizen.too_old",
                "patient.birth_date",
                years=max_age_years,
            )
        )
    address = p.address
    region = address.region.code.strip()
    if not region:
        out.append(_f(FlkCode.ADDRESS_INVALID, "citizen.address_region_missing", "patient.address.region"))
    elif doc.kind is not DocumentKind.KZ_031U and not (region.isdigit() and 1 <= int(region) <= 99):
        out.append(
            _f(
                FlkCode.ADDRESS_INVALID,
                "citizen.address_region_invalid",
                "patient.address.region",
            )
        )
    if _blank(address.text):
        out.append(_f(FlkCode.ADDRESS_INVALID, "citizen.address_missing", "patient.address.text"))
    out.extend(_identity_document(doc, p))
    out.extend(_representative(doc, p.legal_representative, minor=0 <= age < adult_age_years))
    out.extend(_metadata(sub, p))
    return out

"""Kazakh form 031/у «Заключение на медико-социальную экспертизу» in this project's XML.

No official XML exists. The structure (namespace ``urn:mse-gateway:kz:031u:1``, root
``Conclusion031u``) is defined by ``packages/kz-031u/kz-031u.xsd`` and docs/kz-031u.md from the
fields the joint order of June 2025 asks for: patient with IIN, MO with BIN, the VKK chair (IIN and
position) who signs, ICD-10 diagnoses, examinations (code, name, date, result), objective data and
the pilot's nosology group.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any, Final, cast

from lxml import etree

from gateway.documents._xml import Reader
from gateway.documents.errors import DocumentError, DocumentErrorCode
from gateway.documents.model import (
    Address,
    Coded,
    Diagnoses,
    Diagnosis,
    DiagnosisRole,
    DocumentKind,
    ExamForm,
    Examination,
    IdentityDocument,
    Kz031Details,
    LegalRepresentative,
    Organisation,
    ParsedDocument,
    Patient,
    Practitioner,
    Sex,
    SignerRole,
)

__all__ = ["KZ_NS", "KZ_XSD", "build_kz031u", "parse_kz031u"]

KZ_NS: Final = "urn:mse-gateway:kz:031u:1"
KZ_XSD: Final = Path(__file__).with_name("packages") / "kz-031u" / "kz-031u.xsd"
_P: Final = {"k": KZ_NS}
_SEX_NAMES: Final = {Sex.MALE: "Мужской", Sex.FEMALE: "Женский"}


def _q(tag: str) -> str:
    return f"{{{KZ_NS}}}{tag}"


def _el(parent: etree._Element, tag: str, text: str | None = None, **attrib: str) -> etree._Element:
    element = etree.SubElement(parent, _q(tag), attrib)
    if text is not None:
        element.text = text
    return element


def _coded(parent: etree._Element, tag: str, value: Coded) -> None:
    _el(parent, tag, code=value.code, name=value.name)


def _opt(parent: etree._Element, tag: str, text: str | None) -> None:
    if text is not None:
        _el(parent, tag, text)


# ---------------------------------------------------------------------------------------- build


def build_kz031u(doc: ParsedDocument) -> etree._Element:
    d = doc.details
    if not isinstance(d, Kz031Details):
        raise ValueError("form 031/у needs Kz031Details")
    if doc.diagnoses is None or not doc.examinations:
        raise ValueError("form 031/у needs a diagnosis and at least one examination")
    if doc.author.role is not SignerRole.AUTHOR or doc.legal_authenticator.role is not SignerRole.VKK_CHAIR:
        raise ValueError("form 031/у: author must be AUTHOR and legal_authenticator the VKK_CHAIR")
    root = etree.Element(_q("Conclusion031u"), nsmap=cast(Any, {None: KZ_NS}), version="1")
    _el(root, "DocumentId", doc.local_uid)
    _el(root, "SetId", doc.set_id)
    _el(root, "VersionNumber", str(doc.version))
    if doc.created.tzinfo is None:
        raise ValueError("form 031/у needs a timezone-aware creation time")
    _el(root, "CreatedAt", doc.created.isoformat())
    _el(root, "Title", doc.title)
    _patient(root, doc.patient)
    _organisation(root, doc.organisation)
    _practitioner(root, "Author", doc.author)
    _practitioner(root, "VkkChair", doc.legal_authenticator)
    protocol = _el(root, "VkkProtocol")
    _el(protocol, "Number", d.vkk_protocol_number)
    _el(protocol, "Date", d.vkk_protocol_date.isoformat())
    _coded(root, "NosologyGroup", d.nosology_group)
    diagnoses = _el(root, "Diagnoses")
    _el(diagnoses, "Main", icd10=doc.diagnoses.main.icd10, name=doc.diagnoses.main.name)
    for other in doc.diagnoses.others:
        if other.role is DiagnosisRole.MAIN:
            raise ValueError("only one main diagnosis")
        _el(diagnoses, "Other", icd10=other.icd10, name=other.name, role=other.role.value)
    exams = _el(root, "Examinations")
    for exam in doc.examinations:
        element = _el(exams, "Examination")
        _el(element, "Code", exam.code)
        _el(element, "Name", exam.name)
        _el(element, "Date", exam.date.isoformat())
        _el(element, "Result", exam.result)
        _opt(element, "DocumentId", exam.document_id)
    _el(root, "ObjectiveData", d.objective_data)
    if doc.exam_form is not None:
        _el(root, "ExamForm", doc.exam_form.value)
    return root


def _address(parent: etree._Element, address: Address) -> None:
    element = _el(parent, "Address")
    _coded(element, "Region", address.region)
    _el(element, "Text", address.text)
    _opt(element, "PostalCode", address.postal_code)


def _identity(parent: etree._Element, doc: IdentityDocument | None) -> None:
    if doc is None:
        return
    element = _el(parent, "IdentityDocument")
    _coded(element, "Type", doc.type)
    _opt(element, "Series", doc.series)
    _el(element, "Number", doc.number)
    _el(element, "Issuer", doc.issuer)
    _el(element, "IssueDate", doc.issue_date.isoformat())


def _patient(root: etree._Element, patient: Patient) -> None:
    if patient.iin is None:
        raise ValueError("form 031/у needs the patient's IIN")
    element = _el(root, "Patient")
    _el(element, "LocalId", patient.local_id)
    _el(element, "IIN", patient.iin)
    _el(element, "FamilyName", patient.family)
    _el(element, "GivenName", patient.given)
    _opt(element, "Patronymic", patient.patronymic)
    _el(element, "BirthDate", patient.birth_date.isoformat())
    _coded(element, "Sex", Coded(patient.sex.value, _SEX_NAMES[patient.sex]))
    _address(element, patient.address)
    _identity(element, patient.identity_document)
    _opt(element, "Phone", patient.phone)
    rep = patient.legal_representative
    if rep is not None:
        rep_el = _el(element, "LegalRepresentative")
        _opt(rep_el, "IIN", rep.iin)
        _el(rep_el, "FamilyName", rep.family)
        _el(rep_el, "GivenName", rep.given)
        _opt(rep_el, "Patronymic", rep.patronymic)
        _opt(rep_el, "Phone", rep.phone)
        _identity(rep_el, rep.identity_document)


def _organisation(root: etree._Element, org: Organisation) -> None:
    if org.bin is None:
        raise ValueError("form 031/у needs the MO's BIN")
    element = _el(root, "MedicalOrganisation")
    _el(element, "Id", org.oid)
    _el(element, "BIN", org.bin)
    _el(element, "Name", org.name)
    _address(element, org.address)
    _el(element, "Phone", org.phone)


def _practitioner(root: etree._Element, tag: str, who: Practitioner) -> None:
    if who.iin is None:
        raise ValueError(f"form 031/у needs the IIN of {tag}")
    element = _el(root, tag)
    _el(element, "LocalId", who.local_id)
    _el(element, "IIN", who.iin)
    _el(element, "FamilyName", who.family)
    _el(element, "GivenName", who.given)
    _opt(element, "Patronymic", who.patronymic)
    _coded(element, "Position", who.position)


# ---------------------------------------------------------------------------------------- parse


def _date(reader: Reader, xpath: str, field: str) -> date:
    text = reader.text_of(xpath, field)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DocumentError(DocumentErrorCode.INVALID_VALUE, f"Некорректная дата «{text}»", field) from None


def _code(reader: Reader, xpath: str, field: str) -> Coded:
    element = reader.req(xpath, field)
    return Coded(element.attr("code", field), element.attr("name", field))


def _parse_address(reader: Reader, field: str) -> Address:
    element = reader.req("k:Address", field)
    return Address(
        region=_code(element, "k:Region", f"{field}.region"),
        text=element.text_of("k:Text", f"{field}.text"),
        postal_code=element.opt_text_of("k:PostalCode"),
    )


def _parse_identity(reader: Reader, field: str) -> IdentityDocument | None:
    element = reader.opt("k:IdentityDocument")
    if element is None:
        return None
    return IdentityDocument(
        type=_code(element, "k:Type", f"{field}.type"),
        series=element.opt_text_of("k:Series"),
        number=element.text_of("k:Number", f"{field}.number"),
        issuer=element.text_of("k:Issuer", f"{field}.issuer"),
        issue_date=_date(element, "k:IssueDate", f"{field}.issue_date"),
    )


def _parse_practitioner(doc: Reader, tag: str, role: SignerRole, field: str) -> Practitioner:
    element = doc.req(f"k:{tag}", field)
    return Practitioner(
        local_id=element.text_of("k:LocalId", f"{field}.local_id"),
        iin=element.text_of("k:IIN", f"{field}.iin"),
        family=element.text_of("k:FamilyName", f"{field}.family"),
        given=element.text_of("k:GivenName", f"{field}.given"),
        patronymic=element.opt_text_of("k:Patronymic"),
        position=_code(element, "k:Position", f"{field}.position"),
        role=role,
    )


def parse_kz031u(reader: Reader) -> ParsedDocument:
    doc = Reader(reader.element, reader.path, _P)
    patient_el = doc.req("k:Patient", "patient")
    sex_code = _code(patient_el, "k:Sex", "patient.sex").code
    try:
        sex = Sex(sex_code)
    except ValueError:
        raise DocumentError(
            DocumentErrorCode.INVALID_VALUE, f"Неизвестный код пола «{sex_code}»", "patient.sex"
        ) from None
    rep_el = patient_el.opt("k:LegalRepresentative")
    rep = None
    if rep_el is not None:
        rep = LegalRepresentative(
            iin=rep_el.opt_text_of("k:IIN"),
            family=rep_el.text_of("k:FamilyName", "patient.legal_representative.family"),
            given=rep_el.text_of("k:GivenName", "patient.legal_representative.given"),
            patronymic=rep_el.opt_text_of("k:Patronymic"),
            phone=rep_el.opt_text_of("k:Phone"),
            identity_document=_parse_identity(rep_el, "patient.legal_representative.identity_document"),
        )
    patient = Patient(
        local_id=patient_el.text_of("k:LocalId", "patient.local_id"),
        iin=patient_el.text_of("k:IIN", "patient.iin"),
        family=patient_el.text_of("k:FamilyName", "patient.family"),
        given=patient_el.text_of("k:GivenName", "patient.given"),
        patronymic=patient_el.opt_text_of("k:Patronymic"),
        birth_date=_date(patient_el, "k:BirthDate", "patient.birth_date"),
        sex=sex,
        address=_parse_address(patient_el, "patient.address"),
        identity_document=_parse_identity(patient_el, "patient.identity_document"),
        phone=patient_el.opt_text_of("k:Phone"),
        legal_representative=rep,
    )
    org_el = doc.req("k:MedicalOrganisation", "organisation")
    organisation = Organisation(
        oid=org_el.text_of("k:Id", "organisation.oid"),
        bin=org_el.text_of("k:BIN", "organisation.bin"),
        name=org_el.text_of("k:Name", "organisation.name"),
        address=_parse_address(org_el, "organisation.address"),
        phone=org_el.text_of("k:Phone", "organisation.phone"),
    )
    diagnoses_el = doc.req("k:Diagnoses", "diagnoses")
    main_el = diagnoses_el.req("k:Main", "diagnoses.main")
    others = []
    for other in diagnoses_el.all("k:Other"):
        role_code = other.attr("role", "diagnoses.role")
        try:
            role = DiagnosisRole(role_code)
        except ValueError:
            raise DocumentError(
                DocumentErrorCode.INVALID_VALUE, f"Неизвестная роль диагноза «{role_code}»", "diagnoses"
            ) from None
        others.append(Diagnosis(other.attr("icd10", "diagnoses.icd10"), other.attr("name", "diagnoses.name"), role))
    exams = tuple(
        Examination(
            code=e.text_of("k:Code", "examinations.code"),
            name=e.text_of("k:Name", "examinations.name"),
            date=_date(e, "k:Date", "examinations.date"),
            result=e.text_of("k:Result", "examinations.result"),
            document_id=e.opt_text_of("k:DocumentId"),
        )
        for e in doc.req("k:Examinations", "examinations").all("k:Examination")
    )
    if not exams:
        raise DocumentError(DocumentErrorCode.MISSING_FIELD, "В заключении нет ни одного обследования", "examinations")
    form_text = doc.opt_text_of("k:ExamForm")
    try:
        exam_form = ExamForm(form_text) if form_text is not None else None
    except ValueError:
        raise DocumentError(
            DocumentErrorCode.INVALID_VALUE, f"Неизвестная форма проведения МСЭ «{form_text}»", "exam_form"
        ) from None
    created_text = doc.text_of("k:CreatedAt", "created")
    try:
        created = datetime.fromisoformat(created_text)
    except ValueError:
        raise DocumentError(
            DocumentErrorCode.INVALID_VALUE, f"Некорректная дата/время «{created_text}»", "created"
        ) from None
    version_text = doc.text_of("k:VersionNumber", "version")
    if not version_text.isdigit():
        raise DocumentError(
            DocumentErrorCode.INVALID_VALUE, f"Номер версии «{version_text}» не является числом", "version"
        )
    protocol = doc.req("k:VkkProtocol", "details.vkk_protocol_number")
    return ParsedDocument(
        kind=DocumentKind.KZ_031U,
        local_uid=doc.text_of("k:DocumentId", "local_uid"),
        set_id=doc.text_of("k:SetId", "set_id"),
        version=int(version_text),
        created=created,
        title=doc.text_of("k:Title", "title"),
        patient=patient,
        organisation=organisation,
        author=_parse_practitioner(doc, "Author", SignerRole.AUTHOR, "author"),
        legal_authenticator=_parse_practitioner(doc, "VkkChair", SignerRole.VKK_CHAIR, "legal_authenticator"),
        diagnoses=Diagnoses(
            main=Diagnosis(main_el.attr("icd10", "diagnoses.icd10"), main_el.attr("name", "diagnoses.name")),
            others=tuple(others),
        ),
        examinations=exams,
        exam_form=exam_form,
        details=Kz031Details(
            nosology_group=_code(doc, "k:NosologyGroup", "details.nosology_group"),
            objective_data=doc.text_of("k:ObjectiveData", "details.objective_data"),
            vkk_protocol_number=protocol.text_of("k:Number", "details.vkk_protocol_number"),
            vkk_protocol_date=_date(protocol, "k:Date", "details.vkk_protocol_date"),
        ),
    )

"""The CDA header every Russian kind shares (121/109, and the reconstructed 187/35/130/108).

Conventions follow the official 121 schematron (rules У1-*, Main05, Core01–04): identifiers are
``<MO OID>.100.<MIS>.1.<51|50|10|70>`` (document, version set, patient, staff), the patient carries
two ids (MIS id and SNILS), ``identity:IdentityDoc`` and ``identity:InsurancePolicy``; author and
legal authenticator carry a MIS id, a SNILS, an NSI 1002 position and their organisation; the
custodian is the MO; REMD (``1.2.643.5.1.13``) is the information recipient.

Edition differences that matter to the header (rules diffed between 121.sch and 109.sch):
edition 5 wants ``author/time`` and ``legalAuthenticator/time`` with a value and
``signatureCode code="S"``; edition 6 wants ``nullFlavor="NI"`` in all three (the signature is
detached, so the document cannot know its signing time).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from lxml import etree

from gateway.documents._xml import Reader, coded, missing, root_element, sub, ts_date, ts_datetime
from gateway.documents.codes import CS, HL7_TYPE_ID_EXTENSION, HL7_TYPE_ID_ROOT, SNILS_OID, CodeSystem
from gateway.documents.errors import DocumentError, DocumentErrorCode
from gateway.documents.model import (
    Address,
    AuthorityDocument,
    Coded,
    IdentityDocument,
    InsurancePolicy,
    LegalRepresentative,
    Organisation,
    ParsedDocument,
    Patient,
    Practitioner,
    Sex,
    SignerRole,
)

__all__ = [
    "Header",
    "address",
    "build_header",
    "doc_id_root",
    "parse_address",
    "parse_header",
    "parse_organisation",
    "parse_practitioner",
    "performers",
    "practitioner_entity",
    "require_roles",
]

MIS_ARC: Final = "100.1.1"
REMD_OID: Final = "1.2.643.5.1.13"
REMD_NAME: Final = "Министерство здравоохранения Российской Федерации"
_ADDRESS_TYPE: Final = Coded("1", "Адрес по месту жительства (постоянной регистрации)")
_CONFIDENTIALITY: Final = Coded("N", "Обычный")
_SEX_NAMES: Final = {Sex.MALE: "Мужской", Sex.FEMALE: "Женский"}


def doc_id_root(org_oid: str, suffix: str) -> str:
    """``<org>.100.1.1.<suffix>``: the MIS-scoped id roots the schematron's regexes expect."""
    return f"{org_oid}.{MIS_ARC}.{suffix}"


def _org_from_root(root: str, suffix: str) -> str | None:
    tail = f".{MIS_ARC}.{suffix}"
    return root[: -len(tail)] if root.endswith(tail) else None


@dataclass(frozen=True, slots=True)
class Header:
    """What the header carries, as parsed."""

    local_uid: str
    set_id: str
    version: int
    created: datetime
    title: str
    patient: Patient
    organisation: Organisation
    author: Practitioner
    legal_authenticator: Practitioner


# ---------------------------------------------------------------------------------------- build


def build_header(
    doc: ParsedDocument,
    *,
    template_id: str,
    doc_code: tuple[CodeSystem, Coded],
    edition: int,
) -> etree._Element:
    """The ``ClinicalDocument`` element with everything up to ``legalAuthenticator``; the caller
    appends ``participant``/``documentationOf`` and the body in schema order."""
    org = doc.organisation
    root = root_element()
    sub(root, "realmCode", {"code": "RU"})
    sub(root, "typeId", {"root": HL7_TYPE_ID_ROOT, "extension": HL7_TYPE_ID_EXTENSION})
    sub(root, "templateId", {"root": template_id})
    sub(root, "id", {"root": doc_id_root(org.oid, "51"), "extension": doc.local_uid})
    coded(root, "code", doc_code[0], doc_code[1])
    sub(root, "title", text=doc.title)
    sub(root, "effectiveTime", {"value": ts_datetime(doc.created)})
    coded(root, "confidentialityCode", CS.CONFIDENTIALITY, _CONFIDENTIALITY)
    sub(root, "languageCode", {"code": "ru-RU"})
    sub(root, "setId", {"root": doc_id_root(org.oid, "50"), "extension": doc.set_id})
    sub(root, "versionNumber", {"value": str(doc.version)})
    _record_target(root, doc.patient, org)
    _author(root, doc, edition)
    custodian = sub(sub(sub(root, "custodian"), "assignedCustodian"), "representedCustodianOrganization")
    _organisation_body(custodian, org, with_props=False, with_phone=True)
    recipient = sub(sub(sub(root, "informationRecipient"), "intendedRecipient"), "receivedOrganization")
    sub(recipient, "id", {"root": REMD_OID})
    sub(recipient, "name", text=REMD_NAME)
    legal = sub(root, "legalAuthenticator")
    if edition >= 6:
        sub(legal, "time", {"nullFlavor": "NI"})
        sub(legal, "signatureCode", {"nullFlavor": "NI"})
    else:
        sub(legal, "time", {"value": ts_datetime(doc.created)})
        sub(legal, "signatureCode", {"code": "S"})
    practitioner_entity(sub(legal, "assignedEntity"), doc.legal_authenticator, org)
    return root


def _record_target(root: etree._Element, patient: Patient, org: Organisation) -> None:
    role = sub(sub(root, "recordTarget"), "patientRole")
    sub(role, "id", {"root": doc_id_root(org.oid, "10"), "extension": patient.local_id})
    if patient.snils is None:
        raise ValueError("a Russian SEMD needs the patient's SNILS (patientRole/id[2])")
    sub(role, "id", {"root": SNILS_OID, "extension": patient.snils})
    if patient.identity_document is None:
        raise ValueError("a Russian SEMD needs the patient's identity document")
    _identity_doc(role, "identity:IdentityDoc", patient.identity_document)
    policy = patient.insurance_policy
    if policy is None:
        sub(role, "identity:InsurancePolicy", {"nullFlavor": "NI"})
    else:
        element = sub(role, "identity:InsurancePolicy")
        coded(element, "identity:InsurancePolicyType", CS.INSURANCE, policy.type, xsi_type="CD")
        if policy.series is not None:
            sub(element, "identity:Series", text=policy.series, xsi_type="ST")
        sub(element, "identity:Number", text=policy.number, xsi_type="ST")
    address(role, patient.address, with_type=True)
    _telecom(role, patient.phone)
    person = sub(role, "patient")
    _name(person, patient.family, patient.given, patient.patronymic)
    coded(person, "administrativeGenderCode", CS.GENDER, Coded(patient.sex.value, _SEX_NAMES[patient.sex]))
    sub(person, "birthTime", {"value": ts_date(patient.birth_date)})
    if patient.legal_representative is not None:
        _guardian(person, patient.legal_representative)
    provider = sub(role, "providerOrganization")
    _organisation_body(provider, org, with_props=True, with_phone=True)


def _identity_doc(parent: etree._Element, tag: str, doc: IdentityDocument | AuthorityDocument) -> None:
    element = sub(parent, tag)
    system = CS.IDENTITY_DOC if isinstance(doc, IdentityDocument) else CS.AUTHORITY_DOC
    coded(element, "identity:IdentityCardType", system, doc.type, xsi_type="CD")
    if doc.series is not None:
        sub(element, "identity:Series", text=doc.series, xsi_type="ST")
    else:
        sub(element, "identity:Series", {"nullFlavor": "NA"})
    sub(element, "identity:Number", text=doc.number, xsi_type="ST")
    sub(element, "identity:IssueOrgName", text=doc.issuer, xsi_type="ST")
    if isinstance(doc, IdentityDocument):
        if doc.issuer_code is not None:
            sub(element, "identity:IssueOrgCode", text=doc.issuer_code, xsi_type="ST")
        else:
            sub(element, "identity:IssueOrgCode", {"nullFlavor": "NA"})
    sub(element, "identity:IssueDate", {"value": ts_date(doc.issue_date)}, xsi_type="TS")


def _guardian(person: etree._Element, rep: LegalRepresentative) -> None:
    guardian = sub(person, "guardian", {"classCode": "GUARD"})
    if rep.snils is not None:
        sub(guardian, "id", {"root": SNILS_OID, "extension": rep.snils})
    if rep.identity_document is not None:
        _identity_doc(guardian, "identity:IdentityDoc", rep.identity_document)
    if rep.authority_document is not None:
        _identity_doc(guardian, "identity:AuthorityDoc", rep.authority_document)
    if rep.phone is not None:
        sub(guardian, "telecom", {"value": f"tel:{rep.phone}"})
    _name(sub(guardian, "guardianPerson"), rep.family, rep.given, rep.patronymic)


def _author(root: etree._Element, doc: ParsedDocument, edition: int) -> None:
    author = sub(root, "author")
    if edition >= 6:
        sub(author, "time", {"nullFlavor": "NI"})
    else:
        sub(author, "time", {"value": ts_datetime(doc.created)})
    practitioner_entity(sub(author, "assignedAuthor"), doc.author, doc.organisation)


def practitioner_entity(entity: etree._Element, who: Practitioner, org: Organisation | None) -> None:
    """``assignedAuthor``/``assignedEntity`` content: MIS id, SNILS, position, name, organisation."""
    sub(entity, "id", {"root": doc_id_root(org.oid if org else "1.2.643", "70"), "extension": who.local_id})
    if who.snils is None:
        raise ValueError(f"a Russian SEMD needs the SNILS of {who.role.value}")
    sub(entity, "id", {"root": SNILS_OID, "extension": who.snils})
    coded(entity, "code", CS.POSITION, who.position)
    _name(sub(entity, "assignedPerson"), who.family, who.given, who.patronymic)
    if org is not None:
        represented = sub(entity, "representedOrganization", {"classCode": "ORG"})
        _organisation_body(represented, org, with_props=False, with_phone=True)


def _organisation_body(element: etree._Element, org: Organisation, *, with_props: bool, with_phone: bool) -> None:
    sub(element, "id", {"root": org.oid})
    if with_props:
        props = sub(element, "identity:Props")
        if org.ogrn is not None:
            sub(props, "identity:Ogrn", text=org.ogrn, xsi_type="ST")
    sub(element, "name", text=org.name)
    if with_phone:
        _telecom(element, org.phone)
    address(element, org.address, with_type=False)


def _telecom(parent: etree._Element, phone: str | None) -> None:
    if phone is None:
        sub(parent, "telecom", {"nullFlavor": "NI"})
    else:
        sub(parent, "telecom", {"value": f"tel:{phone}"})


def _name(parent: etree._Element, family: str, given: str, patronymic: str | None) -> None:
    name = sub(parent, "name")
    sub(name, "family", text=family)
    sub(name, "given", text=given)
    if patronymic is not None:
        sub(name, "identity:Patronymic", text=patronymic, xsi_type="ST")


def address(parent: etree._Element, addr: Address, *, with_type: bool) -> etree._Element:
    """An ``addr`` per Core02 / У1-3: text line, region, postal code and FIAS GUIDs (or NI)."""
    element = sub(parent, "addr")
    if with_type:
        coded(element, "address:Type", CS.ADDRESS_TYPE, _ADDRESS_TYPE, xsi_type="CD")
    sub(element, "streetAddressLine", text=addr.text)
    coded(element, "address:stateCode", CS.REGION_RU, addr.region, xsi_type="CD")
    if addr.postal_code is not None:
        sub(element, "postalCode", text=addr.postal_code)
    else:
        sub(element, "postalCode", {"nullFlavor": "NI"})
    # У1-3 wants fias:Address with both children even where Core02 would allow a nullFlavor:
    # the street-level GUID is mandatory, the house GUID may be unknown.
    if addr.fias_aoguid is None:
        raise ValueError(f"a Russian SEMD address needs its FIAS AOGUID: {addr.text!r}")
    fias = sub(element, "fias:Address")
    sub(fias, "fias:AOGUID", text=addr.fias_aoguid)
    if addr.fias_houseguid is not None:
        sub(fias, "fias:HOUSEGUID", text=addr.fias_houseguid)
    else:
        sub(fias, "fias:HOUSEGUID", {"nullFlavor": "NI"})
    return element


# ---------------------------------------------------------------------------------------- parse


def parse_header(doc: Reader, *, author_role: SignerRole, legal_role: SignerRole) -> Header:
    """Read the shared header; roles are given by the kind (the XML does not spell them)."""
    id_el = doc.req("h:id", "local_uid")
    local_uid = id_el.attr("extension", "local_uid")
    set_id = doc.req("h:setId", "set_id").attr("extension", "set_id")
    version_text = doc.req("h:versionNumber", "version").attr("value", "version")
    try:
        version = int(version_text)
    except ValueError:
        raise DocumentError(
            DocumentErrorCode.INVALID_VALUE, f"Номер версии «{version_text}» не является числом", "version"
        ) from None
    created = doc.req("h:effectiveTime", "created").datetime_attr("created")
    title = doc.text_of("h:title", "title")
    role = doc.req("h:recordTarget/h:patientRole", "patient")
    organisation = parse_organisation(role.req("h:providerOrganization", "organisation"), "organisation")
    patient = _parse_patient(role)
    author = parse_practitioner(doc.req("h:author/h:assignedAuthor", "author"), author_role, "author")
    legal = parse_practitioner(
        doc.req("h:legalAuthenticator/h:assignedEntity", "legal_authenticator"),
        legal_role,
        "legal_authenticator",
    )
    return Header(local_uid, set_id, version, created, title, patient, organisation, author, legal)


def _parse_patient(role: Reader) -> Patient:
    ids = list(role.all("h:id"))
    local_id = next((i.opt_attr("extension") for i in ids if _org_from_root(i.opt_attr("root") or "", "10")), None)
    if local_id is None:
        raise missing("patient.local_id", f"{role.path}/id")
    snils = next((i.opt_attr("extension") for i in ids if i.opt_attr("root") == SNILS_OID), None)
    person = role.req("h:patient", "patient")
    family, given, patronymic = _parse_name(person.req("h:name", "patient.name"), "patient")
    sex_code = person.req("h:administrativeGenderCode", "patient.sex").attr("code", "patient.sex")
    try:
        sex = Sex(sex_code)
    except ValueError:
        raise DocumentError(
            DocumentErrorCode.INVALID_VALUE, f"Неизвестный код пола «{sex_code}»", "patient.sex"
        ) from None
    birth = person.req("h:birthTime", "patient.birth_date").date_attr("patient.birth_date")
    doc_el = role.opt("identity:IdentityDoc")
    identity = _parse_identity_doc(doc_el, "patient.identity_document") if doc_el is not None else None
    policy_el = role.opt("identity:InsurancePolicy[not(@nullFlavor)]")
    policy = None
    if policy_el is not None:
        policy = InsurancePolicy(
            type=policy_el.coded_of("identity:InsurancePolicyType", "patient.insurance_policy.type"),
            number=policy_el.text_of("identity:Number", "patient.insurance_policy.number"),
            series=policy_el.opt_text_of("identity:Series[not(@nullFlavor)]"),
        )
    guardian_el = person.opt("h:guardian")
    return Patient(
        local_id=local_id,
        family=family,
        given=given,
        patronymic=patronymic,
        birth_date=birth,
        sex=sex,
        address=parse_address(role.req("h:addr", "patient.address"), "patient.address"),
        identity_document=identity,
        snils=snils,
        phone=_parse_phone(role),
        insurance_policy=policy,
        legal_representative=_parse_guardian(guardian_el) if guardian_el is not None else None,
    )


def _parse_identity_doc(element: Reader, field: str) -> IdentityDocument:
    return IdentityDocument(
        type=element.coded_of("identity:IdentityCardType", f"{field}.type"),
        series=element.opt_text_of("identity:Series[not(@nullFlavor)]"),
        number=element.text_of("identity:Number", f"{field}.number"),
        issuer=element.text_of("identity:IssueOrgName", f"{field}.issuer"),
        issuer_code=element.opt_text_of("identity:IssueOrgCode[not(@nullFlavor)]"),
        issue_date=element.req("identity:IssueDate", f"{field}.issue_date").date_attr(f"{field}.issue_date"),
    )


def _parse_guardian(guardian: Reader) -> LegalRepresentative:
    field = "patient.legal_representative"
    family, given, patronymic = _parse_name(guardian.req("h:guardianPerson/h:name", field), field)
    snils_el = guardian.opt(f"h:id[@root='{SNILS_OID}']")
    doc_el = guardian.opt("identity:IdentityDoc")
    auth_el = guardian.opt("identity:AuthorityDoc")
    authority = None
    if auth_el is not None:
        sub_field = f"{field}.authority_document"
        authority = AuthorityDocument(
            type=auth_el.coded_of("identity:IdentityCardType", f"{sub_field}.type"),
            series=auth_el.opt_text_of("identity:Series[not(@nullFlavor)]"),
            number=auth_el.text_of("identity:Number", f"{sub_field}.number"),
            issuer=auth_el.text_of("identity:IssueOrgName", f"{sub_field}.issuer"),
            issue_date=auth_el.req("identity:IssueDate", f"{sub_field}.issue_date").date_attr(
                f"{sub_field}.issue_date"
            ),
        )
    return LegalRepresentative(
        family=family,
        given=given,
        patronymic=patronymic,
        snils=snils_el.attr("extension", f"{field}.snils") if snils_el is not None else None,
        phone=_parse_phone(guardian),
        identity_document=_parse_identity_doc(doc_el, f"{field}.identity_document") if doc_el else None,
        authority_document=authority,
    )


def _parse_phone(parent: Reader) -> str | None:
    for telecom in parent.all("h:telecom[@value]"):
        value = telecom.opt_attr("value") or ""
        if value.startswith("tel:"):
            return value[4:]
    return None


def _parse_name(name: Reader, field: str) -> tuple[str, str, str | None]:
    return (
        name.text_of("h:family", f"{field}.family"),
        name.text_of("h:given", f"{field}.given"),
        name.opt_text_of("identity:Patronymic"),
    )


def parse_address(addr: Reader, field: str) -> Address:
    region = addr.coded_of("address:stateCode", f"{field}.region")
    return Address(
        region=region,
        text=addr.text_of("h:streetAddressLine", f"{field}.text"),
        postal_code=addr.opt_text_of("h:postalCode[not(@nullFlavor)]"),
        fias_aoguid=addr.opt_text_of("fias:Address/fias:AOGUID"),
        fias_houseguid=addr.opt_text_of("fias:Address/fias:HOUSEGUID[not(@nullFlavor)]"),
    )


def parse_organisation(element: Reader, field: str) -> Organisation:
    address_ = parse_address(element.req("h:addr", f"{field}.address"), f"{field}.address")
    phone = _parse_phone(element)
    if phone is None:
        raise missing(f"{field}.phone", f"{element.path}/telecom")
    return Organisation(
        oid=element.req("h:id", f"{field}.oid").attr("root", f"{field}.oid"),
        name=element.text_of("h:name", f"{field}.name"),
        address=address_,
        phone=phone,
        ogrn=element.opt_text_of("identity:Props/identity:Ogrn"),
    )


def parse_practitioner(entity: Reader, role: SignerRole, field: str) -> Practitioner:
    ids = list(entity.all("h:id"))
    local_id = next((i.opt_attr("extension") for i in ids if i.opt_attr("root") != SNILS_OID), None)
    if local_id is None:
        raise missing(f"{field}.local_id", f"{entity.path}/id")
    snils = next((i.opt_attr("extension") for i in ids if i.opt_attr("root") == SNILS_OID), None)
    family, given, patronymic = _parse_name(entity.req("h:assignedPerson/h:name", f"{field}.name"), field)
    return Practitioner(
        local_id=local_id,
        family=family,
        given=given,
        patronymic=patronymic,
        position=entity.coded_of("h:code", f"{field}.position"),
        role=role,
        snils=snils,
    )


def require_roles(doc: ParsedDocument, author: SignerRole, legal: SignerRole) -> None:
    """Builders refuse a model whose roles the XML could not carry back (round trip stays exact)."""
    if doc.author.role is not author:
        raise ValueError(f"author must have role {author.value}, not {doc.author.role.value}")
    if doc.legal_authenticator.role is not legal:
        raise ValueError(f"legal_authenticator must have role {legal.value}, not {doc.legal_authenticator.role.value}")


def performers(event: etree._Element, chair: Practitioner, members: Sequence[Practitioner], org: Organisation) -> None:
    """``performer`` elements of ``serviceEvent``: the chair as PPRF, members as SPRF."""
    for type_code, who in [("PPRF", chair), *[("SPRF", m) for m in members]]:
        practitioner_entity(sub(sub(event, "performer", {"typeCode": type_code}), "assignedEntity"), who, org)

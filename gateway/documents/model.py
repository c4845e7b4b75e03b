"""Typed, immutable models of the MSE documents the gateway reads and writes.

One :class:`ParsedDocument` shape serves every kind (the SEMD referral 121/109, the MSE result
187/35, the return notice 130/108 and the Kazakh form 031/у); what only one kind carries lives in its
``details`` (:class:`ReferralDetails`, :class:`ResultDetails`, :class:`ReturnDetails`,
:class:`Kz031Details`). Builders take these models, parsers return them, and a build → parse round
trip gives back an equal model: that is the contract the tests hold every kind to.

Codes from the ministry's registries (NSI) travel as :class:`Coded` (code + display name); the code
system OID is implied by the field (see :mod:`gateway.documents.codes`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

__all__ = [
    "Address",
    "AuthorityDocument",
    "Coded",
    "Diagnoses",
    "Diagnosis",
    "DiagnosisRole",
    "DocumentDetails",
    "DocumentKind",
    "ExamForm",
    "Examination",
    "IdentityDocument",
    "InsurancePolicy",
    "Kz031Details",
    "LegalRepresentative",
    "Organisation",
    "ParsedDocument",
    "Patient",
    "Practitioner",
    "ReferralDetails",
    "ResultDetails",
    "ReturnDetails",
    "Sex",
    "SignerRole",
    "VitalSign",
    "WorkInfo",
]


class DocumentKind(enum.StrEnum):
    """The document kinds the gateway understands. SEMD kinds use their NSI 1520 number."""

    REFERRAL = "121"  # Направление на МСЭ, редакция 6 (current)
    REFERRAL_ED5 = "109"  # Направление на МСЭ, редакция 5
    MSE_RESULT = "35"  # Сведения о результатах проведенной МСЭ, редакция 2
    RETURN_NOTICE = "108"  # Уведомление о причинах возврата направления на МСЭ, редакция 1
    MSE_RESULT_ED3 = "187"  # Сведения о результатах проведенной МСЭ, редакция 3 (current)
    RETURN_NOTICE_ED2 = "130"  # Уведомление о причинах возврата направления на МСЭ, редакция 2 (current)
    KZ_031U = "kz-031u"  # Заключение на МСЭ, форма 031/у (Республика Казахстан)
    KZ_CBDI_CONCLUSION = "kz-cbdi-conclusion"  # заключение эксперта МСЭ из АИС ЦБДИ (РК), only received


class Sex(enum.StrEnum):
    """NSI 1.2.643.5.1.13.13.11.1040 codes (also used for the Kazakh form)."""

    MALE = "1"
    FEMALE = "2"


class ExamForm(enum.StrEnum):
    """How the MSE is to be (or was) held: in person or by documents (заочно)."""

    IN_PERSON = "in_person"
    BY_DOCUMENTS = "by_documents"


class SignerRole(enum.StrEnum):
    """The part a person plays in a document (who must sign it is policy, not model)."""

    AUTHOR = "AUTHOR"
    LEGAL_AUTHENTICATOR = "LEGAL_AUTHENTICATOR"
    VK_CHAIR = "VK_CHAIR"  # председатель врачебной комиссии (RU)
    VK_MEMBER = "VK_MEMBER"
    VKK_CHAIR = "VKK_CHAIR"  # председатель ВКК (KZ)
    BUREAU_HEAD = "BUREAU_HEAD"  # руководитель бюро МСЭ или уполномоченное лицо


class DiagnosisRole(enum.StrEnum):
    """NSI 1.2.643.5.1.13.13.11.1077 «Виды нозологических единиц диагноза» (subset used here)."""

    MAIN = "1"
    COMPLICATION = "2"
    CONCOMITANT = "3"


@dataclass(frozen=True, slots=True)
class Coded:
    """A code from a registry and its human name (the display name travels with the code)."""

    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address. ``region`` is the subject of the RF (NSI 1.2.643.5.1.13.13.99.2.206,
    e.g. 77 Москва) or the Kazakh region code (КАТО oblast prefix)."""

    region: Coded
    text: str
    postal_code: str | None = None
    fias_aoguid: str | None = None
    fias_houseguid: str | None = None


@dataclass(frozen=True, slots=True)
class IdentityDocument:
    """Документ, удостоверяющий личность (type per NSI 1.2.643.5.1.13.13.99.2.48)."""

    type: Coded
    number: str
    issuer: str
    issue_date: date
    series: str | None = None
    issuer_code: str | None = None


@dataclass(frozen=True, slots=True)
class AuthorityDocument:
    """Документ, удостоверяющий полномочия законного представителя (NSI 1.2.643.5.1.13.13.99.2.313)."""

    type: Coded
    number: str
    issuer: str
    issue_date: date
    series: str | None = None


@dataclass(frozen=True, slots=True)
class InsurancePolicy:
    """Полис ОМС (type per NSI 1.2.643.5.1.13.13.11.1035)."""

    type: Coded
    number: str
    series: str | None = None
    valid_from: date | None = None  # carried by edition 5 only (participant/identity:DocInfo)
    valid_to: date | None = None


@dataclass(frozen=True, slots=True)
class LegalRepresentative:
    """Законный (уполномоченный) представитель пациента."""

    family: str
    given: str
    patronymic: str | None = None
    snils: str | None = None
    iin: str | None = None
    phone: str | None = None
    identity_document: IdentityDocument | None = None
    authority_document: AuthorityDocument | None = None


@dataclass(frozen=True, slots=True)
class Patient:
    """The citizen the document is about. Russia identifies by SNILS, Kazakhstan by IIN."""

    local_id: str
    family: str
    given: str
    birth_date: date
    sex: Sex
    address: Address
    identity_document: IdentityDocument | None
    patronymic: str | None = None
    snils: str | None = None
    iin: str | None = None
    phone: str | None = None
    insurance_policy: InsurancePolicy | None = None
    legal_representative: LegalRepresentative | None = None


@dataclass(frozen=True, slots=True)
class Organisation:
    """A medical organisation or MSE bureau. ``oid`` is its FRMO/registry OID (RU); Kazakh
    organisations carry their BIN in ``bin`` and a project-assigned ``oid``."""

    oid: str
    name: str
    address: Address
    phone: str
    ogrn: str | None = None
    bin: str | None = None

    @property
    def region(self) -> Coded:
        """The region code of the organisation (that of its address)."""
        return self.address.region


@dataclass(frozen=True, slots=True)
class Practitioner:
    """A person acting in the document: author, legal authenticator, VK chair, bureau head.

    ``position`` is coded per NSI 1.2.643.5.1.13.13.11.1002 (RU) — the position REMD checks against
    the signer's certificate.
    """

    local_id: str
    family: str
    given: str
    position: Coded
    role: SignerRole
    patronymic: str | None = None
    snils: str | None = None
    iin: str | None = None


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """One nosological unit: ICD-10 code and name, and its role in the diagnosis."""

    icd10: str
    name: str
    role: DiagnosisRole = DiagnosisRole.MAIN


@dataclass(frozen=True, slots=True)
class Diagnoses:
    """The main disease and the others (complications, concomitant diseases)."""

    main: Diagnosis
    others: tuple[Diagnosis, ...] = ()


@dataclass(frozen=True, slots=True)
class Examination:
    """A medical examination done for the MSE (code per the joint order 402н/631н list, NSI
    1.2.643.5.1.13.13.99.2.857 in Russia), with its date and result text."""

    code: str
    name: str
    date: date
    result: str
    document_id: str | None = None  # the SEMD that holds the full result, when there is one


@dataclass(frozen=True, slots=True)
class VitalSign:
    """An anthropometric or physiological measurement (NSI 1.2.643.5.1.13.13.99.2.262)."""

    code: str
    name: str
    value: str
    unit: str


@dataclass(frozen=True, slots=True)
class WorkInfo:
    """Трудовая деятельность at the time of the referral."""

    employer: str
    employer_address: Address
    position: str
    qualification: str
    experience: str
    conditions: str


@dataclass(frozen=True, slots=True)
class ReferralDetails:
    """What the referral (121/109, form 088/у) says beyond the common header."""

    purpose: Coded  # NSI 1.2.643.5.1.13.13.99.2.147 — цель направления
    repeat: Coded  # NSI 1.2.643.5.1.13.13.11.1007 — первично/повторно
    vk_protocol_number: str
    vk_protocol_date: date
    issue_date: date  # дата выдачи направления гражданину
    home_exam: bool  # МСЭ на дому (гражданин не может явиться в бюро)
    palliative: bool  # нуждается в паллиативной медицинской помощи
    flag_7012: bool  # признак 7012 (NSI 1.2.643.5.1.13.13.99.2.166), см. docs/documents.md
    citizenship: Coded  # NSI 1.2.643.5.1.13.13.99.2.315
    military_duty: Coded  # NSI 1.2.643.5.1.13.13.99.2.314
    location: Coded  # NSI 1.2.643.5.1.13.13.99.2.856 — где находится гражданин
    location_org: Organisation | None  # the organisation where the citizen is (hospital etc.)
    bureau: Organisation  # бюро МСЭ, куда направлен
    vk_members: tuple[Practitioner, ...]
    observed_since_year: str
    disease_history: str
    life_history: str
    health_state: str
    vital_signs: tuple[VitalSign, ...]
    body_type: Coded  # NSI 1.2.643.5.1.13.13.11.1492
    clinical_prognosis: Coded  # NSI 1.2.643.5.1.13.13.99.2.148
    rehab_potential: Coded
    rehab_prognosis: Coded
    rec_surgery: str
    rec_prosthetics: str
    rec_spa: str
    rec_other: str
    rec_medical_rehab: str
    consent_date: date | None  # edition 6 only (section CONSENT)
    notify_by: Coded | None  # NSI 1.2.643.5.1.13.13.99.2.991 — способ информирования; edition 6 only
    education: str | None = None
    work: WorkInfo | None = None


@dataclass(frozen=True, slots=True)
class ResultDetails:
    """Сведения о результатах проведенной МСЭ (kind 35). The bureau is the document's
    ``organisation``."""

    referral_id: str  # localUid (id/@extension) of the referral the result answers
    protocol_number: str
    decision_date: date
    disability_group: Coded  # NSI 1.2.643.5.1.13.13.11.1053 (incl. «инвалидность не установлена»)
    disability_cause: Coded | None
    disability_until: date | None
    ipra_number: str | None


@dataclass(frozen=True, slots=True)
class ReturnDetails:
    """Уведомление о причинах возврата направления на МСЭ (kinds 130/108, order 360н). The bureau is
    the document's ``organisation``."""

    referral_id: str
    referral_date: date
    reasons: tuple[Coded, ...]
    comment: str


@dataclass(frozen=True, slots=True)
class Kz031Details:
    """Kazakh form 031/у beyond the common part (see docs/kz-031u.md)."""

    nosology_group: Coded  # the pilot's nosology group (kz-nosologies.tsv)
    objective_data: str
    vkk_protocol_number: str
    vkk_protocol_date: date


DocumentDetails = ReferralDetails | ResultDetails | ReturnDetails | Kz031Details


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    """One document of any kind, as the gateway understands it.

    ``local_uid`` is the document id's extension — the MIS's localUid REMD deduplicates on.
    ``set_id``/``version`` identify the version set. ``organisation`` is the MO (or bureau) that
    owns the document; ``author`` wrote it and ``legal_authenticator`` gave it legal force (the
    VK chair for a referral, the bureau head for a result).
    """

    kind: DocumentKind
    local_uid: str
    set_id: str
    version: int
    created: datetime
    title: str
    patient: Patient
    organisation: Organisation
    author: Practitioner
    legal_authenticator: Practitioner
    diagnoses: Diagnoses | None
    examinations: tuple[Examination, ...]
    exam_form: ExamForm | None
    details: DocumentDetails | None

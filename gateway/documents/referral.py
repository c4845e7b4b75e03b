"""SEMD «Направление на медико-социальную экспертизу»: kind 121 (edition 6) and 109 (edition 5).

The body follows the official schematron section by section (rules У2-1…У2-13 for sections,
У3-1…У3-41 for entries); each builder function below names the rule it satisfies. Optional parts
that the model does not carry (OUTSPECMEDCARE, LINKDOCS, disability history, medical devices) are
not written; the parser ignores them when present.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time
from typing import Final

from lxml import etree

from gateway.documents import cda_header as hdr
from gateway.documents._xml import Reader, coded, missing, sub, ts_date, ts_datetime
from gateway.documents.codes import CS, KINDS
from gateway.documents.errors import DocumentError, DocumentErrorCode
from gateway.documents.fields import EXAM_FORM_CODES, field, section_code
from gateway.documents.model import (
    Coded,
    Diagnoses,
    Diagnosis,
    DiagnosisRole,
    DocumentKind,
    ExamForm,
    Examination,
    Organisation,
    ParsedDocument,
    Patient,
    ReferralDetails,
    SignerRole,
    VitalSign,
    WorkInfo,
)

__all__ = ["build_referral", "parse_referral"]

DOC_CODE: Final = Coded("34", "Направление на медико-социальную экспертизу")
SERVICE_EVENT: Final = Coded("30", "Врачебная комиссия")  # NSI 99.2.726; unconfirmed code
DIAGNOSIS_GROUND: Final = Coded("3", "Заключительный клинический диагноз")
OMS: Final = Coded("1", "Обязательное медицинское страхование")
_ROLE_NAMES: Final = {
    DiagnosisRole.MAIN: "Основное заболевание",
    DiagnosisRole.COMPLICATION: "Осложнение основного заболевания",
    DiagnosisRole.CONCOMITANT: "Сопутствующее заболевание",
}
_NO_EDUCATION: Final = "Не обучается"
_NO_WORK: Final = "Не работает"
AUTHOR_ROLE: Final = SignerRole.AUTHOR
LEGAL_ROLE: Final = SignerRole.VK_CHAIR


def _edition(kind: DocumentKind) -> int:
    if kind is DocumentKind.REFERRAL:
        return 6
    if kind is DocumentKind.REFERRAL_ED5:
        return 5
    raise ValueError(f"not a referral kind: {kind}")


# ---------------------------------------------------------------------------------------- build


def build_referral(doc: ParsedDocument) -> etree._Element:
    """The referral as a ``ClinicalDocument`` element (serialise with :func:`build.to_bytes`)."""
    edition = _edition(doc.kind)
    details = doc.details
    if not isinstance(details, ReferralDetails):
        raise ValueError("a referral needs ReferralDetails")
    if doc.diagnoses is None:
        raise ValueError("a referral needs a diagnosis (section DGN is mandatory)")
    if edition >= 6 and (details.consent_date is None or details.notify_by is None or doc.exam_form is None):
        raise ValueError("edition 6 needs consent_date, notify_by and exam_form (section CONSENT)")
    hdr.require_roles(doc, AUTHOR_ROLE, LEGAL_ROLE)
    info = KINDS[doc.kind]
    assert info.template_id is not None
    root = hdr.build_header(doc, template_id=info.template_id, doc_code=(CS.DOC_TYPE, DOC_CODE), edition=edition)
    if edition < 6:
        _payer_ed5(root, doc)
    event = sub(sub(root, "documentationOf"), "serviceEvent")
    coded(event, "code", CS.SERVICE_EVENT, SERVICE_EVENT)
    times = sub(event, "effectiveTime")
    sub(times, "low", {"value": ts_datetime(datetime.combine(details.vk_protocol_date, time(9, 0)))})
    hdr.performers(event, doc.legal_authenticator, details.vk_members, doc.organisation)
    body = sub(sub(root, "component"), "structuredBody")
    _scoporg(body, doc, details, edition)
    _work(body, details.work)
    _edu(body, details.education)
    _socanam(body, details)
    _vitals(body, doc, details)
    _statecur(body, details)
    if doc.examinations:
        _proc(body, doc)
    build_diagnoses(body, doc.diagnoses)
    _scores(body, details)
    _regime(body, details)
    if edition >= 6:
        assert doc.exam_form is not None and details.consent_date is not None and details.notify_by is not None
        _consent(body, doc.exam_form, details)
    return root


def _payer_ed5(root: etree._Element, doc: ParsedDocument) -> None:
    """Edition 5 (У1-26 of 109.sch): exactly one payer participant, here the OMS policy."""
    policy = doc.patient.insurance_policy
    if policy is None or policy.valid_from is None or policy.valid_to is None:
        raise ValueError("edition 5 needs the OMS policy with its validity dates (participant IND)")
    entity = sub(sub(root, "participant", {"typeCode": "IND"}), "associatedEntity", {"classCode": "GUAR"})
    coded(entity, "code", CS.PAYMENT_SOURCE, OMS)
    info = sub(entity, "identity:DocInfo")
    coded(info, "identity:IdentityDocType", CS.BASIS_DOC_TYPE, Coded("1", "Полис ОМС"), xsi_type="CD")
    coded(info, "identity:InsurancePolicyType", CS.INSURANCE, policy.type, xsi_type="CD")
    if policy.type.code == "1" and policy.series is not None:
        sub(info, "identity:Series", text=policy.series, xsi_type="ST")
    else:
        sub(info, "identity:Series", {"nullFlavor": "NA"}, xsi_type="ST")
    sub(info, "identity:Number", text=policy.number, xsi_type="ST")
    sub(info, "identity:INN", {"nullFlavor": "NA"}, xsi_type="ST")
    validity = sub(info, "identity:effectiveTime")
    sub(validity, "identity:low", {"value": ts_date(policy.valid_from)}, xsi_type="TS")
    sub(validity, "identity:high", {"value": ts_date(policy.valid_to)}, xsi_type="TS")


def _section(body: etree._Element, code: str, title: str, paragraphs: list[tuple[str, str]]) -> etree._Element:
    section = sub(sub(body, "component"), "section")
    coded(section, "code", CS.SECTION, section_code(code))
    sub(section, "title", text=title)
    if paragraphs:
        text = sub(section, "text")
        for caption, content in paragraphs:
            paragraph = sub(text, "paragraph")
            sub(paragraph, "caption", text=caption)
            sub(paragraph, "content", text=content)
    return section


def _obs(parent: etree._Element, code: str, *, mood: str = "EVN") -> etree._Element:
    observation = sub(parent, "observation", {"classCode": "OBS", "moodCode": mood})
    coded(observation, "code", CS.FIELD, field(code))
    return observation


def _entry_obs(section: etree._Element, code: str) -> etree._Element:
    return _obs(sub(section, "entry"), code)


def _st(observation: etree._Element, text: str) -> None:
    sub(observation, "value", text=text, xsi_type="ST")


def _bl(value: bool) -> str:
    return "true" if value else "false"


def _scoporg(body: etree._Element, doc: ParsedDocument, d: ReferralDetails, edition: int) -> None:
    """У2-1, У3-1…У3-4: purpose, repeat, VK protocol, flags, issue date, bureau; citizenship,
    location, military duty."""
    section = _section(
        body,
        "SCOPORG",
        "НАПРАВЛЕНИЕ",
        [
            ("Гражданин направляется на медико-социальную экспертизу", d.repeat.name),
            ("Цель направления", d.purpose.name),
            ("Протокол врачебной комиссии", f"№ {d.vk_protocol_number} от {d.vk_protocol_date:%d.%m.%Y}"),
            ("Дата выдачи направления", f"{d.issue_date:%d.%m.%Y}"),
            ("Направлен в", d.bureau.name),
        ],
    )
    act = sub(sub(section, "entry"), "act", {"classCode": "ACT", "moodCode": "RQO"})
    coded(act, "code", CS.DOC_TYPE, DOC_CODE)
    sub(act, "statusCode", {"code": "active"})
    entity = sub(sub(act, "performer"), "assignedEntity")
    sub(entity, "id", {"nullFlavor": "NI"})
    bureau = sub(entity, "representedOrganization")
    sub(bureau, "id", {"root": d.bureau.oid})
    if d.bureau.ogrn is not None:  # not required by the schematron; the XSD allows extensions here
        sub(sub(bureau, "identity:Props"), "identity:Ogrn", text=d.bureau.ogrn, xsi_type="ST")
    sub(bureau, "name", text=d.bureau.name)
    sub(bureau, "telecom", {"value": f"tel:{d.bureau.phone}"})
    hdr.address(bureau, d.bureau.address, with_type=False)

    def relationship() -> etree._Element:
        return sub(act, "entryRelationship", {"typeCode": "SUBJ", "inversionInd": "true"})

    purpose = sub(relationship(), "observation", {"classCode": "OBS", "moodCode": "EVN"})
    coded(purpose, "code", CS.MSE_PURPOSE, d.purpose)
    repeat = sub(relationship(), "observation", {"classCode": "OBS", "moodCode": "EVN"})
    coded(repeat, "code", CS.REPEAT, d.repeat)
    protocol = _obs(relationship(), "4059")
    sub(protocol, "effectiveTime", {"value": ts_date(d.vk_protocol_date)})
    _st(protocol, d.vk_protocol_number)
    for code, flag in (("4060", d.home_exam), ("4061", d.palliative), ("7012", d.flag_7012)):
        sub(_obs(relationship(), code), "value", {"value": _bl(flag)}, xsi_type="BL")
    sub(_obs(relationship(), "4062"), "value", {"value": ts_date(d.issue_date)}, xsi_type="TS")

    citizenship = sub(sub(section, "entry"), "observation", {"classCode": "OBS", "moodCode": "EVN"})
    coded(citizenship, "code", CS.CITIZENSHIP, d.citizenship)
    location = sub(sub(section, "entry"), "act", {"classCode": "ACT", "moodCode": "EVN"})
    coded(location, "code", CS.LOCATION, d.location)
    if d.location_org is None:
        if edition < 6:
            raise ValueError("edition 5 needs the organisation where the citizen is (location_org)")
        sub(location, "participant", {"typeCode": "LOC", "nullFlavor": "NA"})
    else:
        place = sub(sub(location, "participant", {"typeCode": "LOC"}), "participantRole")
        sub(place, "id", {"root": d.location_org.oid})
        if d.location_org.ogrn is None:
            raise ValueError("location_org needs an OGRN (rule У3-3)")
        sub(sub(place, "identity:Props"), "identity:Ogrn", text=d.location_org.ogrn, xsi_type="ST")
        hdr.address(place, d.location_org.address, with_type=False)
    military = sub(sub(section, "entry"), "observation", {"classCode": "OBS", "moodCode": "EVN"})
    coded(military, "code", CS.MILITARY, d.military_duty)


def _work(body: etree._Element, work: WorkInfo | None) -> None:
    """У2-2, У3-5: the work organizer (employer, profession, qualification, experience)."""
    if work is None:
        _section(body, "WORK", "ТРУДОВАЯ ДЕЯТЕЛЬНОСТЬ", [("Сведения о трудовой деятельности", _NO_WORK)])
        return
    section = _section(
        body,
        "WORK",
        "ТРУДОВАЯ ДЕЯТЕЛЬНОСТЬ",
        [
            ("Место работы", work.employer),
            ("Должность", work.position),
            ("Квалификация", work.qualification),
            ("Стаж", work.experience),
            ("Условия и характер труда", work.conditions),
        ],
    )
    organizer = sub(sub(section, "entry"), "organizer", {"classCode": "CLUSTER", "moodCode": "EVN"})
    coded(organizer, "code", CS.FIELD, field("4073"))
    sub(organizer, "statusCode", {"code": "completed"})
    role = sub(sub(organizer, "participant", {"typeCode": "LOC"}), "participantRole", {"classCode": "SDLOC"})
    hdr.address(role, work.employer_address, with_type=False)
    sub(sub(role, "playingEntity"), "name", text=work.employer)

    def text_obs(parent: etree._Element, code: str, text: str) -> None:
        observation = _obs(sub(parent, "component", {"typeCode": "COMP"}), code)
        sub(observation, "text", text=text)

    text_obs(organizer, "4074", work.position)
    text_obs(organizer, "4075", work.qualification)
    text_obs(organizer, "4076", work.experience)
    current = sub(
        sub(organizer, "component", {"typeCode": "COMP"}), "organizer", {"classCode": "CLUSTER", "moodCode": "EVN"}
    )
    coded(current, "code", CS.FIELD, field("4077"))
    sub(current, "statusCode", {"code": "completed"})
    text_obs(current, "4078", work.position)
    text_obs(current, "4079", work.qualification)
    text_obs(current, "4080", work.experience)
    text_obs(organizer, "4081", work.conditions)


def _edu(body: etree._Element, education: str | None) -> None:
    """У2-3, У3-8: the profession being studied for, when the citizen studies."""
    section = _section(body, "EDU", "ОБРАЗОВАНИЕ", [("Сведения о получении образования", education or _NO_EDUCATION)])
    if education is not None:
        _st(_entry_obs(section, "4078"), education)


def _socanam(body: etree._Element, d: ReferralDetails) -> None:
    """У2-4, У3-9…У3-11: observed since, disease and life history."""
    section = _section(
        body,
        "SOCANAM",
        "АНАМНЕЗ",
        [
            ("Наблюдается в медицинской организации с", d.observed_since_year),
            ("Анамнез заболевания", d.disease_history),
            ("Анамнез жизни", d.life_history),
        ],
    )
    _st(_entry_obs(section, "4101"), d.observed_since_year)
    _st(_entry_obs(section, "4102"), d.disease_history)
    _st(_entry_obs(section, "4103"), d.life_history)


def _vitals(body: etree._Element, doc: ParsedDocument, d: ReferralDetails) -> None:
    """У2-5, У3-22 (at least three measurements), У3-23 (body type)."""
    if len(d.vital_signs) < 3:
        raise ValueError("the referral needs at least three vital signs (rule У3-22)")
    section = _section(
        body,
        "VITALPARAM",
        "АНТРОПОМЕТРИЧЕСКИЕ ДАННЫЕ И ФИЗИОЛОГИЧЕСКИЕ ПАРАМЕТРЫ",
        [(v.name, f"{v.value} {v.unit}") for v in d.vital_signs] + [("Телосложение", d.body_type.name)],
    )
    for vital in d.vital_signs:
        organizer = sub(sub(section, "entry"), "organizer", {"classCode": "CLUSTER", "moodCode": "EVN"})
        sub(organizer, "statusCode", {"code": "completed"})
        sub(organizer, "effectiveTime", {"value": ts_datetime(doc.created)})
        observation = sub(
            sub(organizer, "component", {"typeCode": "COMP"}), "observation", {"classCode": "OBS", "moodCode": "EVN"}
        )
        coded(observation, "code", CS.VITAL, Coded(vital.code, vital.name))
        sub(observation, "value", {"value": vital.value, "unit": vital.unit}, xsi_type="PQ")
    body_type = _entry_obs(section, "4108")
    coded(body_type, "value", CS.BODY_TYPE, d.body_type, xsi_type="CD")


def _statecur(body: etree._Element, d: ReferralDetails) -> None:
    """У2-6, У3-24."""
    section = _section(
        body, "STATECUR", "СОСТОЯНИЕ ПРИ НАПРАВЛЕНИИ", [("Состояние здоровья при направлении", d.health_state)]
    )
    _st(_entry_obs(section, "4109"), d.health_state)


def _proc(body: etree._Element, doc: ParsedDocument) -> None:
    """У2-7, У3-26: the examinations with date, result and the SEMD holding it."""
    section = _section(
        body,
        "PROC",
        "МЕДИЦИНСКИЕ ОБСЛЕДОВАНИЯ",
        [(f"{e.name} ({e.date:%d.%m.%Y})", e.result) for e in doc.examinations],
    )
    container = _entry_obs(section, "4110")
    for exam in doc.examinations:
        observation = sub(
            sub(container, "entryRelationship", {"typeCode": "COMP"}),
            "observation",
            {"classCode": "OBS", "moodCode": "EVN"},
        )
        coded(observation, "code", CS.MSE_EXAMINATION, Coded(exam.code, exam.name))
        sub(observation, "effectiveTime", {"value": ts_date(exam.date)})
        _st(observation, exam.result)
        external = sub(
            sub(observation, "reference", {"typeCode": "REFR"}),
            "externalDocument",
            {"classCode": "DOCCLIN", "moodCode": "EVN"},
        )
        if exam.document_id is not None:
            sub(external, "id", {"root": hdr.doc_id_root(doc.organisation.oid, "51"), "extension": exam.document_id})
        else:
            sub(external, "id", {"nullFlavor": "NI"})


def build_diagnoses(body: etree._Element, diagnoses: Diagnoses) -> None:
    """У2-8, У3-27: one act with the main disease and the others."""
    section = _section(
        body,
        "DGN",
        "ДИАГНОЗЫ",
        [(_ROLE_NAMES[d.role], f"{d.icd10} {d.name}") for d in (diagnoses.main, *diagnoses.others)],
    )
    act = sub(sub(section, "entry"), "act", {"classCode": "ACT", "moodCode": "EVN"})
    coded(act, "code", CS.DIAGNOSIS_GROUND, DIAGNOSIS_GROUND)
    for diagnosis in (diagnoses.main, *diagnoses.others):
        observation = sub(
            sub(act, "entryRelationship", {"typeCode": "COMP"}), "observation", {"classCode": "OBS", "moodCode": "EVN"}
        )
        coded(observation, "code", CS.DIAGNOSIS_ROLE, Coded(diagnosis.role.value, _ROLE_NAMES[diagnosis.role]))
        sub(observation, "statusCode", {"code": "completed"})
        coded(observation, "value", CS.ICD10, Coded(diagnosis.icd10, diagnosis.name), xsi_type="CD")


def _scores(body: etree._Element, d: ReferralDetails) -> None:
    """У2-9, У3-28…У3-30: clinical prognosis, rehabilitation potential and prognosis."""
    rows = (("4054", d.clinical_prognosis), ("4055", d.rehab_potential), ("4056", d.rehab_prognosis))
    section = _section(
        body, "SCORES", "ОБЪЕКТИВИЗИРОВАННАЯ ОЦЕНКА СОСТОЯНИЯ", [(field(c).name, v.name) for c, v in rows]
    )
    for code, value in rows:
        coded(_entry_obs(section, code), "value", CS.PROGNOSIS, value, xsi_type="CD")


def _regime(body: etree._Element, d: ReferralDetails) -> None:
    """У2-10, У3-31…У3-36: recommended treatment and other recommendations."""
    regime = sub(sub(body, "component"), "section")
    coded(regime, "code", CS.SECTION, section_code("REGIME"))
    sub(regime, "title", text="РЕКОМЕНДАЦИИ")
    treat_rows = (
        ("4111", d.rec_surgery),
        ("4112", d.rec_prosthetics),
        ("4113", d.rec_spa),
        ("12132", d.rec_medical_rehab),
    )
    treat = _section(regime, "RECTREAT", "Рекомендованное лечение", [(field(c).name, v) for c, v in treat_rows])
    for code, value in treat_rows:
        _st(_entry_obs(treat, code), value)
    other = _section(regime, "RECOTHER", "Прочие рекомендации", [(field("4114").name, d.rec_other)])
    _st(_entry_obs(other, "4114"), d.rec_other)


def _consent(body: etree._Element, exam_form: ExamForm, d: ReferralDetails) -> None:
    """У2-12, У3-38…У3-40 (edition 6): consent date, form of the exam, how to inform."""
    assert d.consent_date is not None and d.notify_by is not None
    form = EXAM_FORM_CODES[exam_form]
    section = _section(
        body,
        "CONSENT",
        "СОГЛАСИЕ ГРАЖДАНИНА",
        [
            ("Дата согласия", f"{d.consent_date:%d.%m.%Y}"),
            ("Форма проведения медико-социальной экспертизы", form.name),
            ("Способ информирования", d.notify_by.name),
        ],
    )
    sub(_entry_obs(section, "12485"), "value", {"value": ts_date(d.consent_date)}, xsi_type="TS")
    coded(_entry_obs(section, "12480"), "value", CS.EXAM_FORM, form, xsi_type="CD")
    coded(_entry_obs(section, "12481"), "value", CS.NOTIFY_BY, d.notify_by, xsi_type="CD")


# ---------------------------------------------------------------------------------------- parse

_SECTION: Final = "h:component/h:structuredBody/h:component/h:section[h:code/@code='{}']"


def _field_value(section: Reader, code: str, field_name: str) -> Reader:
    return section.req(f"h:entry/h:observation[h:code/@code='{code}']/h:value", field_name)


def parse_referral(doc: Reader, kind: DocumentKind) -> ParsedDocument:
    """Read a referral of ``kind`` (121 or 109) into the model."""
    edition = _edition(kind)
    header = hdr.parse_header(doc, author_role=AUTHOR_ROLE, legal_role=LEGAL_ROLE)
    scoporg = doc.req(_SECTION.format("SCOPORG"), "details (SCOPORG)")
    act = scoporg.req("h:entry/h:act[h:code/@code='34']", "details.purpose")
    rel = "h:entryRelationship/h:observation"
    protocol = act.req(f"{rel}[h:code/@code='4059']", "details.vk_protocol_number")
    bureau_el = act.req("h:performer/h:assignedEntity/h:representedOrganization", "details.bureau")
    bureau_addr = hdr.parse_address(bureau_el.req("h:addr", "details.bureau.address"), "details.bureau.address")
    bureau_phone = bureau_el.req("h:telecom", "details.bureau.phone").attr("value", "details.bureau.phone")
    bureau = Organisation(
        oid=bureau_el.req("h:id", "details.bureau.oid").attr("root", "details.bureau.oid"),
        name=bureau_el.text_of("h:name", "details.bureau.name"),
        address=bureau_addr,
        phone=bureau_phone.removeprefix("tel:"),
        ogrn=bureau_el.opt_text_of("identity:Props/identity:Ogrn"),
    )

    def flag(code: str) -> bool:
        value = act.req(f"{rel}[h:code/@code='{code}']/h:value", f"details.flag_{code}").attr(
            "value", f"details.flag_{code}"
        )
        if value not in {"true", "false"}:
            raise DocumentError(DocumentErrorCode.INVALID_VALUE, f"Значение признака {code} «{value}» не булево", code)
        return value == "true"

    event = doc.req("h:documentationOf/h:serviceEvent", "details.vk_members")
    members = tuple(
        hdr.parse_practitioner(p, SignerRole.VK_MEMBER, "details.vk_members")
        for p in event.all("h:performer[@typeCode='SPRF']/h:assignedEntity")
    )
    work = _parse_work(doc)
    edu = doc.req(_SECTION.format("EDU"), "details.education")
    education_el = edu.opt("h:entry/h:observation[h:code/@code='4078']/h:value")
    socanam = doc.req(_SECTION.format("SOCANAM"), "details.disease_history")
    vital = doc.req(_SECTION.format("VITALPARAM"), "details.vital_signs")
    vitals = tuple(
        VitalSign(
            code=o.req("h:code", "details.vital_signs").attr("code", "details.vital_signs.code"),
            name=o.req("h:code", "details.vital_signs").attr("displayName", "details.vital_signs.name"),
            value=o.req("h:value", "details.vital_signs").attr("value", "details.vital_signs.value"),
            unit=o.req("h:value", "details.vital_signs").attr("unit", "details.vital_signs.unit"),
        )
        for o in vital.all("h:entry/h:organizer/h:component/h:observation")
    )
    statecur = doc.req(_SECTION.format("STATECUR"), "details.health_state")
    scores = doc.req(_SECTION.format("SCORES"), "details.clinical_prognosis")
    regime = doc.req(_SECTION.format("REGIME"), "details.rec_surgery")
    treat = regime.req("h:component/h:section[h:code/@code='RECTREAT']", "details.rec_surgery")
    other = regime.req("h:component/h:section[h:code/@code='RECOTHER']", "details.rec_other")
    consent = doc.opt(_SECTION.format("CONSENT")) if edition >= 6 else None
    exam_form: ExamForm | None = None
    consent_date = None
    notify_by = None
    if edition >= 6:
        if consent is None:
            raise missing("exam_form", "structuredBody/section[CONSENT]")
        consent_date = _field_value(consent, "12485", "details.consent_date").date_attr("details.consent_date")
        notify_by = _field_value(consent, "12481", "details.notify_by").coded("details.notify_by")
        form_code = _field_value(consent, "12480", "exam_form").attr("code", "exam_form")
        exam_form = next((form for form, c in EXAM_FORM_CODES.items() if c.code == form_code), None)
        if exam_form is None:
            raise DocumentError(
                DocumentErrorCode.INVALID_VALUE, f"Неизвестный код формы проведения МСЭ «{form_code}»", "exam_form"
            )
    details = ReferralDetails(
        purpose=act.coded_of(f"{rel}/h:code[@codeSystem='{CS.MSE_PURPOSE.oid}']", "details.purpose"),
        repeat=act.coded_of(f"{rel}/h:code[@codeSystem='{CS.REPEAT.oid}']", "details.repeat"),
        vk_protocol_number=protocol.text_of("h:value", "details.vk_protocol_number"),
        vk_protocol_date=_protocol_date(protocol),
        issue_date=act.req(f"{rel}[h:code/@code='4062']/h:value", "details.issue_date").date_attr("details.issue_date"),
        home_exam=flag("4060"),
        palliative=flag("4061"),
        flag_7012=flag("7012"),
        citizenship=scoporg.coded_of(
            f"h:entry/h:observation/h:code[@codeSystem='{CS.CITIZENSHIP.oid}']", "details.citizenship"
        ),
        military_duty=scoporg.coded_of(
            f"h:entry/h:observation/h:code[@codeSystem='{CS.MILITARY.oid}']", "details.military_duty"
        ),
        location=scoporg.coded_of(f"h:entry/h:act/h:code[@codeSystem='{CS.LOCATION.oid}']", "details.location"),
        location_org=_parse_location_org(scoporg, doc),
        bureau=bureau,
        vk_members=members,
        observed_since_year=_field_value(socanam, "4101", "details.observed_since_year").text(
            "details.observed_since_year"
        ),
        disease_history=_field_value(socanam, "4102", "details.disease_history").text("details.disease_history"),
        life_history=_field_value(socanam, "4103", "details.life_history").text("details.life_history"),
        health_state=_field_value(statecur, "4109", "details.health_state").text("details.health_state"),
        vital_signs=vitals,
        body_type=_field_value(vital, "4108", "details.body_type").coded("details.body_type"),
        clinical_prognosis=_field_value(scores, "4054", "details.clinical_prognosis").coded(
            "details.clinical_prognosis"
        ),
        rehab_potential=_field_value(scores, "4055", "details.rehab_potential").coded("details.rehab_potential"),
        rehab_prognosis=_field_value(scores, "4056", "details.rehab_prognosis").coded("details.rehab_prognosis"),
        rec_surgery=_field_value(treat, "4111", "details.rec_surgery").text("details.rec_surgery"),
        rec_prosthetics=_field_value(treat, "4112", "details.rec_prosthetics").text("details.rec_prosthetics"),
        rec_spa=_field_value(treat, "4113", "details.rec_spa").text("details.rec_spa"),
        rec_other=_field_value(other, "4114", "details.rec_other").text("details.rec_other"),
        rec_medical_rehab=_field_value(treat, "12132", "details.rec_medical_rehab").text("details.rec_medical_rehab"),
        consent_date=consent_date,
        notify_by=notify_by,
        education=education_el.text("details.education") if education_el is not None else None,
        work=work,
    )
    patient = header.patient
    if edition < 6:
        patient = _with_policy_dates(doc, patient)
    return ParsedDocument(
        kind=kind,
        local_uid=header.local_uid,
        set_id=header.set_id,
        version=header.version,
        created=header.created,
        title=header.title,
        patient=patient,
        organisation=header.organisation,
        author=header.author,
        legal_authenticator=header.legal_authenticator,
        diagnoses=parse_diagnoses(doc),
        examinations=_parse_examinations(doc),
        exam_form=exam_form,
        details=details,
    )


def _parse_location_org(scoporg: Reader, doc: Reader) -> Organisation | None:
    """The organisation where the citizen is. Only its OID, OGRN and address travel in this entry;
    the name and phone are taken from the header when it is the referring MO itself."""
    place = scoporg.opt(f"h:entry/h:act[h:code/@codeSystem='{CS.LOCATION.oid}']/h:participant/h:participantRole")
    if place is None:
        return None
    oid = place.req("h:id", "details.location_org").attr("root", "details.location_org.oid")
    provider = doc.req("h:recordTarget/h:patientRole/h:providerOrganization", "organisation")
    same = provider.req("h:id", "organisation.oid").opt_attr("root") == oid
    if not same:
        raise DocumentError(
            DocumentErrorCode.INVALID_VALUE,
            "Местонахождение гражданина в сторонней организации пока не поддерживается разбором",
            "details.location_org",
        )
    return hdr.parse_organisation(provider, "details.location_org")


def _with_policy_dates(doc: Reader, patient: Patient) -> Patient:
    """Edition 5 carries the OMS policy's validity in participant/identity:DocInfo."""
    info = doc.opt("h:participant/h:associatedEntity/identity:DocInfo[not(@nullFlavor)]")
    if info is None or patient.insurance_policy is None:
        return patient
    low = info.opt("identity:effectiveTime/identity:low[@value]")
    high = info.opt("identity:effectiveTime/identity:high[@value]")
    policy = replace(
        patient.insurance_policy,
        valid_from=low.date_attr("patient.insurance_policy.valid_from") if low else None,
        valid_to=high.date_attr("patient.insurance_policy.valid_to") if high else None,
    )
    return replace(patient, insurance_policy=policy)


def _protocol_date(protocol: Reader) -> date:
    # Edition 6 writes effectiveTime/@value; older MIS wrote effectiveTime/high/@value.
    effective = protocol.req("h:effectiveTime", "details.vk_protocol_date")
    if effective.opt_attr("value") is not None:
        return effective.date_attr("details.vk_protocol_date")
    return effective.req("h:high", "details.vk_protocol_date").date_attr("details.vk_protocol_date")


def _parse_work(doc: Reader) -> WorkInfo | None:
    section = doc.req(_SECTION.format("WORK"), "details.work")
    organizer = section.opt("h:entry/h:organizer")
    if organizer is None:
        return None
    role = organizer.req("h:participant/h:participantRole", "details.work.employer")

    def text(code: str, name: str) -> str:
        return organizer.text_of(f"h:component/h:observation[h:code/@code='{code}']/h:text", f"details.work.{name}")

    return WorkInfo(
        employer=role.text_of("h:playingEntity/h:name", "details.work.employer"),
        employer_address=hdr.parse_address(role.req("h:addr", "details.work.employer_address"), "details.work"),
        position=text("4074", "position"),
        qualification=text("4075", "qualification"),
        experience=text("4076", "experience"),
        conditions=text("4081", "conditions"),
    )


def parse_diagnoses(doc: Reader) -> Diagnoses:
    """Section DGN: the main disease (role 1) and the others, in document order."""
    section = doc.req(_SECTION.format("DGN"), "diagnoses")
    found: list[Diagnosis] = []
    for observation in section.all("h:entry/h:act/h:entryRelationship/h:observation"):
        role_code = observation.req("h:code", "diagnoses.role").attr("code", "diagnoses.role")
        try:
            role = DiagnosisRole(role_code)
        except ValueError:
            raise DocumentError(
                DocumentErrorCode.INVALID_VALUE, f"Неизвестный вид нозологической единицы «{role_code}»", "diagnoses"
            ) from None
        value = observation.req("h:value", "diagnoses.icd10")
        found.append(
            Diagnosis(
                icd10=value.attr("code", "diagnoses.icd10"), name=value.attr("displayName", "diagnoses.name"), role=role
            )
        )
    main = next((d for d in found if d.role is DiagnosisRole.MAIN), None)
    if main is None:
        raise missing("diagnoses.main", section.path)
    return Diagnoses(main=main, others=tuple(d for d in found if d is not main))


def _parse_examinations(doc: Reader) -> tuple[Examination, ...]:
    section = doc.opt(_SECTION.format("PROC"))
    if section is None:
        return ()
    exams = []
    for observation in section.all("h:entry/h:observation[h:code/@code='4110']/h:entryRelationship/h:observation"):
        code = observation.req("h:code", "examinations.code")
        ext_id = observation.opt("h:reference/h:externalDocument/h:id[not(@nullFlavor)]")
        exams.append(
            Examination(
                code=code.attr("code", "examinations.code"),
                name=code.attr("displayName", "examinations.name"),
                date=observation.req("h:effectiveTime", "examinations.date").date_attr("examinations.date"),
                result=observation.text_of("h:value", "examinations.result"),
                document_id=ext_id.opt_attr("extension") if ext_id is not None else None,
            )
        )
    return tuple(exams)

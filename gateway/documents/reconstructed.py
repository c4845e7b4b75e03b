"""Shared shape of the kinds this project reconstructs (results 187/35, return notices 130/108).

No guide or schematron for «Сведения о результатах проведенной МСЭ» (187, 35) or «Уведомление о
причинах возврата направления на МСЭ» (130, 108) was at hand, so their structure is this project's:
the header is exactly the 121 edition 6 header (same rules У1-*), the body uses the 121 conventions
(``section/code``, ``entry/observation`` with ``code`` + typed ``value``), and what has no official
code (section and field codes, return reasons) is coded in this project's own code systems under
the UUID OID arc ``PROJECT_OID`` — never under a ministry arc. docs/documents.md describes it.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Final

from lxml import etree

from gateway.documents import cda_header as hdr
from gateway.documents._xml import Reader, coded, sub, ts_date, ts_datetime
from gateway.documents.codes import CS, KINDS, PROJECT_OID, CodeSystem
from gateway.documents.model import Coded, ParsedDocument, SignerRole

__all__ = [
    "AUTHOR_ROLE",
    "LEGAL_ROLE",
    "REFERRAL_ID_ROOT",
    "build_shell",
    "cd",
    "field_value",
    "obs",
    "opt_field_value",
    "project_field",
    "referral_id",
    "referral_reference",
    "section",
    "section_reader",
    "st",
    "ts",
]

AUTHOR_ROLE: Final = SignerRole.AUTHOR
LEGAL_ROLE: Final = SignerRole.BUREAU_HEAD
# externalDocument/id root meaning «localUid of the referral this document answers».
REFERRAL_ID_ROOT: Final = f"{PROJECT_OID}.6"
MSE_EVENT: Final = Coded("31", "Медико-социальная экспертиза")  # NSI 99.2.726; unconfirmed code

PROJECT_FIELDS: Final[dict[str, str]] = {
    "referral": "Направление на медико-социальную экспертизу, к которому относится документ",
    "referral_date": "Дата направления на медико-социальную экспертизу",
    "protocol_number": "Номер протокола проведения медико-социальной экспертизы",
    "decision_date": "Дата принятия решения",
    "disability_group": "Группа инвалидности",
    "disability_cause": "Причина инвалидности",
    "disability_until": "Срок, до которого установлена инвалидность",
    "ipra_number": "Номер индивидуальной программы реабилитации или абилитации",
    "return_reason": "Причина возврата направления",
    "comment": "Пояснение",
    "exam_form": "Форма проведения медико-социальной экспертизы",
}
PROJECT_SECTIONS: Final[dict[str, str]] = {
    "MSE_RESULT": "Результаты проведенной медико-социальной экспертизы",
    "RETURN_REASONS": "Причины возврата направления на медико-социальную экспертизу",
}


def project_field(code: str) -> Coded:
    return Coded(code, PROJECT_FIELDS[code])


def build_shell(doc: ParsedDocument, event_date: date) -> tuple[etree._Element, etree._Element]:
    """Header + documentationOf (the bureau head as PPRF) + an empty structuredBody."""
    hdr.require_roles(doc, AUTHOR_ROLE, LEGAL_ROLE)
    info = KINDS[doc.kind]
    assert info.template_id is not None and not info.official
    root = hdr.build_header(
        doc, template_id=info.template_id, doc_code=(CS.SEMD_KIND, Coded(doc.kind.value, info.title)), edition=6
    )
    event = sub(sub(root, "documentationOf"), "serviceEvent")
    coded(event, "code", CS.SERVICE_EVENT, MSE_EVENT)
    sub(sub(event, "effectiveTime"), "low", {"value": ts_datetime(datetime.combine(event_date, time(9, 0)))})
    hdr.performers(event, doc.legal_authenticator, (), doc.organisation)
    body = sub(sub(root, "component"), "structuredBody")
    return root, body


def section(body: etree._Element, code: str, paragraphs: list[tuple[str, str]]) -> etree._Element:
    element = sub(sub(body, "component"), "section")
    coded(element, "code", CS.PROJECT_SECTION, Coded(code, PROJECT_SECTIONS[code]))
    sub(element, "title", text=PROJECT_SECTIONS[code])
    text = sub(element, "text")
    for caption, content in paragraphs:
        paragraph = sub(text, "paragraph")
        sub(paragraph, "caption", text=caption)
        sub(paragraph, "content", text=content)
    return element


def obs(section_el: etree._Element, code: str) -> etree._Element:
    observation = sub(sub(section_el, "entry"), "observation", {"classCode": "OBS", "moodCode": "EVN"})
    coded(observation, "code", CS.PROJECT_FIELD, project_field(code))
    return observation


def st(section_el: etree._Element, code: str, text: str) -> None:
    sub(obs(section_el, code), "value", text=text, xsi_type="ST")


def ts(section_el: etree._Element, code: str, value: date) -> None:
    sub(obs(section_el, code), "value", {"value": ts_date(value)}, xsi_type="TS")


def cd(section_el: etree._Element, code: str, system: CodeSystem, value: Coded) -> None:
    coded(obs(section_el, code), "value", system, value, xsi_type="CD")


def referral_reference(section_el: etree._Element, referral_id: str) -> None:
    observation = obs(section_el, "referral")
    external = sub(
        sub(observation, "reference", {"typeCode": "REFR"}),
        "externalDocument",
        {"classCode": "DOCCLIN", "moodCode": "EVN"},
    )
    sub(external, "id", {"root": REFERRAL_ID_ROOT, "extension": referral_id})


def section_reader(doc: Reader, code: str) -> Reader:
    return doc.req(
        f"h:component/h:structuredBody/h:component/h:section[h:code/@code='{code}'][h:code/@codeSystem='{CS.PROJECT_SECTION.oid}']",
        f"details ({code})",
    )


def field_value(section_el: Reader, code: str, field: str) -> Reader:
    return section_el.req(f"h:entry/h:observation[h:code/@code='{code}']/h:value", field)


def opt_field_value(section_el: Reader, code: str) -> Reader | None:
    return section_el.opt(f"h:entry/h:observation[h:code/@code='{code}']/h:value")


def referral_id(section_el: Reader) -> str:
    return section_el.req(
        f"h:entry/h:observation[h:code/@code='referral']/h:reference/h:externalDocument/h:id[@root='{REFERRAL_ID_ROOT}']",
        "details.referral_id",
    ).attr("extension", "details.referral_id")

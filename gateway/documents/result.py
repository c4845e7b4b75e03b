"""Kinds 187 (edition 3, current) and 35 (edition 2) «Сведения о результатах проведенной МСЭ» —
project reconstruction (see :mod:`gateway.documents.reconstructed`): the bureau (``organisation``)
tells the MO the decision on the referral ``referral_id``, signed by the bureau head
(``legal_authenticator``). Both editions share the structure here; only the templateId and the
document code (the kind) differ, because no public guide of either edition was found."""

from __future__ import annotations

from lxml import etree

from gateway.documents import cda_header as hdr
from gateway.documents import reconstructed as rc
from gateway.documents._xml import Reader
from gateway.documents.codes import CS
from gateway.documents.errors import DocumentError, DocumentErrorCode
from gateway.documents.fields import EXAM_FORM_CODES
from gateway.documents.model import DocumentKind, ParsedDocument, ResultDetails
from gateway.documents.referral import build_diagnoses, parse_diagnoses

__all__ = ["RESULT_KINDS", "build_result", "parse_result"]

RESULT_KINDS: frozenset[DocumentKind] = frozenset({DocumentKind.MSE_RESULT_ED3, DocumentKind.MSE_RESULT})


def build_result(doc: ParsedDocument) -> etree._Element:
    d = doc.details
    if doc.kind not in RESULT_KINDS:
        raise ValueError(f"kind {doc.kind.value} is not an MSE result (187/35)")
    if not isinstance(d, ResultDetails):
        raise ValueError("an MSE result needs ResultDetails")
    root, body = rc.build_shell(doc, d.decision_date)
    paragraphs = [
        ("Протокол", f"№ {d.protocol_number} от {d.decision_date:%d.%m.%Y}"),
        ("Решение", d.disability_group.name),
    ]
    if d.disability_cause is not None:
        paragraphs.append(("Причина инвалидности", d.disability_cause.name))
    if d.disability_until is not None:
        paragraphs.append(("Срок", f"до {d.disability_until:%d.%m.%Y}"))
    section = rc.section(body, "MSE_RESULT", paragraphs)
    rc.referral_reference(section, d.referral_id)
    rc.st(section, "protocol_number", d.protocol_number)
    rc.ts(section, "decision_date", d.decision_date)
    rc.cd(section, "disability_group", CS.DISABILITY_GROUP, d.disability_group)
    if d.disability_cause is not None:
        rc.cd(section, "disability_cause", CS.DISABILITY_CAUSE, d.disability_cause)
    if d.disability_until is not None:
        rc.ts(section, "disability_until", d.disability_until)
    if d.ipra_number is not None:
        rc.st(section, "ipra_number", d.ipra_number)
    if doc.exam_form is not None:
        rc.cd(section, "exam_form", CS.EXAM_FORM, EXAM_FORM_CODES[doc.exam_form])
    if doc.diagnoses is not None:
        build_diagnoses(body, doc.diagnoses)
    return root


def parse_result(doc: Reader, kind: DocumentKind = DocumentKind.MSE_RESULT_ED3) -> ParsedDocument:
    header = hdr.parse_header(doc, author_role=rc.AUTHOR_ROLE, legal_role=rc.LEGAL_ROLE)
    section = rc.section_reader(doc, "MSE_RESULT")
    cause = rc.opt_field_value(section, "disability_cause")
    until = rc.opt_field_value(section, "disability_until")
    ipra = rc.opt_field_value(section, "ipra_number")
    form_el = rc.opt_field_value(section, "exam_form")
    exam_form = None
    if form_el is not None:
        code = form_el.attr("code", "exam_form")
        exam_form = next((f for f, c in EXAM_FORM_CODES.items() if c.code == code), None)
        if exam_form is None:
            raise DocumentError(
                DocumentErrorCode.INVALID_VALUE, f"Неизвестный код формы проведения МСЭ «{code}»", "exam_form"
            )
    has_dgn = doc.opt("h:component/h:structuredBody/h:component/h:section[h:code/@code='DGN']") is not None
    return ParsedDocument(
        kind=kind,
        local_uid=header.local_uid,
        set_id=header.set_id,
        version=header.version,
        created=header.created,
        title=header.title,
        patient=header.patient,
        organisation=header.organisation,
        author=header.author,
        legal_authenticator=header.legal_authenticator,
        diagnoses=parse_diagnoses(doc) if has_dgn else None,
        examinations=(),
        exam_form=exam_form,
        details=ResultDetails(
            referral_id=rc.referral_id(section),
            protocol_number=rc.field_value(section, "protocol_number", "details.protocol_number").text(
                "details.protocol_number"
            ),
            decision_date=rc.field_value(section, "decision_date", "details.decision_date").date_attr(
                "details.decision_date"
            ),
            disability_group=rc.field_value(section, "disability_group", "details.disability_group").coded(
                "details.disability_group"
            ),
            disability_cause=cause.coded("details.disability_cause") if cause is not None else None,
            disability_until=until.date_attr("details.disability_until") if until is not None else None,
            ipra_number=ipra.text("details.ipra_number") if ipra is not None else None,
        ),
    )

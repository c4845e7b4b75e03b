"""Kinds 130 (edition 2, current) and 108 (edition 1) «Уведомление о причинах возврата направления
на МСЭ» — project reconstruction (see :mod:`gateway.documents.reconstructed`; the form itself is set
by order 360н): the bureau returns the referral ``referral_id`` to the MO with coded reasons and an
explanation. Both editions share the structure here; only the templateId and the document code (the
kind) differ, because no public guide of either edition was found."""

from __future__ import annotations

from lxml import etree

from gateway.documents import cda_header as hdr
from gateway.documents import reconstructed as rc
from gateway.documents._xml import Reader, missing
from gateway.documents.codes import CS
from gateway.documents.model import DocumentKind, ParsedDocument, ReturnDetails

__all__ = ["RETURN_KINDS", "build_return_notice", "parse_return_notice"]

RETURN_KINDS: frozenset[DocumentKind] = frozenset({DocumentKind.RETURN_NOTICE_ED2, DocumentKind.RETURN_NOTICE})


def build_return_notice(doc: ParsedDocument) -> etree._Element:
    d = doc.details
    if doc.kind not in RETURN_KINDS:
        raise ValueError(f"kind {doc.kind.value} is not a return notice (130/108)")
    if not isinstance(d, ReturnDetails):
        raise ValueError("a return notice needs ReturnDetails")
    if not d.reasons:
        raise ValueError("a return notice needs at least one reason")
    root, body = rc.build_shell(doc, doc.created.date())
    paragraphs = [("Направление от", f"{d.referral_date:%d.%m.%Y}")]
    paragraphs += [("Причина возврата", reason.name) for reason in d.reasons]
    paragraphs.append(("Пояснение", d.comment))
    section = rc.section(body, "RETURN_REASONS", paragraphs)
    rc.referral_reference(section, d.referral_id)
    rc.ts(section, "referral_date", d.referral_date)
    for reason in d.reasons:
        rc.cd(section, "return_reason", CS.RETURN_REASON, reason)
    rc.st(section, "comment", d.comment)
    return root


def parse_return_notice(doc: Reader, kind: DocumentKind = DocumentKind.RETURN_NOTICE_ED2) -> ParsedDocument:
    header = hdr.parse_header(doc, author_role=rc.AUTHOR_ROLE, legal_role=rc.LEGAL_ROLE)
    section = rc.section_reader(doc, "RETURN_REASONS")
    reasons = tuple(
        value.coded("details.reasons")
        for value in section.all("h:entry/h:observation[h:code/@code='return_reason']/h:value")
    )
    if not reasons:
        raise missing("details.reasons", section.path)
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
        diagnoses=None,
        examinations=(),
        exam_form=None,
        details=ReturnDetails(
            referral_id=rc.referral_id(section),
            referral_date=rc.field_value(section, "referral_date", "details.referral_date").date_attr(
                "details.referral_date"
            ),
            reasons=reasons,
            comment=rc.field_value(section, "comment", "details.comment").text("details.comment"),
        ),
    )

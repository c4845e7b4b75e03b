"""The ЕАВИИАС business content of SMEV 3 messages (stand-in schema ``eaviias-sandbox-1.0.xsd``).

- :func:`referral_request` — SendRequest's ``MessagePrimaryContent`` for one referral: routing
  metadata, the signed CDA and its detached signatures;
- :func:`parse_notice` — a bureau's notice from GetResponse's business content, checked against the
  schema when the instance uses the stand-in namespace and roots;
- :func:`notice_content` — the same notice built (the sandbox twin's side).

Namespace and root elements are configuration (``[peers.<name>.eaviias]``): no public SMEV kind of
data for MSE referrals exists, so the defaults are the project's stand-in, to be replaced by the
official one (docs/eaviias.md). The referral's files travel inline (base64) through
:func:`carry_files` — the one function to change when SMEV attachments over MTOM are available.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Final

from lxml import etree

from adapters.smev3.eaviias.notices import NoticeType
from gateway.intake.submission import CanonicalSubmission
from gateway.wire.safexml import XmlSecurityError, XmlSyntaxError, make_parser, parse_xml

__all__ = [
    "STANDIN_NAMESPACE",
    "STANDIN_NOTICE_ROOT",
    "STANDIN_REFERRAL_ROOT",
    "Appointment",
    "CarriedFile",
    "EaviiasContentError",
    "Notice",
    "Reason",
    "carry_files",
    "notice_content",
    "parse_notice",
    "parse_referral",
    "referral_request",
    "standin_schema",
]

STANDIN_NAMESPACE: Final = "urn://x-artefacts-mse-gateway/eaviias-sandbox/1.0"
STANDIN_REFERRAL_ROOT: Final = "MseReferralRequest"
STANDIN_NOTICE_ROOT: Final = "MseNotice"
_SCHEMA_FILE: Final = "eaviias-sandbox-1.0.xsd"
DOCUMENT_ID: Final = "referral"


class EaviiasContentError(ValueError):
    """Business content that is not a usable ЕАВИИАС message; ``code`` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@cache
def standin_schema() -> etree.XMLSchema:
    text = resources.files("adapters.smev3.eaviias").joinpath(_SCHEMA_FILE).read_bytes()
    return etree.XMLSchema(etree.fromstring(text, parser=make_parser()))


@dataclass(frozen=True, slots=True)
class CarriedFile:
    """One file of the referral: the CDA (``signs`` empty) or a detached signature of it."""

    file_id: str
    mime_type: str
    data: bytes
    signs: str = ""  # for a signature: the id of the file it signs
    signature_type: str = ""  # "personal" / "organization"


def carry_files(parent: etree._Element, namespace: str, files: Sequence[CarriedFile]) -> None:
    """Put the referral's files into the content. Inline base64 for now; with SMEV attachments
    (MTOM) this function returns attachment contents and writes references instead."""
    for f in files:
        if f.signs:
            el = etree.SubElement(parent, f"{{{namespace}}}Signature")
            el.set("id", f.file_id)
            el.set("signs", f.signs)
            el.set("type", f.signature_type)
        else:
            el = etree.SubElement(parent, f"{{{namespace}}}Document")
            el.set("id", f.file_id)
            el.set("mimeType", f.mime_type)
        el.text = base64.b64encode(f.data).decode("ascii")


def _add(parent: etree._Element, namespace: str, name: str, value: str | None) -> etree._Element | None:
    if value is None:
        return None
    child = etree.SubElement(parent, f"{{{namespace}}}{name}")
    child.text = value
    return child


def referral_files(canonical: CanonicalSubmission) -> list[CarriedFile]:
    files = [CarriedFile(DOCUMENT_ID, canonical.document_mime, canonical.document)]
    for n, sig in enumerate(canonical.signatures, 1):
        if sig.cms is not None:  # an enveloped XMLDSig travels inside the document itself
            files.append(CarriedFile(f"sig-{n}", "application/pkcs7-signature", sig.cms, DOCUMENT_ID, sig.type))
    return files


def referral_request(
    canonical: CanonicalSubmission,
    *,
    namespace: str = STANDIN_NAMESPACE,
    root: str = STANDIN_REFERRAL_ROOT,
    region: str | None = None,
    bureau_code: str = "",
) -> bytes:
    """The SendRequest content for one referral (routing metadata, the CDA, its signatures)."""
    element = etree.Element(f"{{{namespace}}}{root}", nsmap={"ea": namespace})
    routing = etree.SubElement(element, f"{{{namespace}}}Routing")
    _add(routing, namespace, "LocalUid", canonical.local_uid)
    _add(routing, namespace, "DocumentKind", canonical.kind)
    _add(routing, namespace, "OrganizationOid", canonical.organization_oid)
    _add(routing, namespace, "Region", region or None)
    _add(routing, namespace, "BureauCode", bureau_code or None)
    _add(routing, namespace, "CreatedAt", canonical.creation_datetime.isoformat())
    _add(routing, namespace, "SourceSystem", canonical.source_system)
    carry_files(element, namespace, referral_files(canonical))
    return bytes(etree.tostring(element, encoding="UTF-8"))


@dataclass(frozen=True, slots=True)
class ReferralRequest:
    """A referral as the bureau (the twin) reads it."""

    local_uid: str
    kind: str
    organization_oid: str
    region: str | None
    bureau_code: str | None
    created_at: datetime
    source_system: str
    document: bytes
    document_mime: str
    signatures: tuple[tuple[str, bytes], ...]  # (type, CMS DER)


def _text(root: etree._Element, namespace: str, path: str) -> str | None:
    found = root.find(path, namespaces={"ea": namespace})
    if found is None:
        return None
    return (found.text or "").strip()


def _b64(value: str | None, what: str) -> bytes:
    try:
        return base64.b64decode(value or "", validate=True)
    except (binascii.Error, ValueError):
        raise EaviiasContentError("EAVIIAS_BAD_BASE64", f"{what} is not base64") from None


def _parse(content: bytes, namespace: str, root_name: str, validate: bool) -> etree._Element:
    try:
        root = parse_xml(content)
    except (XmlSecurityError, XmlSyntaxError) as exc:
        raise EaviiasContentError("EAVIIAS_MALFORMED", str(exc)[:300]) from None
    if etree.QName(root) != etree.QName(namespace, root_name):
        raise EaviiasContentError("EAVIIAS_UNEXPECTED_ROOT", f"root is {root.tag}, expected {{{namespace}}}{root_name}")
    if validate:
        schema = standin_schema()
        if not schema.validate(root):
            errors = "; ".join(f"line {e.line}: {e.message}" for e in schema.error_log[:5])  # type: ignore[index,unused-ignore]
            raise EaviiasContentError("EAVIIAS_SCHEMA_INVALID", errors[:1000])
    return root


def parse_referral(
    content: bytes, *, namespace: str = STANDIN_NAMESPACE, root: str = STANDIN_REFERRAL_ROOT, validate: bool = True
) -> ReferralRequest:
    el = _parse(content, namespace, root, validate)
    document = el.find("ea:Document", namespaces={"ea": namespace})
    if document is None:
        raise EaviiasContentError("EAVIIAS_NO_DOCUMENT", "the referral carries no document")
    found = el.iterfind("ea:Signature", namespaces={"ea": namespace})
    signatures = tuple((s.get("type", ""), _b64(s.text, "a signature")) for s in found)
    created = _text(el, namespace, "ea:Routing/ea:CreatedAt") or ""
    try:
        created_at = datetime.fromisoformat(created)
    except ValueError:
        raise EaviiasContentError("EAVIIAS_BAD_DATE", f"CreatedAt {created!r}") from None
    return ReferralRequest(
        local_uid=_text(el, namespace, "ea:Routing/ea:LocalUid") or "",
        kind=_text(el, namespace, "ea:Routing/ea:DocumentKind") or "",
        organization_oid=_text(el, namespace, "ea:Routing/ea:OrganizationOid") or "",
        region=_text(el, namespace, "ea:Routing/ea:Region"),
        bureau_code=_text(el, namespace, "ea:Routing/ea:BureauCode"),
        created_at=created_at,
        source_system=_text(el, namespace, "ea:Routing/ea:SourceSystem") or "",
        document=_b64(document.text, "the document"),
        document_mime=document.get("mimeType", ""),
        signatures=signatures,
    )


@dataclass(frozen=True, slots=True)
class Reason:
    code: str  # the reason's code (order 360n; the sandbox's list in docs/eaviias.md)
    text: str


@dataclass(frozen=True, slots=True)
class Appointment:
    at: datetime
    form: str  # in-person / absentee / at-home
    place: str = ""


@dataclass(frozen=True, slots=True)
class Notice:
    """One notice of the bureau about one referral."""

    notice_id: str
    notice_type: NoticeType
    local_uid: str
    organization_oid: str
    bureau_code: str
    region: str
    event_at: datetime
    registration_number: str | None = None
    bureau_name: str = ""
    received_at: datetime | None = None
    reasons: tuple[Reason, ...] = ()
    appointment: Appointment | None = None
    text: str = ""
    document: bytes | None = None
    document_mime: str = ""
    document_kind: str | None = None
    signatures: tuple[tuple[str, bytes], ...] = field(default_factory=tuple)


def _dt(value: str | None, what: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise EaviiasContentError("EAVIIAS_BAD_DATE", f"{what} {value!r}") from None
    if parsed.tzinfo is None:
        raise EaviiasContentError("EAVIIAS_BAD_DATE", f"{what} {value!r} has no time zone")
    return parsed


def parse_notice(
    content: bytes, *, namespace: str = STANDIN_NAMESPACE, root: str = STANDIN_NOTICE_ROOT, validate: bool = True
) -> Notice:
    """A notice from GetResponse's business content; EaviiasContentError with a code otherwise."""
    el = _parse(content, namespace, root, validate)
    ns = {"ea": namespace}
    raw_type = _text(el, namespace, "ea:NoticeType") or ""
    try:
        notice_type = NoticeType(raw_type)
    except ValueError:
        raise EaviiasContentError("EAVIIAS_UNKNOWN_NOTICE_TYPE", f"notice type {raw_type!r}") from None
    event_at = _dt(_text(el, namespace, "ea:EventAt"), "EventAt")
    if event_at is None:
        raise EaviiasContentError("EAVIIAS_BAD_DATE", "EventAt missing")
    appointment = None
    if (ap := el.find("ea:Appointment", namespaces=ns)) is not None:
        at = _dt(_text(ap, namespace, "ea:At"), "Appointment/At")
        assert at is not None or not validate
        if at is not None:
            appointment = Appointment(at, _text(ap, namespace, "ea:Form") or "", _text(ap, namespace, "ea:Place") or "")
    document = el.find("ea:Document", namespaces=ns)
    return Notice(
        notice_id=_text(el, namespace, "ea:NoticeId") or "",
        notice_type=notice_type,
        local_uid=_text(el, namespace, "ea:LocalUid") or "",
        organization_oid=_text(el, namespace, "ea:OrganizationOid") or "",
        registration_number=_text(el, namespace, "ea:RegistrationNumber") or None,
        bureau_code=_text(el, namespace, "ea:Bureau/ea:Code") or "",
        region=_text(el, namespace, "ea:Bureau/ea:Region") or "",
        bureau_name=_text(el, namespace, "ea:Bureau/ea:Name") or "",
        received_at=_dt(_text(el, namespace, "ea:ReceivedAt"), "ReceivedAt"),
        event_at=event_at,
        reasons=tuple(Reason(r.get("code", ""), (r.text or "").strip()) for r in el.iterfind("ea:Reason", ns)),
        appointment=appointment,
        text=_text(el, namespace, "ea:Text") or "",
        document=_b64(document.text, "the document") if document is not None else None,
        document_mime=document.get("mimeType", "") if document is not None else "",
        document_kind=_text(el, namespace, "ea:DocumentKind"),
        signatures=tuple((s.get("type", ""), _b64(s.text, "a signature")) for s in el.iterfind("ea:Signature", ns)),
    )


def notice_content(notice: Notice, *, namespace: str = STANDIN_NAMESPACE, root: str = STANDIN_NOTICE_ROOT) -> bytes:
    """The business XML of a notice (what the bureau sends; the sandbox twin builds it)."""
    ns = namespace
    el = etree.Element(f"{{{ns}}}{root}", nsmap={"ea": ns})
    _add(el, ns, "NoticeId", notice.notice_id)
    _add(el, ns, "NoticeType", notice.notice_type.value)
    _add(el, ns, "LocalUid", notice.local_uid)
    _add(el, ns, "OrganizationOid", notice.organization_oid)
    _add(el, ns, "RegistrationNumber", notice.registration_number)
    bureau = etree.SubElement(el, f"{{{ns}}}Bureau")
    _add(bureau, ns, "Code", notice.bureau_code)
    _add(bureau, ns, "Region", notice.region)
    _add(bureau, ns, "Name", notice.bureau_name or None)
    _add(el, ns, "ReceivedAt", notice.received_at.isoformat() if notice.received_at else None)
    _add(el, ns, "EventAt", notice.event_at.isoformat())
    for reason in notice.reasons:
        r = _add(el, ns, "Reason", reason.text)
        assert r is not None
        r.set("code", reason.code)
    if notice.appointment is not None:
        ap = etree.SubElement(el, f"{{{ns}}}Appointment")
        _add(ap, ns, "At", notice.appointment.at.isoformat())
        _add(ap, ns, "Form", notice.appointment.form)
        _add(ap, ns, "Place", notice.appointment.place or None)
    _add(el, ns, "Text", notice.text or None)
    if notice.document is not None:
        files = [CarriedFile("document", notice.document_mime or "application/xml", notice.document)]
        carry_files(el, ns, files)
        _add(el, ns, "DocumentKind", notice.document_kind)
        signed = [
            CarriedFile(f"sig-{n}", "application/pkcs7-signature", cms, "document", kind)
            for n, (kind, cms) in enumerate(notice.signatures, 1)
        ]
        carry_files(el, ns, signed)
    return bytes(etree.tostring(el, encoding="UTF-8"))

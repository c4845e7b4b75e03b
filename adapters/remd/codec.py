"""XML ⇄ message values for every REMD body element (built with lxml, parsed by local names).

Parsers take an element that came out of :func:`adapters.remd.soap.parse_envelope` (so it already
went through gateway.wire.safexml) and raise :class:`MessageError` — coded, never an lxml or
ValueError — when a required field is missing or garbled. They match children by local name, so a
peer that qualifies nested elements differently is still understood; builders always qualify
(elementFormDefault="qualified" in the reconstructed XSD).
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Final

from lxml import etree

from adapters.remd.messages import (
    CodedValue,
    DocumentFile,
    DocumentRegisteredNotification,
    Errors,
    GetDocumentFileRequest,
    GetDocumentFileResponse,
    Patient,
    PersonalSignature,
    RegisterDocumentRequest,
    RegisterDocumentResult,
    RegistryItem,
    RegistryMatch,
    SearchRegistryItemRequest,
    SearchRegistryItemResponse,
    SignatureData,
    Signer,
    StatusResponse,
)
from adapters.remd.soap import CALLBACK_NS, SERVICE_NS, child, child_text, children, local_name
from gateway.common.timestamps import parse_timestamp
from gateway.model import ErrorCode

__all__ = [
    "MOSCOW",
    "MessageError",
    "build_get_document_file_request",
    "build_get_document_file_response",
    "build_register_document_request",
    "build_register_document_response",
    "build_register_document_result",
    "build_result_ack",
    "build_search_request",
    "build_search_response",
    "format_datetime",
    "parse_datetime",
    "parse_get_document_file_request",
    "parse_get_document_file_response",
    "parse_register_document_request",
    "parse_register_document_response",
    "parse_register_document_result",
    "parse_result_ack",
    "parse_search_request",
    "parse_search_response",
]

# REMD is a federal system on Moscow time: a timestamp without an offset is read as MSK.
MOSCOW: Final = timezone(timedelta(hours=3), "MSK")
_S: Final = f"{{{SERVICE_NS}}}"
_C: Final = f"{{{CALLBACK_NS}}}"
_WS: Final = re.compile(r"\s+")


class MessageError(ValueError):
    """A well-formed envelope whose body is not the message it claims to be."""

    code = ErrorCode.SCHEMA_INVALID

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# -- scalar helpers ------------------------------------------------------------------------------


def format_datetime(value: datetime) -> str:
    """xs:dateTime with an offset. A naive value is taken as UTC (SQLite returns naive UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


def parse_datetime(text: str, *, field: str = "dateTime") -> datetime:
    """Parse xs:dateTime; no offset means Moscow time (see MOSCOW)."""
    try:  # lower-case t/z accepted; a value that overflows when converted to UTC is not
        return parse_timestamp(text, default_zone=MOSCOW)
    except ValueError:
        raise MessageError(f"{field}: not an xs:dateTime: {text[:40]!r}", field=field) from None


def _b64decode(text: str, field: str) -> bytes:
    try:
        return base64.b64decode(_WS.sub("", text), validate=True)
    except (binascii.Error, ValueError):
        raise MessageError(f"{field}: not valid base64", field=field) from None


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _required(el: etree._Element, name: str, where: str) -> str:
    value = child_text(el, name)
    if value is None:
        raise MessageError(f"{where}/{name} is missing", field=f"{where}/{name}")
    return value


def _int(text: str, field: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise MessageError(f"{field}: not an integer", field=field) from None
    if not 0 <= value <= 0xFFFFFFFF:
        raise MessageError(f"{field}: out of range", field=field)
    return value


def _expect(el: etree._Element, name: str) -> None:
    if local_name(el) != name:
        raise MessageError(f"expected {name}, got {local_name(el)}")


def _sub(parent: etree._Element, ns: str, name: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, f"{ns}{name}")
    if text is not None:
        el.text = text
    return el


def _opt(parent: etree._Element, ns: str, name: str, text: str | None) -> None:
    if text is not None:
        _sub(parent, ns, name, text)


def _root(ns_uri: str, prefix: str, name: str) -> etree._Element:
    return etree.Element(f"{{{ns_uri}}}{name}", nsmap={prefix: ns_uri})


def _status(el: etree._Element, where: str) -> bool:
    status = _required(el, "status", where).lower()
    if status not in {"success", "error"}:
        raise MessageError(f"{where}/status: {status[:20]!r} is neither success nor error", field=f"{where}/status")
    return status == "success"


def _errors(el: etree._Element) -> Errors:
    holder = child(el, "errors")
    if holder is None:
        return ()
    return tuple(
        (child_text(item, "code") or "UNKNOWN", child_text(item, "message") or "") for item in children(holder, "item")
    )


def _build_errors(parent: etree._Element, ns: str, errors: Errors) -> None:
    if not errors:
        return
    holder = _sub(parent, ns, "errors")
    for code, message in errors:
        item = _sub(holder, ns, "item")
        _sub(item, ns, "code", code)
        _sub(item, ns, "message", message)


def _coded(parent: etree._Element, name: str, value: CodedValue | None) -> None:
    if value is None:
        return
    el = _sub(parent, _S, name, value.code)
    if value.version is not None:
        el.set("version", value.version)


def _parse_coded(el: etree._Element, name: str) -> CodedValue | None:
    c = child(el, name)
    if c is None or not (c.text or "").strip():
        return None
    return CodedValue((c.text or "").strip(), c.get("version"))


def _signature(parent: etree._Element, name: str, sig: SignatureData) -> None:
    el = _sub(parent, _S, name)
    _sub(el, _S, "data", _b64encode(sig.data))
    _sub(el, _S, "checksum", str(sig.checksum))


def _parse_signature(el: etree._Element, where: str) -> SignatureData:
    return SignatureData(
        data=_b64decode(_required(el, "data", where), f"{where}/data"),
        checksum=_int(_required(el, "checksum", where), f"{where}/checksum"),
    )


def _document(parent: etree._Element, name: str, doc: DocumentFile) -> None:
    el = _sub(parent, _S, name)
    if doc.data is not None:
        _sub(el, _S, "data", _b64encode(doc.data))
    _sub(el, _S, "checksum", str(doc.checksum))


def _parse_document(el: etree._Element, where: str) -> DocumentFile:
    data = child_text(el, "data")
    return DocumentFile(
        data=_b64decode(data, f"{where}/data") if data is not None else None,
        checksum=_int(_required(el, "checksum", where), f"{where}/checksum"),
    )


# -- registerDocument ----------------------------------------------------------------------------


def build_register_document_request(req: RegisterDocumentRequest) -> etree._Element:
    root = _root(SERVICE_NS, "emdr", "registerDocumentRequest")
    _sub(root, _S, "localUid", req.local_uid)
    _sub(root, _S, "kind", req.kind)
    _sub(root, _S, "organization", req.organization)
    _opt(root, _S, "department", req.department)
    _opt(root, _S, "documentNumber", req.document_number)
    _sub(root, _S, "creationDateTime", format_datetime(req.creation_datetime))
    if req.patient is not None and (req.patient.snils or req.patient.local_id):
        patient = _sub(root, _S, "patient")
        _opt(patient, _S, "snils", req.patient.snils)
        _opt(patient, _S, "localId", req.patient.local_id)
    _document(root, "document", req.document)
    _signatures(root, req.org_signature, req.personal_signatures)
    return root


def _signatures(
    root: etree._Element, org_signature: SignatureData | None, personal_signatures: tuple[PersonalSignature, ...]
) -> None:
    if org_signature is not None:
        _signature(root, "orgSignature", org_signature)
    if personal_signatures:
        holder = _sub(root, _S, "personalSignatures")
        for ps in personal_signatures:
            item = _sub(holder, _S, "item")
            signer = _sub(item, _S, "signer")
            s = ps.signer
            _opt(signer, _S, "localId", s.local_id)
            _opt(signer, _S, "snils", s.snils)
            _coded(signer, "role", s.role)
            _coded(signer, "position", s.position)
            _coded(signer, "speciality", s.speciality)
            _opt(signer, _S, "department", s.department)
            _signature(item, "signature", ps.signature)


def parse_register_document_request(el: etree._Element) -> RegisterDocumentRequest:
    _expect(el, "registerDocumentRequest")
    w = "registerDocumentRequest"
    doc_el = child(el, "document")
    if doc_el is None:
        raise MessageError(f"{w}/document is missing", field=f"{w}/document")
    patient_el = child(el, "patient")
    patient = (
        Patient(snils=child_text(patient_el, "snils"), local_id=child_text(patient_el, "localId"))
        if patient_el is not None
        else None
    )
    org_signature, personal = _parse_signatures(el, w)
    return RegisterDocumentRequest(
        local_uid=_required(el, "localUid", w),
        kind=_required(el, "kind", w),
        organization=_required(el, "organization", w),
        creation_datetime=parse_datetime(_required(el, "creationDateTime", w), field=f"{w}/creationDateTime"),
        document=_parse_document(doc_el, f"{w}/document"),
        department=child_text(el, "department"),
        document_number=child_text(el, "documentNumber"),
        patient=patient,
        org_signature=org_signature,
        personal_signatures=personal,
    )


def _parse_signatures(el: etree._Element, w: str) -> tuple[SignatureData | None, tuple[PersonalSignature, ...]]:
    org_el = child(el, "orgSignature")
    personal: list[PersonalSignature] = []
    holder = child(el, "personalSignatures")
    for i, item in enumerate(children(holder, "item") if holder is not None else []):
        where = f"{w}/personalSignatures/item[{i + 1}]"
        signer_el = child(item, "signer")
        sig_el = child(item, "signature")
        if signer_el is None or sig_el is None:
            raise MessageError(f"{where}: signer and signature are required", field=where)
        signer = Signer(
            local_id=child_text(signer_el, "localId"),
            snils=child_text(signer_el, "snils"),
            role=_parse_coded(signer_el, "role"),
            position=_parse_coded(signer_el, "position"),
            speciality=_parse_coded(signer_el, "speciality"),
            department=child_text(signer_el, "department"),
        )
        personal.append(PersonalSignature(signer, _parse_signature(sig_el, f"{where}/signature")))
    org = _parse_signature(org_el, f"{w}/orgSignature") if org_el is not None else None
    return org, tuple(personal)


def build_register_document_response(resp: StatusResponse) -> etree._Element:
    root = _root(SERVICE_NS, "emdr", "registerDocumentResponse")
    _sub(root, _S, "status", "success" if resp.success else "error")
    _build_errors(root, _S, resp.errors)
    return root


def parse_register_document_response(el: etree._Element) -> StatusResponse:
    _expect(el, "registerDocumentResponse")
    return StatusResponse(success=_status(el, "registerDocumentResponse"), errors=_errors(el))


# -- searchRegistryItem --------------------------------------------------------------------------


def build_search_request(req: SearchRegistryItemRequest) -> etree._Element:
    root = _root(SERVICE_NS, "emdr", "searchRegistryItemRequest")
    _sub(root, _S, "organization", req.organization)
    _sub(root, _S, "kind", req.kind)
    _sub(root, _S, "registerDateBegin", format_datetime(req.begin))
    _sub(root, _S, "registerDateEnd", format_datetime(req.end))
    _opt(root, _S, "patientSnils", req.patient_snils)
    _opt(root, _S, "searchBy", req.search_by)
    return root


def parse_search_request(el: etree._Element) -> SearchRegistryItemRequest:
    _expect(el, "searchRegistryItemRequest")
    w = "searchRegistryItemRequest"
    return SearchRegistryItemRequest(
        organization=_required(el, "organization", w),
        kind=_required(el, "kind", w),
        begin=parse_datetime(_required(el, "registerDateBegin", w), field=f"{w}/registerDateBegin"),
        end=parse_datetime(_required(el, "registerDateEnd", w), field=f"{w}/registerDateEnd"),
        patient_snils=child_text(el, "patientSnils"),
        search_by=child_text(el, "searchBy"),
    )


def build_search_response(resp: SearchRegistryItemResponse) -> etree._Element:
    root = _root(SERVICE_NS, "emdr", "searchRegistryItemResponse")
    _sub(root, _S, "status", "success" if resp.success else "error")
    if resp.success:
        matches = _sub(root, _S, "matches")
        for m in resp.matches:
            item = _sub(matches, _S, "item")
            _sub(item, _S, "localUid", m.local_uid)
            _sub(item, _S, "emdrId", m.emdr_id)
            _sub(item, _S, "registrationDateTime", format_datetime(m.registered_at))
            _opt(item, _S, "kind", m.kind)
            _opt(item, _S, "organization", m.organization)
    _build_errors(root, _S, resp.errors)
    return root


def parse_search_response(el: etree._Element) -> SearchRegistryItemResponse:
    _expect(el, "searchRegistryItemResponse")
    w = "searchRegistryItemResponse/matches/item"
    matches: list[RegistryMatch] = []
    holder = child(el, "matches")
    for item in children(holder, "item") if holder is not None else []:
        matches.append(
            RegistryMatch(
                local_uid=_required(item, "localUid", w),
                emdr_id=_required(item, "emdrId", w),
                registered_at=parse_datetime(
                    _required(item, "registrationDateTime", w), field=f"{w}/registrationDateTime"
                ),
                kind=child_text(item, "kind"),
                organization=child_text(item, "organization"),
            )
        )
    return SearchRegistryItemResponse(
        success=_status(el, "searchRegistryItemResponse"), matches=tuple(matches), errors=_errors(el)
    )


# -- registerDocumentResult (callback) -----------------------------------------------------------


def build_register_document_result(result: RegisterDocumentResult) -> etree._Element:
    root = _root(CALLBACK_NS, "cb", "registerDocumentResult")
    _sub(root, _C, "relatesToMessage", result.relates_to_message)
    _sub(root, _C, "status", "success" if result.success else "error")
    _sub(root, _C, "kind", result.kind)
    _sub(root, _C, "organization", result.organization)
    _sub(root, _C, "localUid", result.local_uid)
    item = result.registry_item
    if item is not None:
        holder = _sub(root, _C, "registryItem")
        _sub(holder, _C, "emdrId", item.emdr_id)
        _sub(holder, _C, "registrationDateTime", format_datetime(item.registered_at))
        if item.created_at is not None:
            _sub(holder, _C, "creationDateTime", format_datetime(item.created_at))
    _build_errors(root, _C, result.errors)
    return root


def parse_register_document_result(el: etree._Element) -> RegisterDocumentResult:
    _expect(el, "registerDocumentResult")
    w = "registerDocumentResult"
    item_el = child(el, "registryItem")
    item = None
    if item_el is not None:
        iw = f"{w}/registryItem"
        # Public callback logs also show registrationDate; accept it as a spelling of the same.
        reg = child_text(item_el, "registrationDateTime") or child_text(item_el, "registrationDate")
        created = child_text(item_el, "creationDateTime")
        emdr_id = child_text(item_el, "emdrId")
        if emdr_id is not None:
            if reg is None:
                raise MessageError(f"{iw}/registrationDateTime is missing", field=f"{iw}/registrationDateTime")
            item = RegistryItem(
                emdr_id=emdr_id,
                registered_at=parse_datetime(reg, field=f"{iw}/registrationDateTime"),
                created_at=parse_datetime(created, field=f"{iw}/creationDateTime") if created else None,
            )
    return RegisterDocumentResult(
        relates_to_message=child_text(el, "relatesToMessage") or "",
        success=_status(el, w),
        kind=child_text(el, "kind") or "",
        organization=child_text(el, "organization") or "",
        local_uid=_required(el, "localUid", w),
        registry_item=item,
        errors=_errors(el),
    )


def build_result_ack(success: bool = True) -> etree._Element:
    root = _root(CALLBACK_NS, "cb", "registerDocumentResultResponse")
    _sub(root, _C, "status", "success" if success else "error")
    return root


def parse_result_ack(el: etree._Element) -> bool:
    _expect(el, "registerDocumentResultResponse")
    return _status(el, "registerDocumentResultResponse")


# -- getDocumentFile -----------------------------------------------------------------------------


def build_get_document_file_request(req: GetDocumentFileRequest) -> etree._Element:
    root = _root(SERVICE_NS, "emdr", "getDocumentFileRequest")
    _sub(root, _S, "localUid", req.local_uid)
    _sub(root, _S, "organization", req.organization)
    _opt(root, _S, "kind", req.kind)
    return root


def parse_get_document_file_request(el: etree._Element) -> GetDocumentFileRequest:
    _expect(el, "getDocumentFileRequest")
    w = "getDocumentFileRequest"
    return GetDocumentFileRequest(
        local_uid=_required(el, "localUid", w),
        organization=_required(el, "organization", w),
        kind=child_text(el, "kind"),
    )


def build_get_document_file_response(resp: GetDocumentFileResponse) -> etree._Element:
    root = _root(SERVICE_NS, "emdr", "getDocumentFileResponse")
    _sub(root, _S, "status", "success" if resp.success else "error")
    if resp.document is not None:
        _document(root, "document", resp.document)
    _signatures(root, resp.org_signature, resp.personal_signatures)
    _build_errors(root, _S, resp.errors)
    return root


def parse_get_document_file_response(el: etree._Element) -> GetDocumentFileResponse:
    _expect(el, "getDocumentFileResponse")
    w = "getDocumentFileResponse"
    doc_el = child(el, "document")
    org_signature, personal = _parse_signatures(el, w)
    return GetDocumentFileResponse(
        success=_status(el, w),
        document=_parse_document(doc_el, f"{w}/document") if doc_el is not None else None,
        errors=_errors(el),
        org_signature=org_signature,
        personal_signatures=personal,
    )


# -- documentRegisteredNotification (reconstructed, issue 16) -------------------------------------


def build_document_registered_notification(n: DocumentRegisteredNotification) -> etree._Element:
    root = _root(CALLBACK_NS, "cb", "documentRegisteredNotification")
    _sub(root, _C, "emdrId", n.emdr_id)
    _sub(root, _C, "localUid", n.local_uid)
    _sub(root, _C, "kind", n.kind)
    _sub(root, _C, "organization", n.organization)
    _sub(root, _C, "recipient", n.recipient)
    _sub(root, _C, "registrationDateTime", format_datetime(n.registered_at))
    return root


def parse_document_registered_notification(el: etree._Element) -> DocumentRegisteredNotification:
    _expect(el, "documentRegisteredNotification")
    w = "documentRegisteredNotification"
    return DocumentRegisteredNotification(
        emdr_id=_required(el, "emdrId", w),
        local_uid=_required(el, "localUid", w),
        kind=_required(el, "kind", w),
        organization=_required(el, "organization", w),
        recipient=_required(el, "recipient", w),
        registered_at=parse_datetime(_required(el, "registrationDateTime", w), field=f"{w}/registrationDateTime"),
    )


def build_notification_ack(success: bool = True) -> etree._Element:
    root = _root(CALLBACK_NS, "cb", "documentRegisteredNotificationResponse")
    _sub(root, _C, "status", "success" if success else "error")
    return root

"""Envelope ⇄ canonical model for REMD: what the gateway sends, and what REMD's answers mean.

- outbound: (Submission, CanonicalSubmission) → registerDocumentRequest / searchRegistryItemRequest
  (``localUid`` is always ``Submission.local_uid``, so a resend is recognisably the same document);
- inbound: the synchronous answer → :class:`Answer`, the search answer → :class:`LookupResult`, the
  ``registerDocumentResult`` callback → :class:`PeerOutcome`;
- the SOAP front door: registerDocumentRequest → the canonical submission JSON, and an outcome
  notice → registerDocumentResult for the MIS.

Nothing here raises for what a peer sent: garbled input becomes an answer with a code.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from adapters.remd import codec
from adapters.remd.messages import (
    CodedValue,
    DocumentFile,
    Patient,
    PersonalSignature,
    RegisterDocumentRequest,
    RegisterDocumentResult,
    RegistryItem,
    SearchRegistryItemRequest,
    SearchRegistryItemResponse,
    SignatureData,
    Signer,
    StatusResponse,
)
from adapters.remd.soap import Addressing, Envelope, EnvelopeError, build_envelope, parse_envelope
from gateway.common.logs import get_logger
from gateway.common.pii import normalise_person_id
from gateway.intake.submission import CanonicalSubmission
from gateway.model import EnvelopeIn, Submission
from gateway.peers.contract import Answer, AnswerKind, LookupResult, PeerOutcome

__all__ = [
    "ACTION_REGISTER",
    "ACTION_RESULT",
    "ACTION_SEARCH",
    "CDA_MIME",
    "LOOKUP_WINDOW_AFTER",
    "LOOKUP_WINDOW_BEFORE",
    "PEER",
    "MappingError",
    "build_register_document",
    "build_register_document_result_envelope",
    "build_search",
    "canonical_from_request",
    "lookup_from_reply",
    "outcome_from_result",
    "register_answer",
    "result_from_notice",
    "to_register_request",
    "to_search_request",
]

PEER: Final = "remd"
ACTION_REGISTER: Final = "registerDocument"
ACTION_SEARCH: Final = "searchRegistryItem"
ACTION_RESULT: Final = "sendRegisterDocumentResult"
CDA_MIME: Final = "application/x-hl7-cda-level-one+xml"
# searchRegistryItem window around the submission: registration happens after the gateway
# journalled it; the day before absorbs clock skew between REMD and the gateway.
LOOKUP_WINDOW_BEFORE: Final = timedelta(days=1)
LOOKUP_WINDOW_AFTER: Final = timedelta(days=1)

_log: Final = get_logger(__name__)

StatusDecoder = Callable[[Envelope], StatusResponse]
SearchDecoder = Callable[[Envelope], SearchRegistryItemResponse]


class MappingError(ValueError):
    """A canonical submission REMD cannot carry, or a REMD request the canonical model cannot.
    ``code`` is a REMD code (the front door answers with it)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# -- outbound ------------------------------------------------------------------------------------


def _snils(value: str | None) -> str | None:
    if not value:
        return None
    digits = normalise_person_id(value)
    return digits if len(digits) == 11 else None


def _coded(value: str | None) -> CodedValue | None:
    return CodedValue(value) if value else None


def to_register_request(
    sub: Submission, canonical: CanonicalSubmission, *, inline_document: bool = True
) -> RegisterDocumentRequest:
    """The registerDocumentRequest for one submission. Identity fields come from the journal
    record (``localUid`` = ``sub.local_uid`` on every attempt); the rest from the canonical form.
    XMLDSig signatures live inside the document and are not sent; REMD carries one organisation
    signature, so any further ones are dropped (and logged)."""
    org_signature: SignatureData | None = None
    personal: list[PersonalSignature] = []
    for entry in canonical.signatures:
        if entry.cms is None:
            continue
        if entry.type == "organization":
            if org_signature is None:
                org_signature = SignatureData.of(entry.cms)
            else:
                _log.warning("extra organisation signature not sent to REMD", local_uid=sub.local_uid)
            continue
        signer = entry.signer
        personal.append(
            PersonalSignature(
                signer=Signer(
                    local_id=signer.get("local_id"),
                    snils=_snils(signer.get("snils")),
                    role=_coded(signer.get("role_code")),
                    position=_coded(signer.get("position_code")),
                    speciality=_coded(signer.get("speciality_code")),
                ),
                signature=SignatureData.of(entry.cms),
            )
        )
    snils = _snils(canonical.patient.get("snils"))
    return RegisterDocumentRequest(
        local_uid=sub.local_uid,
        kind=sub.kind,
        organization=sub.organization_oid,
        creation_datetime=canonical.creation_datetime,
        document=DocumentFile.of(canonical.document, inline=inline_document),
        department=canonical.department,
        document_number=canonical.document_number,
        patient=Patient(snils=snils) if snils else None,
        org_signature=org_signature,
        personal_signatures=tuple(personal),
    )


def build_register_document(
    sub: Submission,
    canonical: CanonicalSubmission,
    *,
    message_id: str,
    reply_to: str | None,
    client_entity_id: str,
    to: str | None = None,
    inline_document: bool = True,
) -> bytes:
    """A complete registerDocument envelope built with lxml (the client builds the same message
    with zeep from the WSDL; tests check the two agree)."""
    body = codec.build_register_document_request(to_register_request(sub, canonical, inline_document=inline_document))
    addressing = Addressing(message_id=message_id, action=ACTION_REGISTER, to=to, reply_to=reply_to)
    return build_envelope(body, addressing=addressing, client_entity_id=client_entity_id)


def to_search_request(sub: Submission, canonical: CanonicalSubmission, *, now: datetime) -> SearchRegistryItemRequest:
    """searchRegistryItem for reconciliation: same organisation and kind, registered between a
    day before the submission was journalled and a day after now, for the same patient."""
    return SearchRegistryItemRequest(
        organization=sub.organization_oid,
        kind=sub.kind,
        begin=sub.created_at - LOOKUP_WINDOW_BEFORE,
        end=now + LOOKUP_WINDOW_AFTER,
        patient_snils=_snils(canonical.patient.get("snils")),
    )


def build_search(
    req: SearchRegistryItemRequest, *, message_id: str, client_entity_id: str, to: str | None = None
) -> bytes:
    addressing = Addressing(message_id=message_id, action=ACTION_SEARCH, to=to)
    return build_envelope(codec.build_search_request(req), addressing=addressing, client_entity_id=client_entity_id)


# -- synchronous answers -------------------------------------------------------------------------


def _decode_status(env: Envelope) -> StatusResponse:
    assert env.body is not None
    return codec.parse_register_document_response(env.body)


def _decode_search(env: Envelope) -> SearchRegistryItemResponse:
    assert env.body is not None
    return codec.parse_search_response(env.body)


def register_answer(
    http_status: int,
    body: bytes,
    *,
    envelopes: Sequence[EnvelopeIn] = (),
    retry_after: float | None = None,
    decode: StatusDecoder = _decode_status,
) -> Answer:
    """What REMD's synchronous answer to registerDocument means.

    ``status=success`` → ACCEPTED (await the callback); errors/item → REFUSED with the codes as
    REMD spelled them; a SOAP fault → REFUSED with the fault's REMD codes or ``SOAP_FAULT``; no
    parseable SOAP answer (HTML from a proxy, a 5xx page, garbage) → NO_ANSWER. ``decode`` turns
    the body element into a StatusResponse (the client passes its zeep decoder).
    """

    def no_answer(error: str) -> Answer:
        return Answer(
            AnswerKind.NO_ANSWER,
            http_status=http_status,
            error=error,
            envelopes=envelopes,
            retry_after_seconds=retry_after,
        )

    try:
        env = parse_envelope(body)
    except EnvelopeError as exc:
        return no_answer(f"HTTP {http_status}, not a SOAP 1.2 answer ({exc.code}): {exc.message[:200]}")
    if env.fault is not None:
        return Answer(
            AnswerKind.REFUSED,
            codes=env.fault.codes(),
            http_status=http_status,
            envelopes=envelopes,
            retry_after_seconds=retry_after,
        )
    if env.operation != "registerDocumentResponse":
        return no_answer(f"HTTP {http_status}, unexpected answer element {env.operation!r}")
    try:
        resp = decode(env)
    except (codec.MessageError, ValueError, TypeError, AttributeError) as exc:
        return no_answer(f"HTTP {http_status}, unreadable registerDocumentResponse: {exc}"[:300])
    if not 200 <= http_status < 300:
        return no_answer(f"HTTP {http_status} with a registerDocumentResponse body")
    if resp.success:
        return Answer(AnswerKind.ACCEPTED, codes=resp.errors, http_status=http_status, envelopes=envelopes)
    codes = resp.errors or (("UNKNOWN", "REMD answered status=error without errors/item"),)
    return Answer(
        AnswerKind.REFUSED, codes=codes, http_status=http_status, envelopes=envelopes, retry_after_seconds=retry_after
    )


def lookup_from_reply(
    http_status: int,
    body: bytes,
    *,
    local_uid: str,
    organization: str,
    envelopes: Sequence[EnvelopeIn] = (),
    decode: SearchDecoder = _decode_search,
) -> LookupResult:
    """What REMD's searchRegistryItem answer says about ``local_uid``: found when a match carries
    the same localUid (compared case-insensitively: UUID spelling varies between systems) and,
    when the match names one, the same organisation."""
    try:
        env = parse_envelope(body)
    except EnvelopeError as exc:
        return LookupResult(
            None, error=f"HTTP {http_status}, not a SOAP 1.2 answer: {exc.message[:200]}", envelopes=envelopes
        )
    if env.fault is not None:
        text = "; ".join(f"{c}: {m}" for c, m in env.fault.codes())
        return LookupResult(None, error=f"HTTP {http_status}, SOAP fault: {text}"[:500], envelopes=envelopes)
    if env.operation != "searchRegistryItemResponse":
        return LookupResult(None, error=f"unexpected answer element {env.operation!r}", envelopes=envelopes)
    try:
        resp = decode(env)
    except (codec.MessageError, ValueError, TypeError, AttributeError) as exc:
        return LookupResult(None, error=f"unreadable searchRegistryItemResponse: {exc}"[:300], envelopes=envelopes)
    if not resp.success or not 200 <= http_status < 300:
        text = "; ".join(f"{c}: {m}" for c, m in resp.errors) or f"HTTP {http_status}, status=error"
        return LookupResult(None, error=text[:500], envelopes=envelopes)
    wanted = local_uid.strip().lower()
    found = sorted(
        (
            m
            for m in resp.matches
            if m.local_uid.strip().lower() == wanted and (m.organization is None or m.organization == organization)
        ),
        key=lambda m: m.registered_at,
    )
    if not found:
        return LookupResult(False, envelopes=envelopes)
    first = found[0]
    return LookupResult(
        True, peer_registration_id=first.emdr_id, registered_at=first.registered_at, envelopes=envelopes
    )


# -- callbacks -----------------------------------------------------------------------------------


def outcome_from_result(
    result: RegisterDocumentResult,
    *,
    envelopes: Sequence[EnvelopeIn] = (),
    peer: str = PEER,
    peer_message_id: str | None = None,
) -> PeerOutcome:
    """registerDocumentResult → PeerOutcome. An error result without errors/item still carries a
    code, so the core never classifies an empty list. ``peer_message_id`` is the callback's own
    wsa:MessageID: REMD redelivers a callback it saw no answer to under the same id, and the core
    records a peer message once per id."""
    codes = result.errors
    if not result.success and not codes:
        codes = (("UNKNOWN", "REMD answered status=error without errors/item"),)
    item = result.registry_item
    return PeerOutcome(
        peer=peer,
        local_uid=result.local_uid,
        organization_oid=result.organization or None,
        success=result.success,
        codes=codes,
        peer_registration_id=item.emdr_id if item else None,
        registered_at=item.registered_at if item else None,
        relates_to=result.relates_to_message or None,
        envelopes=envelopes,
        peer_message_id=peer_message_id or None,
    )


def build_register_document_result_envelope(
    result: RegisterDocumentResult, *, message_id: str, to: str | None, relates_to: str | None
) -> bytes:
    addressing = Addressing(message_id=message_id, action=ACTION_RESULT, to=to, relates_to=relates_to)
    return build_envelope(codec.build_register_document_result(result), addressing=addressing)


# -- the SOAP front door -------------------------------------------------------------------------

_FINAL_ERROR_DEFAULTS: Final = {"FAILED": "RUNTIME_ERROR", "REJECTED": "VALIDATION_ERROR"}


def result_from_notice(notice: Mapping[str, Any]) -> RegisterDocumentResult:
    """An outcome notice (gateway/notices/build.py) as REMD's registerDocumentResult for the MIS that
    submitted through the SOAP front door: ``relatesToMessage`` is the MIS's own MessageID
    (``origin_ref``). REGISTERED → success with registryItem (emdrId = the peer's registration
    id, registrationDateTime = when the gateway learnt it); FAILED/REJECTED → error with the
    outcome code. Raises MappingError when the notice cannot be expressed (no origin_ref)."""
    origin_ref = notice.get("origin_ref")
    if not origin_ref:
        raise MappingError("WRONG_MESSAGE_ID", "the notice has no origin_ref (the MIS's MessageID)")
    state = str(notice.get("state", ""))
    outcome = notice.get("outcome") or {}
    at = datetime.fromisoformat(str(notice["at"]))
    success = state == "REGISTERED"
    item = None
    errors: tuple[tuple[str, str], ...] = ()
    if success:
        emdr_id = outcome.get("peer_registration_id")
        if emdr_id:
            item = RegistryItem(emdr_id=str(emdr_id), registered_at=at)
    else:
        code = outcome.get("code") or _FINAL_ERROR_DEFAULTS.get(state, "RUNTIME_ERROR")
        errors = ((str(code), str(outcome.get("message") or state)),)
    return RegisterDocumentResult(
        relates_to_message=str(origin_ref),
        success=success,
        kind=str(notice.get("kind", "")),
        organization=str(notice.get("organization_oid", "")),
        local_uid=str(notice.get("local_uid", "")),
        registry_item=item,
        errors=errors,
    )


def canonical_from_request(
    req: RegisterDocumentRequest, *, source_system: str, callback_url: str | None
) -> dict[str, Any]:
    """A REMD registerDocumentRequest as the canonical submission JSON
    (gateway/schemas/submission.schema.json). Raises MappingError(FILE_WAS_NOT_SENT) when the
    request has no document content: the gateway needs the bytes to verify the signatures."""
    if req.document.data is None:
        raise MappingError(
            "FILE_WAS_NOT_SENT", "document/data is required: the gateway verifies the signatures before forwarding"
        )
    signatures: list[dict[str, Any]] = []
    if req.org_signature is not None:
        signatures.append({"type": "organization", "cms": base64.b64encode(req.org_signature.data).decode()})
    for ps in req.personal_signatures:
        s = ps.signer
        signer = {
            k: v
            for k, v in {
                "snils": s.snils,
                "local_id": s.local_id,
                "role_code": s.role.code if s.role else None,
                "position_code": s.position.code if s.position else None,
                "speciality_code": s.speciality.code if s.speciality else None,
            }.items()
            if v
        }
        signatures.append({"type": "personal", "signer": signer, "cms": base64.b64encode(ps.signature.data).decode()})
    data: dict[str, Any] = {
        "source_system": source_system,
        "local_uid": req.local_uid,
        "kind": req.kind,
        "organization_oid": req.organization,
        "creation_datetime": codec.format_datetime(req.creation_datetime),
        "document": base64.b64encode(req.document.data).decode(),
        "document_mime": CDA_MIME,
        "signatures": signatures,
    }
    if req.department:
        data["department"] = req.department
    if req.document_number:
        data["document_number"] = req.document_number
    if req.patient is not None and req.patient.snils:
        data["patient"] = {"snils": req.patient.snils}
    if callback_url:
        data["callback_url"] = callback_url
    return data

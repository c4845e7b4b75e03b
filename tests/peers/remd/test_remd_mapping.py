"""Canonical ⇄ REMD mapping, and what REMD's answers mean (pure functions, table-driven)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from remd_kit import ORG, cms_bytes, document_bytes, make_submission

from adapters.remd import codec, mapping
from adapters.remd.codes import remd_code_table
from adapters.remd.messages import (
    DocumentFile,
    RegisterDocumentResult,
    RegistryItem,
    RegistryMatch,
    SearchRegistryItemResponse,
    StatusResponse,
    checksum,
)
from adapters.remd.soap import Addressing, SoapFault, build_envelope, build_fault, parse_envelope
from gateway.delivery.classify import Verdict, classify_answer, classify_transport
from gateway.intake.submission import parse_submission
from gateway.model import EnvelopeIn, State
from gateway.notices.build import build_notice
from gateway.peers.contract import AnswerKind

T0 = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)


def test_register_request_takes_identity_from_the_journal_and_maps_signatures() -> None:
    sub, canonical = make_submission()
    req = mapping.to_register_request(sub, canonical)
    assert req.local_uid == sub.local_uid
    assert (req.kind, req.organization) == ("121", ORG)
    assert req.creation_datetime == canonical.creation_datetime
    assert req.document == DocumentFile(canonical.document, checksum(canonical.document))
    assert canonical.document.startswith(document_bytes())
    assert req.patient is not None and req.patient.snils == "11223344595"
    assert req.org_signature is not None and req.org_signature.data == cms_bytes(512)
    (personal,) = req.personal_signatures
    assert personal.signature.data == cms_bytes(256)
    assert personal.signer.snils == "12345678964"
    assert personal.signer.local_id == "doc-17"
    assert personal.signer.role is not None and personal.signer.role.code == "AUTHOR"
    assert personal.signer.position is not None and personal.signer.position.code == "73"
    assert personal.signer.speciality is not None and personal.signer.speciality.code == "27"
    assert req.document_number == "088-2026-001"


def test_a_resend_carries_the_same_local_uid() -> None:
    sub, canonical = make_submission("fixed-uid-1")
    first = mapping.build_register_document(sub, canonical, message_id="m-1", reply_to=None, client_entity_id="e")
    second = mapping.build_register_document(sub, canonical, message_id="m-2", reply_to=None, client_entity_id="e")
    bodies = [parse_envelope(x).body for x in (first, second)]
    assert all(b is not None for b in bodies)
    uids = {codec.parse_register_document_request(b).local_uid for b in bodies if b is not None}
    assert uids == {"fixed-uid-1"}


def test_search_window_spans_the_submission() -> None:
    sub, canonical = make_submission(created_at=T0)
    now = T0 + timedelta(hours=5)
    req = mapping.to_search_request(sub, canonical, now=now)
    assert req.begin == T0 - timedelta(days=1)
    assert req.end == now + timedelta(days=1)
    assert (req.organization, req.kind, req.patient_snils) == (ORG, "121", "11223344595")


def _reply(body: object, **addressing: str) -> bytes:
    if isinstance(body, SoapFault):
        return build_fault(body)
    return build_envelope(body, addressing=Addressing(**addressing))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "body", "kind", "codes", "verdict"),
    [
        (200, codec.build_register_document_response(StatusResponse(True)), AnswerKind.ACCEPTED, (), None),
        (
            200,
            codec.build_register_document_response(StatusResponse(False, (("RATE_LIMIT", "лимит"),))),
            AnswerKind.REFUSED,
            (("RATE_LIMIT", "лимит"),),
            Verdict.RETRY,
        ),
        (
            200,
            codec.build_register_document_response(StatusResponse(False, (("NOT_UNIQUE_PROVIDED_ID", "уже"),))),
            AnswerKind.REFUSED,
            (("NOT_UNIQUE_PROVIDED_ID", "уже"),),
            Verdict.ALREADY_THERE,
        ),
        (
            200,
            codec.build_register_document_response(StatusResponse(False)),
            AnswerKind.REFUSED,
            (("UNKNOWN", "REMD answered status=error without errors/item"),),
            Verdict.FAIL,
        ),
        (
            500,
            SoapFault("Receiver", "internal"),
            AnswerKind.REFUSED,
            (("SOAP_FAULT", "SOAP fault Receiver: internal"),),
            Verdict.RETRY,
        ),
        (
            500,
            SoapFault("Receiver", "limit", errors=(("RATE_LIMIT", "лимит"),)),
            AnswerKind.REFUSED,
            (("RATE_LIMIT", "лимит"),),
            Verdict.RETRY,
        ),
    ],
)
def test_register_answer(
    status: int, body: object, kind: AnswerKind, codes: tuple[tuple[str, str], ...], verdict: Verdict | None
) -> None:
    envelopes = (EnvelopeIn("out", "remd", "application/soap+xml", b"x"),)
    answer = mapping.register_answer(status, _reply(body), envelopes=envelopes, retry_after=3.0)
    assert answer.kind is kind
    assert answer.codes == codes
    assert answer.http_status == status
    assert answer.envelopes == envelopes
    if verdict is not None:
        assert classify_answer(answer.codes, remd_code_table()).verdict is verdict


@pytest.mark.parametrize(
    ("status", "body", "verdict"),
    [
        (503, b"<html><body>Service Unavailable</body></html>", Verdict.RETRY),
        (200, b"not xml at all", Verdict.RETRY),
        (404, b"", Verdict.FAIL),
        (200, build_envelope(codec.build_search_response(SearchRegistryItemResponse(True))), Verdict.RETRY),
        (503, build_envelope(codec.build_register_document_response(StatusResponse(True))), Verdict.RETRY),
    ],
)
def test_no_usable_answer(status: int, body: bytes, verdict: Verdict) -> None:
    answer = mapping.register_answer(status, body)
    assert answer.kind is AnswerKind.NO_ANSWER
    assert answer.http_status == status
    assert answer.error
    assert classify_transport(http_status=status if status != 200 else None, error=answer.error).verdict is verdict


def _search_reply(matches: tuple[RegistryMatch, ...], success: bool = True) -> bytes:
    resp = SearchRegistryItemResponse(success, matches, () if success else (("RATE_LIMIT", "лимит"),))
    return build_envelope(codec.build_search_response(resp))


def test_lookup_found_not_found_and_unknown() -> None:
    uid = "3F1D3A0E-8C5B-4D8E-9D61-1B2C3D4E5F60"
    other = RegistryMatch("someone-else", "E-0", T0)
    mine_late = RegistryMatch(uid.lower(), "E-2", T0 + timedelta(hours=2), organization=ORG)
    mine = RegistryMatch(uid.lower(), "E-1", T0, organization=ORG)
    found = mapping.lookup_from_reply(200, _search_reply((other, mine_late, mine)), local_uid=uid, organization=ORG)
    assert (found.found, found.peer_registration_id, found.registered_at) == (True, "E-1", T0)
    missing = mapping.lookup_from_reply(200, _search_reply((other,)), local_uid=uid, organization=ORG)
    assert missing.found is False
    wrong_org = RegistryMatch(uid, "E-3", T0, organization="1.2.643.5.1.13.13.12.2.50.5103")
    assert mapping.lookup_from_reply(200, _search_reply((wrong_org,)), local_uid=uid, organization=ORG).found is False
    refused = mapping.lookup_from_reply(200, _search_reply((), success=False), local_uid=uid, organization=ORG)
    assert refused.found is None and refused.error and "RATE_LIMIT" in refused.error
    broken = mapping.lookup_from_reply(502, b"<html/>", local_uid=uid, organization=ORG)
    assert broken.found is None and broken.error


def test_outcome_from_callback() -> None:
    ok = RegisterDocumentResult("m-1", True, "121", ORG, "u-1", RegistryItem("E-9", T0, T0 - timedelta(hours=1)))
    outcome = mapping.outcome_from_result(ok)
    assert (outcome.peer, outcome.local_uid, outcome.organization_oid, outcome.success) == ("remd", "u-1", ORG, True)
    assert (outcome.peer_registration_id, outcome.registered_at, outcome.relates_to) == ("E-9", T0, "m-1")
    failed = mapping.outcome_from_result(RegisterDocumentResult("m-2", False, "121", ORG, "u-2"))
    assert failed.success is False and failed.codes[0][0] == "UNKNOWN"
    timeout = mapping.outcome_from_result(
        RegisterDocumentResult(
            "",
            False,
            "",
            "",
            "u-3",
            errors=(("ASYNC_RESPONSE_TIMEOUT", "Не удалось зарегистрировать документ за отведенное время"),),
        )
    )
    assert timeout.relates_to is None and timeout.organization_oid is None
    decision = classify_answer(timeout.codes, remd_code_table())
    assert (decision.verdict, decision.cause) == (Verdict.RETRY, "registration-timeout")


def _notice(state: State, **outcome: str | None) -> dict[str, object]:
    sub, _ = make_submission("uid-n")
    record = replace(
        sub,
        state=state,
        origin="remd-soap",
        origin_ref="mis-message-1",
        outcome_code=outcome.get("code"),
        outcome_message=outcome.get("message"),
        peer_registration_id=outcome.get("peer_registration_id"),
        updated_at=T0,
    )
    stored: dict[str, object] = json.loads(json.dumps(build_notice(record)))  # what the outbox stores
    return stored


def test_result_from_notice() -> None:
    registered = mapping.result_from_notice(_notice(State.REGISTERED, peer_registration_id="E-5"))
    assert registered.success and registered.relates_to_message == "mis-message-1"
    assert registered.registry_item == RegistryItem("E-5", T0)
    assert (registered.local_uid, registered.kind, registered.organization) == ("uid-n", "121", ORG)
    failed = mapping.result_from_notice(
        _notice(State.FAILED, code="SIGNATURE_VERIFICATION_ERROR", message="Подпись не верна")
    )
    assert not failed.success and failed.errors == (("SIGNATURE_VERIFICATION_ERROR", "Подпись не верна"),)
    rejected = mapping.result_from_notice(_notice(State.REJECTED))
    assert rejected.errors[0][0] == "VALIDATION_ERROR"
    notice = _notice(State.REGISTERED)
    notice["origin_ref"] = None
    with pytest.raises(mapping.MappingError):
        mapping.result_from_notice(notice)


def test_canonical_round_trip_through_a_remd_request() -> None:
    """canonical → registerDocumentRequest → canonical JSON → the schema accepts it, same content."""
    sub, canonical = make_submission()
    req = mapping.to_register_request(sub, canonical)
    data = mapping.canonical_from_request(req, source_system="mis-alpha", callback_url="https://mis/cb")
    back = parse_submission(data)
    assert (back.local_uid, back.kind, back.organization_oid) == (
        canonical.local_uid,
        canonical.kind,
        canonical.organization_oid,
    )
    assert back.document == canonical.document
    assert back.creation_datetime == canonical.creation_datetime
    assert back.patient == {"snils": "11223344595"}
    assert back.callback_url == "https://mis/cb"
    assert sorted((s.type, s.cms) for s in back.signatures) == sorted((s.type, s.cms) for s in canonical.signatures)
    personal = next(s for s in back.signatures if s.type == "personal")
    assert personal.signer == {
        "snils": "12345678964",
        "local_id": "doc-17",
        "role_code": "AUTHOR",
        "position_code": "73",
        "speciality_code": "27",
    }


def test_a_request_without_content_cannot_become_canonical() -> None:
    sub, canonical = make_submission()
    req = mapping.to_register_request(sub, canonical, inline_document=False)
    with pytest.raises(mapping.MappingError) as info:
        mapping.canonical_from_request(req, source_system="mis-alpha", callback_url=None)
    assert info.value.code == "FILE_WAS_NOT_SENT"

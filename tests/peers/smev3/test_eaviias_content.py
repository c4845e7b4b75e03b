"""The ЕАВИИАС content profile: the referral and every notice type against the stand-in schema, the
one mapping (notice type → progress or final outcome, code, KSI milestones), and what an unusable
notice gets."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from lxml import etree

from adapters.smev3.eaviias.content import (
    STANDIN_NAMESPACE,
    Appointment,
    Notice,
    Reason,
    notice_content,
    parse_notice,
    parse_referral,
    referral_request,
    standin_schema,
)
from adapters.smev3.eaviias.notices import NOTICE_RULES, Milestone, NoticeType
from adapters.smev3.eaviias.profile import NOTICE_INVALID, EaviiasProfile, NoticeRejected
from adapters.smev3.settings import EaviiasSettings, Smev3Settings
from gateway.intake.submission import CanonicalSubmission, SignatureEntry
from gateway.peers.contract import KSI_MILESTONES, PeerOutcome, Progress

T = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)


def canonical() -> CanonicalSubmission:
    return CanonicalSubmission(
        source_system="mis-1",
        local_uid="uid-1",
        kind="121",
        organization_oid="1.2.643.5.1.13.13.12.2.77.7973",
        creation_datetime=T,
        document=b"<ClinicalDocument/>",
        document_mime="application/x-hl7-cda+xml",
        signatures=(
            SignatureEntry("personal", {}, b"\x30\x03cms1", False),
            SignatureEntry("organization", {}, b"\x30\x03cms2", False),
            SignatureEntry("personal", {}, None, True),  # an enveloped XMLDSig: inside the document
        ),
    )


def notice(kind: NoticeType, **kw: Any) -> Notice:
    fields: dict[str, Any] = {
        "notice_id": "n-1",
        "notice_type": kind,
        "local_uid": "uid-1",
        "organization_oid": "1.2.643.5.1.13.13.12.2.77.7973",
        "bureau_code": "b-77",
        "region": "77",
        "event_at": T + timedelta(days=1),
        "registration_number": "EAV-77-00000001",
    }
    fields.update(kw)
    return Notice(**fields)


EXTRA: dict[NoticeType, dict[str, Any]] = {
    NoticeType.REGISTERED: {"received_at": T},
    NoticeType.RETURNED: {
        "reasons": (Reason("R-REGION", "не зона обслуживания"), Reason("R-EXAMS", "нет обследований")),
        "document": b"<ClinicalDocument/>",
        "document_mime": "application/x-hl7-cda+xml",
        "document_kind": "108",
        "signatures": (("personal", b"cms"),),
    },
    NoticeType.INVITATION: {"appointment": Appointment(T + timedelta(days=5), "in-person", "бюро № 3")},
    NoticeType.ABSENTEE_SCHEDULED: {"appointment": Appointment(T + timedelta(days=5), "at-home")},
    NoticeType.RESULT: {
        "document": b"<ClinicalDocument/>",
        "document_mime": "application/x-hl7-cda+xml",
        "document_kind": "35",
        "signatures": (("organization", b"c"),),
    },
}


def test_the_referral_carries_routing_the_document_and_its_detached_signatures() -> None:
    content = referral_request(canonical(), region="77", bureau_code="b-77")
    assert standin_schema().validate(etree.fromstring(content))
    back = parse_referral(content)
    assert (back.local_uid, back.kind, back.region, back.bureau_code) == ("uid-1", "121", "77", "b-77")
    assert back.document == b"<ClinicalDocument/>" and back.created_at == T
    assert back.signatures == (("personal", b"\x30\x03cms1"), ("organization", b"\x30\x03cms2"))
    assert base64.b64encode(b"<ClinicalDocument/>") in content  # inline until MTOM


def test_the_send_request_of_an_eaviias_instance_uses_the_profile() -> None:
    from adapters.smev3.adapter import send_request_message

    settings = Smev3Settings.model_validate({"content_profile": "eaviias", "eaviias": {"bureau_code": "b-1"}})
    msg = send_request_message(settings, canonical(), message_id="m")
    root = etree.fromstring(msg.data.content)
    assert etree.QName(root) == etree.QName(STANDIN_NAMESPACE, "MseReferralRequest")
    assert root.findtext(f"{{{STANDIN_NAMESPACE}}}Routing/{{{STANDIN_NAMESPACE}}}Region") == "77"  # from the OID


@pytest.mark.parametrize("kind", list(NoticeType))
def test_every_notice_type_validates_and_parses_back(kind: NoticeType) -> None:
    original = notice(kind, **EXTRA.get(kind, {}))
    content = notice_content(original)
    assert standin_schema().validate(etree.fromstring(content)), standin_schema().error_log
    assert parse_notice(content) == original


def test_the_mapping_covers_every_notice_type_with_known_milestones() -> None:
    assert set(NOTICE_RULES) == set(NoticeType)
    assert {m.value for m in Milestone} == set(KSI_MILESTONES)
    finals = {t for t, r in NOTICE_RULES.items() if r.final is not None}
    assert finals == {NoticeType.RESULT, NoticeType.RETURNED}


def _apply(kind: NoticeType, **kw: Any) -> PeerOutcome | Progress:
    content = notice_content(notice(kind, **{**EXTRA.get(kind, {}), **kw}))
    profile = EaviiasProfile(EaviiasSettings())
    return profile.apply(content, peer="eaviias", relates_to="m-1", peer_message_id="p-1", envelopes=(), delivered_at=T)


def test_registered_is_progress_marking_received_and_registered() -> None:
    got = _apply(NoticeType.REGISTERED)
    assert isinstance(got, Progress) and got.status == "eaviias-registered" and got.local_uid == "uid-1"
    assert [(m.name, m.at, m.bureau, m.region) for m in got.marks] == [
        ("received", T, "b-77", "77"),
        ("registered", T + timedelta(days=1), "b-77", "77"),
    ]


def test_a_return_is_a_final_failure_with_its_reasons() -> None:
    got = _apply(NoticeType.RETURNED)
    assert isinstance(got, PeerOutcome) and not got.success
    ((code, text),) = got.codes
    assert code == "EAVIIAS_RETURNED" and "R-REGION" in text and "R-EXAMS" in text
    assert [m.name for m in got.marks] == ["returned"] and got.peer_registration_id is None
    assert got.details["reasons"][0]["code"] == "R-REGION"


def test_the_result_is_the_final_success_timed_by_the_decision() -> None:
    got = _apply(NoticeType.RESULT)
    assert isinstance(got, PeerOutcome) and got.success and got.peer_registration_id == "EAV-77-00000001"
    assert [(m.name, m.at) for m in got.marks] == [("decided", T + timedelta(days=1)), ("result_delivered", None)]


def test_an_invitation_carries_its_appointment_and_marks_scheduled() -> None:
    got = _apply(NoticeType.INVITATION)
    assert isinstance(got, Progress) and got.status == "eaviias-invited"
    assert got.details["appointment"]["form"] == "in-person" and [m.name for m in got.marks] == ["scheduled"]


@pytest.mark.parametrize(
    "content",
    [
        b"<not-xml",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "x">]><x>&e;</x>',
        b'<ea:MseNotice xmlns:ea="urn://x-artefacts-mse-gateway/eaviias-sandbox/1.0"/>',  # schema-invalid
        b'<other xmlns="urn:x"/>',
        notice_content(notice(NoticeType.REGISTERED)).replace(b">REGISTERED<", b">ACCEPTED<"),
    ],
    ids=["malformed", "dtd", "schema", "root", "unknown-type"],
)
def test_an_unusable_notice_is_refused_with_a_code(content: bytes) -> None:
    with pytest.raises(NoticeRejected) as caught:
        EaviiasProfile(EaviiasSettings()).apply(
            content, peer="eaviias", relates_to="m", peer_message_id="p", envelopes=(), delivered_at=T
        )
    assert caught.value.code == NOTICE_INVALID and caught.value.text.startswith("EAVIIAS_")


def test_namespace_and_roots_are_configuration() -> None:
    settings = EaviiasSettings(namespace="urn://official/mse/1.0", referral_root="Ref", notice_root="Note")
    profile = EaviiasProfile(settings)
    assert not profile.validate  # the stand-in XSD only checks its own namespace
    content = profile.request_content(canonical())
    assert etree.QName(etree.fromstring(content)) == etree.QName("urn://official/mse/1.0", "Ref")
    note = notice_content(notice(NoticeType.REGISTERED, received_at=T), namespace="urn://official/mse/1.0", root="Note")
    assert isinstance(
        profile.apply(note, peer="e", relates_to="m", peer_message_id="p", envelopes=(), delivered_at=T), Progress
    )


def _document_of(kind: NoticeType, **kw: Any) -> Any:
    parsed = parse_notice(notice_content(notice(kind, **{**EXTRA.get(kind, {}), **kw})))
    profile = EaviiasProfile(EaviiasSettings())
    return profile.inbound_document(parsed, peer="eaviias", peer_message_id="smev-msg-1", envelopes=())


@pytest.mark.parametrize(("kind", "code"), [(NoticeType.RESULT, "35"), (NoticeType.RETURNED, "108")])
def test_a_final_notice_hands_its_document_to_the_inbound_path_keyed_by_the_notice(kind: NoticeType, code: str) -> None:
    doc = _document_of(kind)
    assert doc is not None
    assert (doc.peer, doc.peer_document_id, doc.kind, doc.final) == ("eaviias", "notice:n-1", code, True)
    assert (doc.recipient_oid, doc.referral_local_uid) == ("1.2.643.5.1.13.13.12.2.77.7973", "uid-1")
    assert doc.document == b"<ClinicalDocument/>" and doc.document_mime == "application/x-hl7-cda+xml"
    assert [(s.type, s.cms) for s in doc.signatures] == list(EXTRA[kind]["signatures"])
    assert doc.peer_ids == {"NoticeId": "n-1", "MessageID": "smev-msg-1", "RegistrationNumber": "EAV-77-00000001"}
    # another copy of the same notice (another SMEV message) is the same inbound document
    again = EaviiasProfile(EaviiasSettings()).inbound_document(
        parse_notice(notice_content(notice(kind, **EXTRA[kind]))), peer="eaviias", peer_message_id="m-2", envelopes=()
    )
    assert again is not None and again.peer_document_id == doc.peer_document_id


def test_progress_and_a_final_notice_without_a_document_hand_nothing() -> None:
    assert _document_of(NoticeType.INVITATION) is None
    assert _document_of(NoticeType.RESULT, document=None, document_kind=None, signatures=()) is None

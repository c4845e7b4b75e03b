"""The ЦБДИ expert's conclusion on the one inbound path, on SQLite and PostgreSQL: its enveloped
XMLDSig (KZ GOST 2015-512, the sample PKI's expert) verified with the project's XMLDSig verifier
against the checker's trust, the role policy's "expert" entry applied, linked to the 031/у it names,
offered to the MIS with its Russian and Kazakh texts — or flagged with a coded reason, never
offered, never lost."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from lxml import etree

from gateway.documents.kz_conclusion import Conclusion, build_conclusion
from gateway.flk.sample_pki import SampleSigners
from gateway.inbound.contract import InboundDocument, InboundReason, InboundState
from gateway.inbound.receive import InboundReceiver
from gateway.journal.inbound import offer_view
from gateway.journal.store import Journal
from gateway.model import Submission, SubmissionDraft
from gateway.signatures.xml.sign import sign_xml
from inbound.kit import NOW

KZ_MO = "1.2.398.999.1.7"
RU = "Установлена вторая группа инвалидности; степень утраты профессиональной трудоспособности 80%"
KK = "Мүгедектіктің екінші тобы белгіленді; кәсіптік еңбек ету қабілетінен айырылу дәрежесі 80%"


async def journal_031u(journal: Journal, org: str = KZ_MO) -> Submission:
    sub, _ = await journal.submit(
        SubmissionDraft(
            source_system="mis-kz",
            local_uid=str(uuid.uuid4()),
            kind="kz-031u",
            organization_oid=org,
            content_hash="0" * 64,
            payload=b"{}",
            patient_id=None,
            region="75",
        )
    )
    return sub


def conclusion_bytes(
    signers: SampleSigners,
    local_uid: str,
    *,
    signer: str = "kz-expert",
    expert_iin: str | None = None,
    org: str = KZ_MO,
    act: str | None = None,
    **fields: Any,
) -> bytes:
    expert = signers.certificate("kz-expert").identity()
    values: dict[str, Any] = {
        "local_uid": local_uid,
        "act_number": act or f"MSE-2026-{uuid.uuid4().int % 10**7:07d}",
        "decision": "disability",
        "decided_at": NOW - timedelta(hours=2),
        "expert": expert.common_name or "",
        "disability_group": "2",
        "lost_capacity_percent": 80,
        "texts": {"ru": RU, "kk": KK},
        "arrived_at": NOW - timedelta(hours=20),
        "region": "75",
        "organization_oid": org,
        "expert_iin": expert.iin if expert_iin is None else expert_iin,
        **fields,
    }
    element = build_conclusion(Conclusion(**values))
    return sign_xml(
        etree.tostring(element),
        signers.key(signer),
        signers.certificate(signer),
        style="enveloped",
        reference_id=element.get("Id"),
        chain=(signers.pki.ca,),
    )


def inbound(document: bytes, sub_local_uid: str | None = None, **kw: Any) -> InboundDocument:
    values: dict[str, Any] = {
        "peer": "shep",
        "peer_document_id": f"conclusion:{uuid.uuid4()}",
        "recipient_oid": KZ_MO,
        "kind": "kz-cbdi-conclusion",
        "document": document,
        "signatures": (),
        "document_mime": "application/xml",
        "referral_local_uid": sub_local_uid,
        **kw,
    }
    return InboundDocument(**values)


async def test_a_verified_conclusion_is_linked_and_offered_with_both_languages(
    journal: Journal, receiver: InboundReceiver, signers: SampleSigners
) -> None:
    sub = await journal_031u(journal)
    data = conclusion_bytes(signers, sub.local_uid, act="MSE-2026-0000042")
    receipt = await receiver.receive(inbound(data))
    assert receipt.created and receipt.state is InboundState.ACCEPTED, receipt
    assert receipt.submission_id == sub.id and receipt.reason_code is None
    record = await receiver.inbound.get(receipt.id)
    content = await receiver.inbound.content(receipt.id)
    assert record is not None and content is not None
    assert record.local_uid == "MSE-2026-0000042" and record.referral_local_uid == sub.local_uid
    item = offer_view(record, content)
    assert item["kind"] == "kz-cbdi-conclusion" and item["referral"]["submission_id"] == sub.id
    summary = item["summary"]
    assert summary["texts"] == {"ru": RU, "kk": KK}
    assert (summary["decision"], summary["disability_group"], summary["lost_capacity_percent"]) == (
        "disability",
        "2",
        80,
    )
    assert summary["act_number"] == "MSE-2026-0000042"
    assert content.document == data  # the signed bytes, as ЦБДИ sent them
    assert record.report is not None and record.report["signatures_valid"] is True


async def test_a_refusal_conclusion_carries_its_reasons_in_both_languages(
    journal: Journal, receiver: InboundReceiver, signers: SampleSigners
) -> None:
    sub = await journal_031u(journal)
    reasons = ({"ru": "Нарушения функций незначительны", "kk": "Функциялардың бұзылуы елеусіз"},)
    data = conclusion_bytes(
        signers,
        sub.local_uid,
        decision="refusal",
        disability_group=None,
        lost_capacity_percent=None,
        texts={"ru": "Инвалидность не установлена", "kk": "Мүгедектік белгіленбеді"},
        reasons=reasons,
    )
    receipt = await receiver.receive(inbound(data))
    assert receipt.state is InboundState.ACCEPTED, receipt
    content = await receiver.inbound.content(receipt.id)
    assert content is not None and content.summary is not None
    assert content.summary["reasons"] == [dict(r) for r in reasons]


async def test_the_same_conclusion_redelivered_is_recorded_once(
    journal: Journal, receiver: InboundReceiver, signers: SampleSigners
) -> None:
    sub = await journal_031u(journal)
    doc = inbound(conclusion_bytes(signers, sub.local_uid), peer_document_id="conclusion:MSE-1")
    first, again = await receiver.receive(doc), await receiver.receive(doc)
    assert first.created and not again.created and first.id == again.id
    assert again.state is InboundState.ACCEPTED
    assert await receiver.inbound.counts() == {"ACCEPTED": 1}


async def test_an_altered_conclusion_is_flagged_signature_invalid(
    journal: Journal, receiver: InboundReceiver, signers: SampleSigners
) -> None:
    sub = await journal_031u(journal)
    data = conclusion_bytes(signers, sub.local_uid).replace(b"80%", b"40%", 1)
    receipt = await receiver.receive(inbound(data))
    assert receipt.state is InboundState.FLAGGED
    assert receipt.reason_code == InboundReason.SIGNATURE_INVALID
    assert receipt.submission_id == sub.id  # linked, so the operator sees which 031/у it is about
    record = await receiver.inbound.get(receipt.id)
    assert record is not None and record.offer_seq is None


async def test_an_unsigned_conclusion_is_flagged_signature_invalid(
    journal: Journal, receiver: InboundReceiver, signers: SampleSigners
) -> None:
    sub = await journal_031u(journal)
    expert = signers.certificate("kz-expert").identity()
    unsigned = etree.tostring(
        build_conclusion(
            Conclusion(
                sub.local_uid,
                "MSE-9",
                "disability",
                NOW,
                "x",
                "1",
                100,
                organization_oid=KZ_MO,
                expert_iin=expert.iin or "",
            )
        )
    )
    receipt = await receiver.receive(inbound(unsigned))
    assert (receipt.state, receipt.reason_code) == (InboundState.FLAGGED, InboundReason.SIGNATURE_INVALID)


async def test_a_conclusion_signed_by_a_legal_entity_employee_is_flagged_by_the_role_policy(
    journal: Journal, receiver: InboundReceiver, signers: SampleSigners
) -> None:
    sub = await journal_031u(journal)
    employee = signers.certificate("kz-employee").identity()
    data = conclusion_bytes(signers, sub.local_uid, signer="kz-employee", expert_iin=employee.iin)
    receipt = await receiver.receive(inbound(data))
    assert (receipt.state, receipt.reason_code) == (InboundState.FLAGGED, InboundReason.ROLE_POLICY)
    record = await receiver.inbound.get(receipt.id)
    assert record is not None and "POSITION_TO_ROLE_MISMATCH" in (record.reason_message or "")


async def test_a_conclusion_signed_by_another_individual_than_its_expert_is_flagged(
    journal: Journal, receiver: InboundReceiver, signers: SampleSigners
) -> None:
    # Signed by the ВКК chair's individual certificate, yet naming the expert's IIN.
    sub = await journal_031u(journal)
    receipt = await receiver.receive(inbound(conclusion_bytes(signers, sub.local_uid, signer="kz-vkk-chair")))
    assert (receipt.state, receipt.reason_code) == (InboundState.FLAGGED, InboundReason.ROLE_POLICY)
    record = await receiver.inbound.get(receipt.id)
    assert record is not None and "VALUE_MISMATCH_METADATA_AND_CERTIFICATE" in (record.reason_message or "")


async def test_a_conclusion_for_an_unknown_031u_is_flagged_unknown_referral(
    journal: Journal, receiver: InboundReceiver, signers: SampleSigners
) -> None:
    await journal_031u(journal)
    receipt = await receiver.receive(inbound(conclusion_bytes(signers, "a-031u-nobody-sent")))
    assert (receipt.state, receipt.reason_code) == (InboundState.FLAGGED, InboundReason.UNKNOWN_REFERRAL)
    assert receipt.submission_id is None
    # Another organisation's 031/у with that LocalUid is not this recipient's.
    other = await journal_031u(journal, org="1.2.398.999.1.8")
    elsewhere = await receiver.receive(inbound(conclusion_bytes(signers, other.local_uid)))
    assert elsewhere.reason_code == InboundReason.UNKNOWN_REFERRAL


async def test_malformed_conclusions_are_kept_and_flagged_document_invalid(
    journal: Journal, receiver: InboundReceiver, signers: SampleSigners
) -> None:
    sub = await journal_031u(journal)
    bodies = [
        b"<not-xml",
        b'<?xml version="1.0"?><cbdi:Other xmlns:cbdi="urn:mse-gateway:kz:cbdi:1"/>',
        conclusion_bytes(signers, sub.local_uid, expert_iin=""),  # names no expert
        conclusion_bytes(signers, sub.local_uid, decision="maybe"),
        conclusion_bytes(signers, sub.local_uid, disability_group=None, lost_capacity_percent=None),
    ]
    for body in bodies:
        receipt = await receiver.receive(inbound(body, sub.local_uid))
        assert (receipt.state, receipt.reason_code) == (InboundState.FLAGGED, InboundReason.DOCUMENT_INVALID), body
        content = await receiver.inbound.content(receipt.id)
        assert content is not None and content.document == body  # never lost
    assert await receiver.inbound.counts() == {"FLAGGED": len(bodies)}


async def test_an_oversize_conclusion_is_kept_whole_and_flagged(
    journal: Journal, checker: Any, signers: SampleSigners
) -> None:
    sub = await journal_031u(journal)
    small = InboundReceiver(journal, checker, max_bytes=512)
    receipt = await small.receive(inbound(conclusion_bytes(signers, sub.local_uid)))
    assert (receipt.state, receipt.reason_code) == (InboundState.FLAGGED, InboundReason.TOO_LARGE)

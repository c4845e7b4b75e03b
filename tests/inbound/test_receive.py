"""The one inbound path end to end against a real journal (SQLite and PostgreSQL), the real
checker (test PKI signatures, the shipped role policy): verified and linked documents are
offered; every kind of bad document is kept with its bytes and flagged with a coded reason."""

from __future__ import annotations

import dataclasses

import pytest

from gateway.flk.decisions import (
    DISABILITY_CAUSES,
    DISABILITY_GROUPS,
    MseDecision,
    NoticeSigner,
    build_signed_result,
)
from gateway.flk.sample_pki import SampleSigners
from gateway.flk.samples import prepare_document
from gateway.inbound.contract import InboundReason, InboundState
from gateway.inbound.receive import InboundReceiver
from gateway.journal.store import Journal
from gateway.model import State, SubmissionDraft
from inbound.kit import NOW, OTHER_MO, answer_document, inbound_from_submission, inbound_of, journal_referral


async def test_result_for_known_referral_is_accepted_linked_and_offered(
    journal: Journal, receiver: InboundReceiver, signers: SampleSigners
) -> None:
    referral = await journal_referral(journal)
    doc = inbound_of(signers, answer_document(signers, "35", referral.local_uid))
    receipt = await receiver.receive(doc)
    assert receipt.created and receipt.state is InboundState.ACCEPTED, receipt
    assert receipt.submission_id == referral.id
    record = await receiver.inbound.get(receipt.id)
    assert record is not None and record.offer_seq == 1 and record.referral_local_uid == referral.local_uid
    stored = await receiver.inbound.content(receipt.id)
    assert stored is not None and stored.document == doc.document
    assert [s["cms"] for s in stored.signatures] == [s.cms for s in doc.signatures]


@pytest.mark.parametrize("kind", ["187", "130", "108"])
async def test_every_decision_kind_is_accepted(
    journal: Journal, receiver: InboundReceiver, signers: SampleSigners, kind: str
) -> None:
    referral = await journal_referral(journal)
    receipt = await receiver.receive(inbound_of(signers, answer_document(signers, kind, referral.local_uid)))
    assert receipt.state is InboundState.ACCEPTED, receipt
    assert receipt.submission_id == referral.id


async def test_same_document_twice_is_recorded_once(
    journal: Journal, receiver: InboundReceiver, signers: SampleSigners
) -> None:
    referral = await journal_referral(journal)
    doc = inbound_of(signers, answer_document(signers, "35", referral.local_uid), peer_document_id="emdr-1")
    first = await receiver.receive(doc)
    again = await receiver.receive(doc)
    # Another peer bringing the very same bytes (ЕАВИИАС and REMD both carry the result).
    other_peer = await receiver.receive(dataclasses.replace(doc, peer="eaviias", peer_document_id="smev-9"))
    assert first.created and not again.created and not other_peer.created
    assert first.id == again.id == other_peer.id
    assert await receiver.inbound.counts() == {"ACCEPTED": 1}
    kinds = [e.kind for e in await receiver.inbound.events(first.id)]
    assert kinds.count("seen-again") == 1 and kinds.count("offered") == 1


async def test_unknown_referral_is_flagged_not_offered(
    journal: Journal, receiver: InboundReceiver, signers: SampleSigners
) -> None:
    referral = await journal_referral(journal, org=OTHER_MO)  # same localUid, another organisation
    receipt = await receiver.receive(inbound_of(signers, answer_document(signers, "35", referral.local_uid)))
    assert receipt.state is InboundState.FLAGGED
    assert receipt.reason_code == InboundReason.UNKNOWN_REFERRAL
    record = await receiver.inbound.get(receipt.id)
    assert record is not None and record.offer_seq is None and record.submission_id is None
    assert (await receiver.inbound.content(receipt.id)) is not None  # kept with its bytes


async def test_bad_signature_is_flagged(journal: Journal, receiver: InboundReceiver, signers: SampleSigners) -> None:
    referral = await journal_referral(journal)
    doc = inbound_of(signers, answer_document(signers, "35", referral.local_uid))
    tampered = dataclasses.replace(
        doc, document=doc.document.replace(b"</ClinicalDocument>", b"<!-- x --></ClinicalDocument>")
    )
    receipt = await receiver.receive(tampered)
    assert receipt.state is InboundState.FLAGGED
    assert receipt.reason_code == InboundReason.SIGNATURE_INVALID


async def test_signed_by_someone_else_is_flagged_by_role_policy(
    journal: Journal, receiver: InboundReceiver, signers: SampleSigners
) -> None:
    referral = await journal_referral(journal)
    # A result must be signed by the bureau head; the MO's VK chair signs it here.
    doc = answer_document(signers, "35", referral.local_uid, signer_role="vk-chair")
    receipt = await receiver.receive(inbound_of(signers, doc, personal=["vk-chair"]))
    assert receipt.state is InboundState.FLAGGED
    assert receipt.reason_code == InboundReason.ROLE_POLICY, receipt


async def test_garbage_is_kept_and_flagged(journal: Journal, receiver: InboundReceiver, signers: SampleSigners) -> None:
    referral = await journal_referral(journal)
    doc = inbound_of(signers, answer_document(signers, "35", referral.local_uid))
    receipt = await receiver.receive(dataclasses.replace(doc, document=b"<not-cda/>", peer_document_id="x1"))
    assert receipt.state is InboundState.FLAGGED and receipt.reason_code == InboundReason.DOCUMENT_INVALID
    unknown_kind = await receiver.receive(dataclasses.replace(doc, kind="999", peer_document_id="x2"))
    assert unknown_kind.reason_code == InboundReason.KIND_UNKNOWN
    stored = await receiver.inbound.content(receipt.id)
    assert stored is not None and stored.document == b"<not-cda/>"


async def test_second_different_outcome_contradicts(
    journal: Journal, receiver: InboundReceiver, signers: SampleSigners
) -> None:
    referral = await journal_referral(journal)
    result = await receiver.receive(inbound_of(signers, answer_document(signers, "35", referral.local_uid)))
    returned = await receiver.receive(inbound_of(signers, answer_document(signers, "108", referral.local_uid)))
    assert result.state is InboundState.ACCEPTED
    assert returned.state is InboundState.FLAGGED
    assert returned.reason_code == InboundReason.CONTRADICTS_OUTCOME
    assert returned.submission_id == referral.id  # linked, but not applied


async def test_decision_on_a_rejected_referral_contradicts(
    journal: Journal, receiver: InboundReceiver, signers: SampleSigners
) -> None:
    referral = await journal_referral(journal)
    await journal.transition(referral.id, State.REJECTED, actor="test", expected=State.RECEIVED)
    receipt = await receiver.receive(inbound_of(signers, answer_document(signers, "35", referral.local_uid)))
    assert receipt.reason_code == InboundReason.CONTRADICTS_OUTCOME


async def test_operator_release_offers_and_dismiss_keeps(
    journal: Journal, receiver: InboundReceiver, signers: SampleSigners
) -> None:
    a = await receiver.receive(inbound_of(signers, answer_document(signers, "35", "no-such-referral")))
    b = await receiver.receive(inbound_of(signers, answer_document(signers, "108", "no-such-referral", seed=2)))
    released = await receiver.inbound.release(a.id, "operator:alice", "the MO confirmed it by phone")
    dismissed = await receiver.inbound.dismiss(b.id, "operator:alice")
    assert released.state is InboundState.RELEASED and released.offer_seq == 1
    assert released.reason_code == InboundReason.UNKNOWN_REFERRAL  # the flag travels with it
    assert dismissed.state is InboundState.DISMISSED and dismissed.offer_seq is None
    ops = [(e.kind, e.actor) for e in await receiver.inbound.events(a.id)]
    assert ("operator", "operator:alice") in ops


async def test_signed_bureau_decisions_from_a_referral_are_accepted(
    journal: Journal, receiver: InboundReceiver, signers: SampleSigners
) -> None:
    """What the ЕАВИИАС twin will hand over: a 187 result built and signed by gateway.flk.decisions
    for a referral the MO sent — accepted when the bureau head signed it, flagged when not."""
    referral_doc = prepare_document("121", 7, signers, now=NOW)
    org = referral_doc.organisation.oid
    sub, _ = await journal.submit(
        SubmissionDraft(
            source_system="mis-test", local_uid=referral_doc.local_uid, kind="121", organization_oid=org,
            content_hash="0" * 64, payload=b"{}",
        )
    )  # fmt: skip
    decision = MseDecision("12/2026", NOW.date(), DISABILITY_GROUPS["2"], DISABILITY_CAUSES["general"])
    result = build_signed_result(referral_doc, decision, NoticeSigner.bureau_head_from_sample_signers(signers), now=NOW)
    receipt = await receiver.receive(inbound_from_submission(result.submission, recipient=org))
    assert receipt.state is InboundState.ACCEPTED and receipt.submission_id == sub.id, receipt
    # A head's deputy (not the head) signing a result: the role policy flags it.
    deputy = NoticeSigner.from_sample_signers(signers)  # the MSE official, not the bureau head
    wrong = build_signed_result(referral_doc, decision, deputy, now=NOW)
    flagged = await receiver.receive(inbound_from_submission(wrong.submission, recipient=org))
    assert flagged.reason_code == InboundReason.ROLE_POLICY, flagged


async def test_other_bytes_under_an_offered_documents_id_are_flagged_not_offered(
    journal: Journal, receiver: InboundReceiver, signers: SampleSigners
) -> None:
    """One document, two routes: the key is the bytes; a validly signed *other* document under the
    same author and localUid (a re-issue, a copy re-encoded on the way) is never offered twice."""
    referral = await journal_referral(journal)
    doc = answer_document(signers, "187", referral.local_uid)
    first = await receiver.receive(inbound_of(signers, doc, peer="eaviias"))
    reissued = dataclasses.replace(doc, title=doc.title + " (повторно)")  # same localUid, other bytes
    second = await receiver.receive(inbound_of(signers, reissued, peer="remd"))
    assert first.state is InboundState.ACCEPTED
    assert second.created and second.state is InboundState.FLAGGED
    assert second.reason_code == InboundReason.SAME_ID_OTHER_BYTES, second
    assert await receiver.inbound.counts() == {"ACCEPTED": 1, "FLAGGED": 1}


async def test_the_intact_copy_after_a_damaged_one_from_the_other_route_is_offered(
    journal: Journal, receiver: InboundReceiver, signers: SampleSigners
) -> None:
    """Why the document's id is not the key: the damaged copy that came first must not hide the
    intact one the other route brings."""
    referral = await journal_referral(journal)
    intact = inbound_of(signers, answer_document(signers, "187", referral.local_uid), peer="remd")
    damaged = dataclasses.replace(
        intact,
        peer="eaviias",
        peer_document_id="notice:1",
        document=intact.document.replace(b"</ClinicalDocument>", b"<!-- x --></ClinicalDocument>"),
    )
    first = await receiver.receive(damaged)
    second = await receiver.receive(intact)
    assert first.state is InboundState.FLAGGED and first.reason_code == InboundReason.SIGNATURE_INVALID
    assert second.created and second.state is InboundState.ACCEPTED, second
    assert await receiver.inbound.counts() == {"ACCEPTED": 1, "FLAGGED": 1}

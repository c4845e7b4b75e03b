"""The ШЭП adapter against the ШЭП/ЦБДИ twins over real HTTP: a 031/у delivered under the
persisted messageId (a resend meets DUPLICATE_MESSAGE), ЦБДИ's registration and conclusion polled
with getMessages, handed to the sink before sendDeliveryNotification, answers verified before they
are trusted, wrong credentials a permanent coded refusal, the pilot's regions enforced."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from lxml import etree
from shep_kit import Sink, rig

from adapters.shep import messages as m
from adapters.shep import payload as p
from adapters.shep.adapter import MALFORMED_MESSAGE, SIGNATURE_NOT_TRUSTED, ShepReceiveError
from adapters.shep.codes import shep_code_table
from adapters.shep.pilot import conclusion_deadline
from adapters.shep.sandbox import FaultProfile, Probabilities
from gateway.delivery.classify import Verdict, classify_answer
from gateway.intake.submission import CanonicalSubmission
from gateway.peers.contract import AnswerKind
from gateway.signatures.xml.verify import XmlVerifier
from gateway.wire.soap11 import parse_envelope

Make = Callable[..., CanonicalSubmission]
DAY = 86400.0


def _sub(c: CanonicalSubmission) -> Any:
    return SimpleNamespace(local_uid=c.local_uid)


async def test_delivery_registration_and_conclusion(make_031u: Make) -> None:
    async with rig() as r:
        doc = make_031u(1)
        message_id = r.adapter.new_message_id()
        answer = await r.adapter.send(_sub(doc), doc, message_id=message_id)
        assert answer.kind is AnswerKind.ACCEPTED, answer
        # the persisted id is sent again on a resend: ШЭП recognises it, nothing registered twice
        again = await r.adapter.send(_sub(doc), doc, message_id=message_id)
        assert again.kind is AnswerKind.ACCEPTED
        assert r.twin.stats.accepted == 1 and r.twin.stats.duplicates_at_shep == 1
        sink = Sink()
        r.clock.advance(2 * DAY)
        taken = await r.adapter.receive(sink)
        assert taken == 2
        assert r.twin.stats.registered == 1 and r.twin.stats.duplicates_at_cbdi == 0
        [progress] = sink.progress_items
        assert progress.status == "registered-at-cbdi" and progress.relates_to == message_id
        arrived = datetime.fromisoformat(progress.details["arrived_at"])
        assert progress.details["deadline"] == conclusion_deadline(arrived).isoformat()
        [outcome] = sink.outcomes
        assert outcome.success and outcome.relates_to == message_id and outcome.local_uid == doc.local_uid
        assert outcome.peer_registration_id and outcome.peer_registration_id.startswith("MSE-")
        assert outcome.registered_at is not None and outcome.registered_at <= conclusion_deadline(arrived)
        # every message was notified to ШЭП after the sink took it: the queue is empty
        assert r.twin.stats.notified == 2
        assert await r.adapter.receive(Sink()) == 0


async def test_the_conclusion_is_in_russian_and_kazakh_and_signed_by_the_expert(make_031u: Make) -> None:
    async with rig() as r:
        doc = make_031u(2)
        assert (await r.adapter.send(_sub(doc), doc, message_id=r.adapter.new_message_id())).kind is AnswerKind.ACCEPTED
        r.clock.advance(2 * DAY)
        sink = Sink()
        await r.adapter.receive(sink)
        [outcome] = sink.outcomes
        body = outcome.envelopes[-1].body
        env = parse_envelope(body)
        assert env.payload is not None
        conclusion_el = env.payload.find(".//{urn:mse-gateway:kz:cbdi:1}MseConclusion")
        conclusion = p.read_answer(conclusion_el)
        assert isinstance(conclusion, p.Conclusion)
        assert set(conclusion.texts) == {"ru", "kk"}
        assert conclusion_el is not None
        check = XmlVerifier().verify_xml(etree.tostring(conclusion_el), certificates=[r.twin.expert().certificate])
        assert check.report.signatures[0].integrity == "valid"


async def test_sink_failure_means_no_delivery_notification(make_031u: Make) -> None:
    """Recorded before notified: when the journal cannot take a message, ШЭП is not told, and
    the message comes again after the redelivery time (one at a time: the round stops at the
    failure, and the second message was not given out yet)."""
    async with rig(receive_concurrency=1) as r:
        doc = make_031u(3)
        await r.adapter.send(_sub(doc), doc, message_id=r.adapter.new_message_id())
        r.clock.advance(2 * DAY)
        sink = Sink(fail_next=1)
        with pytest.raises(RuntimeError):
            await r.adapter.receive(sink)
        assert r.twin.stats.notified == 0
        # only the message in hand was given out (getMessages asks for free places only)
        assert r.twin.stats.delivered == 1
        assert await r.adapter.receive(sink) == 1  # the other one; the failed one is leased, not lost
        r.clock.advance(600)
        assert await r.adapter.receive(sink) == 1  # delivered again after the redelivery time
        assert r.twin.stats.redelivered == 1 and r.twin.stats.notified == 2
        assert len(sink.progress_items) == 1 and len(sink.outcomes) == 1


async def test_wrong_sender_password_is_a_permanent_coded_refusal(make_031u: Make) -> None:
    async with rig(password="wrong") as r:
        doc = make_031u(4)
        answer = await r.adapter.send(_sub(doc), doc, message_id=r.adapter.new_message_id())
        assert answer.kind is AnswerKind.REFUSED
        assert [c for c, _ in answer.codes] == ["SENDER_AUTH_FAILED"]
        assert classify_answer(answer.codes, shep_code_table()).verdict is Verdict.FAIL
        assert r.twin.stats.accepted == 0


async def test_untrusted_answers_are_never_acted_on(make_031u: Make) -> None:
    async with rig(pin_twin=False) as r:
        doc = make_031u(5)
        answer = await r.adapter.send(_sub(doc), doc, message_id=r.adapter.new_message_id())
        assert answer.kind is AnswerKind.NO_ANSWER and "not trusted" in (answer.error or "")
        r.clock.advance(2 * DAY)
        sink = Sink()
        assert await r.adapter.receive(sink) == 2
        assert not sink.progress_items
        assert [o.codes[0][0] for o in sink.outcomes] == [SIGNATURE_NOT_TRUSTED] * 2
        assert all(o.relates_to is None and not o.success for o in sink.outcomes)
        assert r.twin.stats.notified == 2  # notified MESSAGE_NOT_ACCTEPTED: the queue is not blocked


async def test_malformed_body_is_recorded_unattributed(make_031u: Make) -> None:
    async with rig() as r:
        garbage = etree.fromstring(b"<x:Unknown xmlns:x='urn:x'/>")
        r.twin._enqueue("mis-almaty", m.MessageType.RESPONSE, "someone", garbage, r.clock.now(), "75")
        sink = Sink()
        assert await r.adapter.receive(sink) == 1
        [outcome] = sink.outcomes
        assert outcome.codes[0][0] == MALFORMED_MESSAGE and outcome.relates_to is None


async def test_missing_examinations_are_refused_by_cbdi_naming_them(make_031u: Make) -> None:
    def drop_xray(doc: bytes) -> bytes:
        root = etree.fromstring(doc)
        for exam in root.iter("{urn:mse-gateway:kz:031u:1}Examination"):
            parent = exam.getparent()
            if exam.findtext("{urn:mse-gateway:kz:031u:1}Code") == "XRAY_LIMB" and parent is not None:
                parent.remove(exam)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")

    async with rig() as r:
        doc = make_031u(6, edit=drop_xray)
        assert b"XRAY_LIMB" not in doc.document
        message_id = r.adapter.new_message_id()
        await r.adapter.send(_sub(doc), doc, message_id=message_id)
        r.clock.advance(60)
        sink = Sink()
        await r.adapter.receive(sink)
        [outcome] = sink.outcomes
        assert not outcome.success and outcome.relates_to == message_id
        code, text = outcome.codes[0]
        assert code == "CBDI_EXAMS_MISSING" and "рентгенография" in text.lower()
        assert classify_answer(outcome.codes, shep_code_table()).verdict is Verdict.FAIL


async def test_region_before_its_pilot_is_refused_before_sending(make_031u: Make) -> None:
    async with rig(start=datetime(2025, 5, 20, 6, tzinfo=UTC)) as r:
        doc = make_031u(7)
        answer = await r.adapter.send(_sub(doc), doc, message_id=r.adapter.new_message_id())
        assert answer.kind is AnswerKind.REFUSED and answer.codes[0][0] == "PILOT_NOT_STARTED"
        assert "2025-06-01" in answer.codes[0][1] and "Almaty city" in answer.codes[0][1]
        assert r.twin.stats.calls["sendMessage"] == 0


async def test_unknown_region_is_refused(make_031u: Make) -> None:
    async with rig() as r:
        doc = make_031u(8, edit=lambda d: d.replace(b'<Region code="75"', b'<Region code="99"'))
        answer = await r.adapter.send(_sub(doc), doc, message_id=r.adapter.new_message_id())
        assert answer.kind is AnswerKind.REFUSED and "не участвует" in answer.codes[0][1]


async def test_gateway_errors_are_transient_and_dropped_answers_resend_safely(make_031u: Make) -> None:
    profile = FaultProfile(probabilities=Probabilities(gateway_error=1.0))
    async with rig(profile=profile) as r:
        doc = make_031u(9)
        answer = await r.adapter.send(_sub(doc), doc, message_id=r.adapter.new_message_id())
        assert answer.kind is AnswerKind.REFUSED and answer.codes[0][0] == "SHEP_INTERNAL"
        assert classify_answer(answer.codes, shep_code_table()).verdict is Verdict.RETRY
        with pytest.raises(ShepReceiveError):
            await r.adapter.receive(Sink())
    profile = FaultProfile(probabilities=Probabilities(dropped_response=1.0))
    async with rig(profile=profile) as r:
        doc = make_031u(10)
        message_id = r.adapter.new_message_id()
        first = await r.adapter.send(_sub(doc), doc, message_id=message_id)
        # the connection is reset after ШЭП took the message: either no answer, or the transport's
        # one in-call retry already met DUPLICATE_MESSAGE (accepted)
        assert first.kind in (AnswerKind.NO_ANSWER, AnswerKind.ACCEPTED)
        assert r.twin.stats.accepted == 1
        r.twin.profile = FaultProfile()
        second = await r.adapter.send(_sub(doc), doc, message_id=message_id)
        assert second.kind is AnswerKind.ACCEPTED
        r.clock.advance(2 * DAY)
        await r.adapter.receive(Sink())
        assert r.twin.stats.registered == 1 and r.twin.stats.duplicates_at_cbdi == 0


async def test_sync_channel_registers_with_scss001(make_031u: Make) -> None:
    async with rig(channel="sync") as r:
        doc = make_031u(11)
        answer = await r.adapter.send(_sub(doc), doc, message_id=r.adapter.new_message_id())
        assert answer.kind is AnswerKind.REGISTERED

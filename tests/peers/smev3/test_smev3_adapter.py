"""The SMEV 3 adapter (client side) against a small in-test SMEV built with ``Smev3Codec``: the
SendRequest answers as the core needs them, the four response kinds polled, verified and Acked
only after the sink returned, and one submission through the whole gateway and the real journal."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from smev3_kit import T0, metadata

from adapters.smev3 import PLUGIN
from adapters.smev3 import messages as m
from adapters.smev3.adapter import LANE_FAILURES, SMEV_SIGNATURE_INVALID, Smev3Adapter, Smev3ReceiveError
from adapters.smev3.codec import Smev3Codec
from adapters.smev3.codes import smev3_code_table
from adapters.smev3.identity import check_message_id
from adapters.smev3.mtom import parse_message
from adapters.smev3.settings import Smev3Settings
from adapters.smev3.signing import Signer
from gateway.delivery.classify import Verdict, classify_answer
from gateway.intake.submission import CanonicalSubmission
from gateway.model import State
from gateway.peers.contract import AnswerKind, PeerOutcome, Progress
from gateway.signatures.pki import TestPki
from gateway.signatures.xml.verify import XmlVerifier

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/peers: the contract test kit
from contract.kit import gateway_config, inbox_rows, journal_of, queued, running, state_is, until

REG_NS = "urn:test:mse:answer"


# --- a small SMEV --------------------------------------------------------------------------------


@dataclass
class Queued:
    response: m.Response
    tamper: bool = False  # the ЭП-СМЭВ no longer matches (a byte changed after signing)
    raw: bytes | None = None  # a malformed message, served as is


@dataclass
class FakeSmev:
    codec: Smev3Codec  # signs its answers with ЭП-СМЭВ
    queue: list[Queued] = field(default_factory=list)
    in_flight: list[Queued] = field(default_factory=list)  # given out, not Acked yet
    seen_ids: set[str] = field(default_factory=set)
    sent: list[m.SendRequestRequest] = field(default_factory=list)
    acks: list[tuple[str, bool]] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    send_fault: m.Fault | None = None
    drop_sends: int = 0  # close the connection after taking the request (the answer is lost)
    auto_answer: bool = False  # every accepted SendRequest gets a business response queued
    get_fault: m.Fault | None = None
    ack_faults: int = 0  # the next this many Acks answer SMEVFailure
    get_faults: int = 0  # the next this many GetResponses answer SMEVFailure
    get_delay: float = 0.0  # seconds each GetResponse answer is held (a slow SMEV)
    in_get: int = 0
    max_in_get: int = 0  # most GetResponse calls in flight at once
    recorded: set[str] | None = None  # what the sink has recorded (to see each Ack comes after)
    acked_unrecorded: list[str] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/smev", self.handle)
        return app

    def put(self, response: m.Response, **kw: Any) -> Queued:
        item = Queued(response, **kw)
        self.queue.append(item)
        return item

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.actions.append(request.headers.get("SOAPAction", ""))
        content_type = request.headers["Content-Type"]
        assert content_type.startswith(("text/xml", "multipart/related"))  # MTOM with attachments
        msg, _ = parse_message(self.codec, content_type, await request.read())
        if isinstance(msg, m.SendRequestRequest):
            return self._send(request, msg)
        if isinstance(msg, m.GetResponseRequest):
            if self.get_fault is not None:
                return self._xml(self.codec.fault(self.get_fault), 500)
            if self.get_faults > 0:
                self.get_faults -= 1
                return self._xml(self.codec.fault(m.Fault("SMEVFailure", "busy", faultcode="soap:Server")), 500)
            self.in_get += 1
            self.max_in_get = max(self.max_in_get, self.in_get)
            try:
                body = self._next()  # taken now: the next call gets the next message
                await asyncio.sleep(self.get_delay)
            finally:
                self.in_get -= 1
            return self._xml(body)
        if isinstance(msg, m.AckRequest):
            if self.ack_faults > 0:
                self.ack_faults -= 1
                return self._xml(self.codec.fault(m.Fault("SMEVFailure", "busy", faultcode="soap:Server")), 500)
            return self._ack(msg)
        raise AssertionError(f"unexpected {msg!r}")

    def _xml(self, body: bytes, status: int = 200) -> web.Response:
        return web.Response(body=body, status=status, content_type="text/xml", charset="utf-8")

    def _send(self, request: web.Request, msg: m.SendRequestRequest) -> web.StreamResponse:
        self.sent.append(msg)
        mid = msg.data.message_id
        if self.send_fault is not None:
            return self._xml(self.codec.fault(self.send_fault), 500)
        if mid not in self.seen_ids and self.auto_answer:
            self.put(business(mid))
        duplicate = mid in self.seen_ids
        self.seen_ids.add(mid)
        if self.drop_sends > 0:  # taken, but the answer never reaches the gateway
            self.drop_sends -= 1
            assert request.transport is not None
            request.transport.close()
            return web.Response()
        if duplicate:
            return self._xml(self.codec.fault(m.Fault("MessageIsAlreadySent", "already sent")), 500)
        md = metadata("REQUEST")
        return self._xml(self.codec.send_request_response(m.SendRequestResponse(md)))

    def _next(self) -> bytes:
        if not self.queue:
            return self.codec.get_response_response(m.GetResponseResponse())
        item = self.queue.pop(0)
        self.in_flight.append(item)
        if item.raw is not None:
            return item.raw
        body = self.codec.get_response_response(m.GetResponseResponse(item.response))
        return body.replace(b"MSE01", b"MSE02") if item.tamper else body

    def _ack(self, msg: m.AckRequest) -> web.Response:
        if self.recorded is not None and msg.message_id not in self.recorded:
            self.acked_unrecorded.append(msg.message_id)
        self.acks.append((msg.message_id, msg.accepted))
        self.in_flight = [q for q in self.in_flight if q.response.metadata.message_id != msg.message_id]
        return self._xml(self.codec.ack_response())

    def redeliver(self) -> None:
        self.queue[:0], self.in_flight = self.in_flight, []


def _response(original: str, data: m.SenderProvidedResponseData) -> m.Response:
    return m.Response(data=data, metadata=metadata("RESPONSE"), original_message_id=original)


def business(original: str, registration: str = "MSE-2026-000042") -> m.Response:
    content = f'<r:Decision xmlns:r="{REG_NS}"><r:RegistrationNumber>{registration}</r:RegistrationNumber></r:Decision>'
    return _response(original, m.SenderProvidedResponseData(message_id=_mid(), to="r", content=content.encode()))


def _mid() -> str:
    from adapters.smev3.identity import new_message_id

    return new_message_id()


# --- fixtures ------------------------------------------------------------------------------------


class Sink:
    def __init__(self, fails: bool = False) -> None:
        self.got: list[PeerOutcome | Progress] = []
        self.fails = fails
        self.acks_seen_at_sink: list[int] = []
        self.smev: FakeSmev | None = None

    async def __call__(self, outcome: PeerOutcome) -> None:
        await self._take(outcome)

    async def progress(self, progress: Progress) -> None:
        await self._take(progress)

    async def _take(self, item: PeerOutcome | Progress) -> None:
        if self.smev is not None:
            self.acks_seen_at_sink.append(len(self.smev.acks))
        if self.fails:
            raise RuntimeError("journal down")
        self.got.append(item)


@pytest.fixture
async def smev(smev_signer: Signer) -> AsyncIterator[tuple[FakeSmev, str]]:
    fake = FakeSmev(Smev3Codec("1.1", smev_signer=smev_signer))
    server = TestServer(fake.app())
    await server.start_server()
    try:
        yield fake, str(server.make_url("/smev"))
    finally:
        await server.close()


@pytest.fixture
async def adapter(
    smev: tuple[FakeSmev, str], is_signers: dict[str, Signer], verifier: XmlVerifier
) -> AsyncIterator[Smev3Adapter]:
    _, url = smev
    # one lane: these tests read the order of records and Acks (the lanes are tested on their own)
    settings = Smev3Settings(protocol="smev3", url=url, timeout_seconds=5.0, receive_batch=10, receive_concurrency=1)
    async with aiohttp.ClientSession() as session:
        yield Smev3Adapter(settings, session, name="smev", signer=is_signers["gost2012-256"], verifier=verifier)


def canonical(local_uid: str = "doc-1") -> CanonicalSubmission:
    return CanonicalSubmission(
        source_system="mis",
        local_uid=local_uid,
        kind="35",
        organization_oid="1.2.643.5.1.13.13.12.2.77.9001",
        creation_datetime=T0,
        document=b"<ClinicalDocument/>",
        document_mime="application/xml",
        signatures=(),
    )


class _Sub:
    """The adapter reads only the canonical submission (and logs sub.local_uid)."""

    local_uid = "doc-1"


# --- send ----------------------------------------------------------------------------------------


async def test_accepted_send_is_signed_soap11_under_the_given_uuid1(
    adapter: Smev3Adapter, smev: tuple[FakeSmev, str], verifier: XmlVerifier
) -> None:
    fake, _ = smev
    mid = adapter.new_message_id()
    check_message_id(mid)  # a lower-case UUID v1
    answer = await adapter.send(_Sub(), canonical(), message_id=mid)  # type: ignore[arg-type]
    assert answer.kind is AnswerKind.ACCEPTED and answer.http_status == 200
    assert fake.actions == ['"urn:SendRequest"']
    assert [e.direction for e in answer.envelopes] == ["out", "in"]
    assert b"SendRequestResponse" in answer.envelopes[1].body  # SMEV's metadata is recorded
    (sent,) = fake.sent
    assert sent.data.message_id == mid
    assert b"urn://x-artefacts-mse/referral/1.0" in sent.data.content
    # the CDA travels as an MTOM attachment the content names (document_transport = "attachment")
    assert b'attachmentId="document"' in sent.data.content
    assert [(h.content_id, h.mime_type) for h in sent.data.attachment_headers] == [("document", "application/xml")]
    assert [(a.id, a.content) for a in sent.attachments] == [("document", b"<ClinicalDocument/>")]
    from adapters.smev3.signing import verify_incoming

    verdicts = verify_incoming(answer.envelopes[0].body, verifier)
    assert verdicts.trusted("CallerInformationSystemSignature")


async def test_message_is_already_sent_means_accepted(adapter: Smev3Adapter) -> None:
    mid = adapter.new_message_id()
    first = await adapter.send(_Sub(), canonical(), message_id=mid)  # type: ignore[arg-type]
    again = await adapter.send(_Sub(), canonical(), message_id=mid)  # type: ignore[arg-type]
    assert first.kind is again.kind is AnswerKind.ACCEPTED
    assert b"MessageIsAlreadySent" in again.envelopes[-1].body and not again.codes


async def test_stale_message_id_asks_for_a_new_one(adapter: Smev3Adapter, smev: tuple[FakeSmev, str]) -> None:
    fake, _ = smev
    fake.send_fault = m.Fault("StaleMessageId", "stale")
    answer = await adapter.send(_Sub(), canonical(), message_id=adapter.new_message_id())  # type: ignore[arg-type]
    assert answer.kind is AnswerKind.REFUSED and answer.renew_message_id
    assert answer.codes[0][0] == "StaleMessageId"


async def test_smev_failure_is_refused_with_its_code_and_classified_transient(
    adapter: Smev3Adapter, smev: tuple[FakeSmev, str]
) -> None:
    fake, _ = smev
    fake.send_fault = m.Fault("SMEVFailure", "internal failure")
    answer = await adapter.send(_Sub(), canonical(), message_id=adapter.new_message_id())  # type: ignore[arg-type]
    assert answer.kind is AnswerKind.REFUSED and not answer.renew_message_id and answer.http_status == 500
    assert classify_answer(answer.codes, smev3_code_table()).verdict is Verdict.RETRY
    fake.send_fault = m.Fault(
        "SignatureVerificationFault", "bad", detail_code="x", description="d", subcode="CertificateIsExpired"
    )
    answer = await adapter.send(_Sub(), canonical(), message_id=adapter.new_message_id())  # type: ignore[arg-type]
    assert [c for c, _ in answer.codes] == ["CertificateIsExpired", "SignatureVerificationFault"]
    assert classify_answer(answer.codes, smev3_code_table()).verdict is Verdict.FAIL


async def test_dropped_response_is_no_answer_and_the_resend_is_already_sent(
    adapter: Smev3Adapter, smev: tuple[FakeSmev, str]
) -> None:
    fake, _ = smev
    fake.drop_sends = 2  # the request and the in-call retry (reset connection) both lose their answer
    mid = adapter.new_message_id()
    answer = await adapter.send(_Sub(), canonical(), message_id=mid)  # type: ignore[arg-type]
    assert answer.kind is AnswerKind.NO_ANSWER and answer.error
    assert [s.data.message_id for s in fake.sent] == [mid, mid]  # the retry reused the MessageID
    assert [e.direction for e in answer.envelopes] == ["out", "out"]
    resend = await adapter.send(_Sub(), canonical(), message_id=mid)  # type: ignore[arg-type]
    assert resend.kind is AnswerKind.ACCEPTED  # SMEV: MessageIsAlreadySent — the first one arrived


async def test_a_reset_connection_is_retried_once_in_the_call_under_the_same_id(
    adapter: Smev3Adapter, smev: tuple[FakeSmev, str]
) -> None:
    fake, _ = smev
    fake.drop_sends = 1
    mid = adapter.new_message_id()
    answer = await adapter.send(_Sub(), canonical(), message_id=mid)  # type: ignore[arg-type]
    assert answer.kind is AnswerKind.ACCEPTED  # the retry met MessageIsAlreadySent: the first arrived
    assert [e.direction for e in answer.envelopes] == ["out", "out", "in"]
    assert [s.data.message_id for s in fake.sent] == [mid, mid]


async def test_unreachable_smev_is_no_answer(is_signers: dict[str, Signer], verifier: XmlVerifier) -> None:
    settings = Smev3Settings(protocol="smev3", url="http://127.0.0.1:9/smev", timeout_seconds=2.0)
    async with aiohttp.ClientSession() as session:
        adapter = Smev3Adapter(settings, session, name="smev", signer=is_signers["gost2012-256"], verifier=verifier)
        answer = await adapter.send(_Sub(), canonical(), message_id=adapter.new_message_id())  # type: ignore[arg-type]
    assert answer.kind is AnswerKind.NO_ANSWER and answer.http_status is None


# --- receive -------------------------------------------------------------------------------------


async def test_four_response_kinds_are_mapped_and_acked_after_the_sink(
    adapter: Smev3Adapter, smev: tuple[FakeSmev, str]
) -> None:
    fake, _ = smev
    ours = adapter.new_message_id()
    fake.put(business(ours))
    rejected = m.SenderProvidedResponseData(_mid(), "r", rejections=(m.RequestRejected("NO_DATA", "Нет данных"),))
    fake.put(_response(ours, rejected))
    status = m.SenderProvidedResponseData(_mid(), "r", status=m.RequestStatus(3, "Принято", (("k", "v"),)))
    fake.put(_response(ours, status))
    rejected_by_smev = m.AsyncProcessingStatus(
        ours, "requestIsRejectedBySmev", "отклонено", fault_code="EX", fault_description="Нет маршрута", has_fault=True
    )
    fake.put(m.Response(m.SenderProvidedResponseData(_mid(), "r", async_status=rejected_by_smev), metadata()))
    queued_status = m.AsyncProcessingStatus(ours, "requestIsQueued", "в очереди")
    fake.put(m.Response(m.SenderProvidedResponseData(_mid(), "r", async_status=queued_status), metadata()))
    ids = [q.response.metadata.message_id for q in fake.queue]
    sink = Sink()
    sink.smev = fake
    assert await adapter.receive(sink) == 5
    biz, rej, st, smev_rej, queued_ = sink.got
    assert isinstance(biz, PeerOutcome) and biz.success and biz.peer_registration_id == "MSE-2026-000042"
    assert isinstance(rej, PeerOutcome) and not rej.success and rej.codes == (("NO_DATA", "Нет данных"),)
    assert isinstance(st, Progress) and (st.status, st.message) == ("3", "Принято")
    assert st.details == {"parameters": {"k": "v"}}
    assert isinstance(smev_rej, PeerOutcome) and not smev_rej.success and smev_rej.codes == (("EX", "Нет маршрута"),)
    assert isinstance(queued_, Progress) and queued_.status == "requestIsQueued"
    assert all(x.relates_to == ours and x.local_uid == "" for x in sink.got)
    assert [x.peer_message_id for x in sink.got] == ids
    assert fake.acks == [(i, True) for i in ids]
    assert sink.acks_seen_at_sink == [0, 1, 2, 3, 4]  # each message reached the sink before its Ack
    assert [e.direction for e in biz.envelopes] == ["out", "in"]
    assert fake.actions.count('"urn:GetResponse"') == 6 and fake.actions.count('"urn:Ack"') == 5


async def test_a_failing_sink_means_no_ack_and_smev_redelivers(
    adapter: Smev3Adapter, smev: tuple[FakeSmev, str]
) -> None:
    fake, _ = smev
    fake.put(business(adapter.new_message_id()))
    with pytest.raises(RuntimeError):
        await adapter.receive(Sink(fails=True))
    assert fake.acks == [] and len(fake.in_flight) == 1
    fake.redeliver()
    sink = Sink()
    assert await adapter.receive(sink) == 1
    assert len(sink.got) == 1 and fake.acks[0][1] is True


async def test_invalid_smev_signature_is_recorded_unattributed_and_acked_false(
    adapter: Smev3Adapter, smev: tuple[FakeSmev, str]
) -> None:
    fake, _ = smev
    bad = fake.put(business(adapter.new_message_id()), tamper=True)
    good = fake.put(business(adapter.new_message_id()))
    sink = Sink()
    assert await adapter.receive(sink) == 2  # the bad one does not block the one behind it
    first, second = sink.got
    assert isinstance(first, PeerOutcome) and not first.success and first.relates_to is None
    assert first.codes[0][0] == SMEV_SIGNATURE_INVALID
    assert isinstance(second, PeerOutcome) and second.success
    assert fake.acks == [(bad.response.metadata.message_id, False), (good.response.metadata.message_id, True)]


async def test_malformed_message_is_acked_false_and_does_not_block(
    adapter: Smev3Adapter, smev: tuple[FakeSmev, str]
) -> None:
    fake, _ = smev
    item = business(adapter.new_message_id())
    body = fake.codec.get_response_response(m.GetResponseResponse(item))
    fake.put(item, raw=body.replace(b"SenderProvidedResponseData", b"Broken"))
    fake.put(business(adapter.new_message_id()))
    sink = Sink()
    assert await adapter.receive(sink) == 2
    assert sink.got[0].relates_to is None and sink.got[0].codes[0][0] == "SMEV_MALFORMED_MESSAGE"  # type: ignore[union-attr]
    assert [a for _, a in fake.acks] == [False, True]


async def test_empty_queue_takes_nothing_and_a_get_fault_backs_off(
    adapter: Smev3Adapter, smev: tuple[FakeSmev, str]
) -> None:
    fake, _ = smev
    assert await adapter.receive(Sink()) == 0 and fake.acks == []
    fake.get_fault = m.Fault("SMEVFailure", "down")
    with pytest.raises(Smev3ReceiveError, match="SMEVFailure"):
        await adapter.receive(Sink())


async def test_a_failed_ack_counts_the_recorded_message_and_it_comes_again_once(
    adapter: Smev3Adapter, smev: tuple[FakeSmev, str]
) -> None:
    """Found by the 2,000-request run: an Ack answered SMEVFailure made receive() raise, so the
    receiver backed off as if nothing had been taken; with SMEVFailure on 10 % of calls nearly
    every round failed and the queue grew. Now the message counts as taken, polling goes on,
    and SMEV's redelivery is Acked later (the journal records it once)."""
    fake, _ = smev
    first = fake.put(business(adapter.new_message_id())).response.metadata.message_id
    second = fake.put(business(adapter.new_message_id())).response.metadata.message_id
    fake.ack_faults = 1
    sink = Sink()
    assert await adapter.receive(sink) == 2  # the first recorded, its Ack failed; the second too
    assert len(sink.got) == 2 and fake.acks == [(second, True)]
    fake.redeliver()
    assert await adapter.receive(sink) == 1
    assert fake.acks == [(second, True), (first, True)] and not fake.queue and not fake.in_flight


async def test_lanes_overlap_slow_answers_and_still_record_each_message_before_its_ack(
    smev: tuple[FakeSmev, str], is_signers: dict[str, Signer], verifier: XmlVerifier
) -> None:
    """Polling is bound by latency (SMEV's slow answers): ``receive_concurrency`` lanes keep
    several GetResponse calls in flight, every message is still recorded before its Ack, and a
    GetResponse fault does not end the lane that met it."""
    fake, url = smev
    fake.get_delay = 0.2
    ids = {fake.put(business(_mid())).response.metadata.message_id for _ in range(12)}
    settings = Smev3Settings(protocol="smev3", url=url, timeout_seconds=5.0, receive_batch=50, receive_concurrency=4)
    sink = Sink()
    fake.recorded = {x.peer_message_id or "" for x in sink.got}  # refreshed by the sink below

    async def take(item: PeerOutcome | Progress) -> None:
        sink.got.append(item)
        assert fake.recorded is not None
        fake.recorded.add(item.peer_message_id or "")

    sink._take = take  # type: ignore[method-assign]
    fake.get_faults = 1  # one lane meets SMEVFailure at once, and goes on
    async with aiohttp.ClientSession() as session:
        adapter = Smev3Adapter(settings, session, name="smev", signer=is_signers["gost2012-256"], verifier=verifier)
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert await adapter.receive(sink) == 12
        elapsed = loop.time() - started
    assert {x.peer_message_id for x in sink.got} == ids and len(sink.got) == 12
    assert {i for i, _ in fake.acks} == ids and all(a for _, a in fake.acks)
    assert fake.acked_unrecorded == []
    assert fake.max_in_get == 4
    # 12 messages and the empty answer, 0.2 s each, over four lanes: far below 13 × 0.2 s
    assert elapsed < 13 * 0.2


async def test_a_failing_sink_stops_every_lane_and_acks_nothing_it_did_not_record(
    smev: tuple[FakeSmev, str], is_signers: dict[str, Signer], verifier: XmlVerifier
) -> None:
    fake, url = smev
    for _ in range(6):
        fake.put(business(_mid()))
    settings = Smev3Settings(protocol="smev3", url=url, timeout_seconds=5.0, receive_concurrency=3)
    async with aiohttp.ClientSession() as session:
        adapter = Smev3Adapter(settings, session, name="smev", signer=is_signers["gost2012-256"], verifier=verifier)
        with pytest.raises(RuntimeError, match="journal down"):
            await adapter.receive(Sink(fails=True))
    assert fake.acks == []
    assert len(fake.in_flight) <= 3 and len(fake.queue) >= 3  # the lanes stopped after their first message


async def test_every_lane_failing_is_a_receive_error(
    smev: tuple[FakeSmev, str], is_signers: dict[str, Signer], verifier: XmlVerifier
) -> None:
    fake, url = smev
    fake.put(business(_mid()))
    fake.get_faults = 2 * LANE_FAILURES  # each lane gives up after LANE_FAILURES in a row
    settings = Smev3Settings(protocol="smev3", url=url, timeout_seconds=5.0, receive_concurrency=2)
    async with aiohttp.ClientSession() as session:
        adapter = Smev3Adapter(settings, session, name="smev", signer=is_signers["gost2012-256"], verifier=verifier)
        with pytest.raises(Smev3ReceiveError, match="SMEVFailure"):
            await adapter.receive(Sink())
        assert fake.queue and fake.acks == []  # nothing taken: the receiver backs off
        assert await adapter.receive(Sink()) == 1
        fake.get_faults = 1  # one lane fails, the other finds the queue empty: nothing to back off from
        assert await adapter.receive(Sink()) == 0


# --- through the whole gateway -------------------------------------------------------------------


def _instance(url: str, pki: TestPki) -> dict[str, Any]:
    issued = pki.issue("mo-org", algorithm="gost2012-256")
    return {
        "protocol": "smev3",
        "url": url,
        "signing_key_file": str(issued.key_path),
        "signing_certificate_file": str(issued.cert_path),
        "smev_trust_dir": str(pki.trust_dir),
        "smev_crl_dir": str(Path(pki.crl_path).parent),
    }


async def test_answers_to_nothing_we_sent_or_badly_signed_change_nothing(
    tmp_path: Path, sqlite_url: str, smev: tuple[FakeSmev, str], smev3_pki: TestPki
) -> None:
    """Without a localUid, OriginalMessageId alone attributes an SMEV answer: one naming a
    MessageID we never sent, or whose ЭП-СМЭВ fails, is stored unattributed and Acked."""
    fake, url = smev
    config = gateway_config(tmp_path, {"smev": _instance(url, smev3_pki)}, "smev", sqlite_url)
    async with running(config, {"smev3": PLUGIN}) as client:
        journal = journal_of(client)
        sub = await queued(journal, "smev")
        await until(lambda: state_is(journal, sub.id, State.SENT))
        ours = fake.sent[0].data.message_id
        stranger = fake.put(business(_mid()))
        forged = fake.put(business(ours), tamper=True)
        await until(lambda: _acked(fake, 2))
        assert (await journal.get(sub.id)).state is State.SENT
        rows = await inbox_rows(journal, peer="smev", kind="unattributed")
        ids = {stranger.response.metadata.message_id, forged.response.metadata.message_id}
        assert {r.peer_message_id for r in rows} == ids
        assert dict(fake.acks) == {
            stranger.response.metadata.message_id: True,
            forged.response.metadata.message_id: False,
        }


async def _acked(fake: FakeSmev, n: int) -> bool:
    return len(fake.acks) >= n


async def test_a_submission_to_smev3_ends_registered_through_the_journal(
    tmp_path: Path, sqlite_url: str, smev: tuple[FakeSmev, str], smev3_pki: TestPki
) -> None:
    fake, url = smev
    fake.auto_answer = True
    instance = _instance(url, smev3_pki)
    config = gateway_config(tmp_path, {"smev": instance}, "smev", sqlite_url)
    async with running(config, {"smev3": PLUGIN}) as client:
        journal = journal_of(client)
        sub = await queued(journal, "smev")
        done = await until(lambda: state_is(journal, sub.id, State.REGISTERED))
        assert done.peer_registration_id == "MSE-2026-000042" and done.outcome_source == "callback"
        await until(lambda: _acked(fake, 1))  # the Ack follows the commit the state shows
        assert len(fake.sent) == 1 and fake.acks and all(a for _, a in fake.acks)
        assert not fake.queue and not fake.in_flight
    check_message_id(fake.sent[0].data.message_id)

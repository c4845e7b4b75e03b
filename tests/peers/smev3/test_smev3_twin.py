"""The SMEV 3 twin over real HTTP on loopback: envelopes built and signed (GOST, test PKI) by
Smev3Codec, every answer parsed back with Smev3Codec.parse. Queue semantics (send → get → ack →
empty, redelivery of what is not Acked, unknown Ack), the checks SMEV makes (duplicate, stale and
non-v1 MessageIDs, ЭП-ОВ missing/invalid/untrusted/expired, XSD, quota), the provider behind it,
the fault profiles and the counters of /_sandbox/stats."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from lxml import etree
from smev3_kit import BUSINESS, DS, T0, assert_valid, body_child

from adapters.smev3 import messages as m
from adapters.smev3.codec import SOAP_ACTIONS, Message, Smev3Codec
from adapters.smev3.identity import new_message_id
from adapters.smev3.sandbox import ANSWER_NAMESPACE, PROVIDER, TWIN_KEY, FaultProfile, Smev3Twin, create_twin
from adapters.smev3.sandbox.profile import Delay, Probabilities
from adapters.smev3.signing import Signer, sign_element, verify_incoming
from gateway.common.clock import SimulatedClock
from gateway.errors import ConfigError
from gateway.signatures.certificates import load_certificates
from gateway.signatures.pki import TestPki
from gateway.signatures.xml.verify import XmlVerifier

PATH = "/smev3/ws"
HOLDER = "CallerInformationSystemSignature"


def uuid1_at(moment: datetime) -> str:
    """A UUID v1 whose timestamp is ``moment``."""
    ticks = int((moment - datetime(1582, 10, 15, tzinfo=UTC)) / timedelta(microseconds=1)) * 10
    fields = (ticks & 0xFFFFFFFF, (ticks >> 32) & 0xFFFF, ((ticks >> 48) & 0x0FFF) | 0x1000, 0x80, 0x01, 0x02FC00000001)
    return str(uuid.UUID(fields=fields))


@dataclass
class Sandbox:
    twin: Smev3Twin
    clock: SimulatedClock
    session: aiohttp.ClientSession
    url: str
    codec: Smev3Codec  # the information system's (signs ЭП-ОВ)
    verifier: XmlVerifier

    async def call(self, envelope: bytes, operation: str) -> Message:
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": SOAP_ACTIONS[operation]}
        async with self.session.post(self.url, data=envelope, headers=headers) as reply:
            body = await reply.read()
            parsed = self.codec.parse(body)
            assert (reply.status == 500) == isinstance(parsed, m.Fault), (reply.status, parsed)
            # what the twin answers is valid against the official schemas, faults included
            answer = body_child(body)
            if not isinstance(parsed, m.Fault):
                assert_valid(answer)
            elif not parsed.code.startswith("SOAP_"):
                holder = answer.find("detail")
                assert holder is not None and len(holder) == 1, parsed
                assert_valid(holder[0])
            return parsed

    async def send(self, content: bytes = BUSINESS, *, message_id: str | None = None) -> Any:
        data = m.SenderProvidedRequestData(message_id or new_message_id(), content)
        return await self.call(self.codec.send_request(m.SendRequestRequest(data)), "SendRequest")

    async def get_response(self, selector: m.MessageTypeSelector | None = None) -> Any:
        sel = selector or m.MessageTypeSelector(self.clock.now())
        return await self.call(self.codec.get_response(m.GetResponseRequest(sel)), "GetResponse")

    async def ack(self, message_id: str, accepted: bool = True) -> Any:
        return await self.call(self.codec.ack(m.AckRequest(message_id, accepted)), "Ack")

    async def stats(self) -> dict[str, Any]:
        async with self.session.get(self.url.replace(PATH, "/_sandbox/stats")) as reply:
            result: dict[str, Any] = await reply.json()
            return result

    async def message(self, message_id: str) -> tuple[int, dict[str, Any]]:
        async with self.session.get(self.url.replace(PATH, f"/_sandbox/messages/{message_id}")) as reply:
            return reply.status, await reply.json()

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.twin.run_due()


Start = Callable[..., Awaitable[Sandbox]]


@pytest.fixture
async def start(is_signers: dict[str, Signer], smev_signer: Signer, verifier: XmlVerifier) -> AsyncIterator[Start]:
    servers: list[TestServer] = []
    sessions: list[aiohttp.ClientSession] = []

    async def make(profile: FaultProfile | str = "none", *, signer: Signer | None = None, **kwargs: Any) -> Sandbox:
        clock = SimulatedClock(1.0)
        kwargs.setdefault("verifier", verifier)
        kwargs.setdefault("identity", smev_signer)
        app: web.Application = create_twin(profile, clock, seed=7, **kwargs)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        session = aiohttp.ClientSession()
        sessions.append(session)
        codec = Smev3Codec("1.1", signer=signer or is_signers["gost2012-256"])
        return Sandbox(app[TWIN_KEY], clock, session, str(server.make_url(PATH)), codec, verifier)

    yield make
    for session in sessions:
        await session.close()
    for server in servers:
        await server.close()


def profile(**probabilities: float) -> FaultProfile:
    return FaultProfile(name="test", probabilities=Probabilities(**probabilities))


def assert_fault(answer: object, code: str, subcode: str | None = None) -> m.Fault:
    assert isinstance(answer, m.Fault), answer
    assert answer.code == code, answer
    assert answer.subcode == subcode, answer
    return answer


# --- the happy path ---------------------------------------------------------------------------


async def test_send_get_ack_leaves_the_queue_empty(start: Start) -> None:
    sb = await start()
    message_id = new_message_id()
    accepted = await sb.send(message_id=message_id)
    assert isinstance(accepted, m.SendRequestResponse)
    assert accepted.metadata.message_id == message_id and accepted.metadata.status == "requestIsQueued"
    assert (await sb.get_response()).empty  # the provider answers one simulated second later
    sb.advance(1.5)
    got = await sb.get_response()
    assert isinstance(got, m.GetResponseResponse) and got.response is not None
    response = got.response
    assert response.kind is m.ResponseKind.BUSINESS and response.original_message_id == message_id
    assert response.data.content is not None
    answer = etree.fromstring(response.data.content)
    assert answer.tag == f"{{{ANSWER_NAMESPACE}}}ReferralResponse"
    assert answer.findtext(f"{{{ANSWER_NAMESPACE}}}RegistrationNumber", "").startswith("SBX-")
    assert isinstance(await sb.ack(response.metadata.message_id or ""), m.AckResponse)
    assert (await sb.get_response()).empty
    stats = await sb.stats()
    assert stats["accepted"] == 1 and stats["deliveries"] == 1 and stats["acks"] == 1
    assert stats["unacked"] == 0 and stats["queues"] == {} and stats["redeliveries"] == 0
    assert stats["provider_deliveries"] == 1 and stats["delivered_twice_to_provider"] == 0
    status, record = await sb.message(message_id)
    assert status == 200 and record["state"] == "answered" and record["provider_deliveries"] == 1
    assert record["responses"][0]["deliveries"] == 1
    assert (await sb.message(new_message_id()))[0] == 404


@pytest.mark.parametrize("as_tuple", [False, True], ids=["signer", "key-and-certificate"])
async def test_answers_carry_a_valid_smev_signature(
    start: Start, verifier: XmlVerifier, smev_signer: Signer, as_tuple: bool
) -> None:
    sb = await start(identity=(smev_signer.key, smev_signer.certificate) if as_tuple else smev_signer)
    data = m.SenderProvidedRequestData(new_message_id(), BUSINESS)
    headers = {"Content-Type": "text/xml", "SOAPAction": "urn:SendRequest"}
    async with sb.session.post(sb.url, data=sb.codec.send_request(m.SendRequestRequest(data)), headers=headers) as r:
        raw = await r.read()
    # without a chain in KeyInfo (TwinContext gives key and certificate only) the CA comes from the side
    assert verify_incoming(raw, verifier, certificates=smev_signer.chain).smev_valid
    sb.advance(2)
    sel = sb.codec.get_response(m.GetResponseRequest(m.MessageTypeSelector(sb.clock.now())))
    async with sb.session.post(sb.url, data=sel, headers=headers) as r:
        raw = await r.read()
    verdicts = verify_incoming(raw, verifier, certificates=smev_signer.chain)
    assert verdicts.smev_valid and verdicts.of("SMEVSignature")[0].target == "Response"


async def test_message_type_selector_filters_responses(start: Start) -> None:
    sb = await start()
    assert isinstance(await sb.send(), m.SendRequestResponse)
    sb.advance(2)
    other = m.MessageTypeSelector(sb.clock.now(), "urn:test:other", "Other")
    assert (await sb.get_response(other)).empty
    mine = m.MessageTypeSelector(sb.clock.now(), "urn:test:mse", "Referral")
    assert not (await sb.get_response(mine)).empty


# --- queue semantics --------------------------------------------------------------------------


async def test_unacked_message_is_redelivered_after_the_base_time(start: Start) -> None:
    sb = await start()
    await sb.send()
    sb.advance(2)
    first = await sb.get_response()
    assert first.response is not None
    assert (await sb.get_response()).empty  # in flight: not visible until the base time passes
    sb.advance(299)
    assert (await sb.get_response()).empty
    sb.advance(2)
    again = await sb.get_response()
    assert again.response is not None and again.response.data.message_id == first.response.data.message_id
    stats = await sb.stats()
    assert stats["redeliveries"] == 1 and stats["unacked"] == 1
    assert stats["deliveries_per_message"][first.response.data.message_id] == 2
    assert isinstance(await sb.ack(first.response.data.message_id), m.AckResponse)
    sb.advance(600)
    assert (await sb.get_response()).empty
    assert (await sb.stats())["unacked"] == 0


async def test_ack_of_an_unknown_or_acked_message_is_a_fault(start: Start) -> None:
    sb = await start()
    assert_fault(await sb.ack(new_message_id()), "TargetMessageIsNotFound")
    await sb.send()
    sb.advance(2)
    got = await sb.get_response()
    assert isinstance(await sb.ack(got.response.data.message_id, accepted=False), m.AckResponse)
    assert_fault(await sb.ack(got.response.data.message_id), "TargetMessageIsNotFound")
    stats = await sb.stats()
    assert stats["acks"] == 1 and stats["acks_rejected"] == 1 and stats["acks_unknown"] == 2
    assert stats["faults"]["TargetMessageIsNotFound"] == 2


async def test_quota_overflow_is_destination_overflow(start: Start) -> None:
    slow = FaultProfile(name="slow", provider_delay=Delay(seconds=10_000))
    sb = await start(slow, queue_quota=2)
    assert isinstance(await sb.send(), m.SendRequestResponse)
    assert isinstance(await sb.send(), m.SendRequestResponse)
    fault = assert_fault(await sb.send(), "DestinationOverflow")
    assert dict(fault.details)["DestinationName"] == PROVIDER
    stats = await sb.stats()
    assert stats["waiting_for_provider"] == 2 and stats["faults"] == {"DestinationOverflow": 1}
    sb.advance(10_001)  # the provider takes them: room again
    assert isinstance(await sb.send(), m.SendRequestResponse)


# --- message ids ------------------------------------------------------------------------------


async def test_duplicate_message_id_is_already_sent(start: Start) -> None:
    sb = await start()
    message_id = new_message_id()
    assert isinstance(await sb.send(message_id=message_id), m.SendRequestResponse)
    assert_fault(await sb.send(message_id=message_id), "MessageIsAlreadySent")
    sb.advance(2)
    stats = await sb.stats()
    assert stats["accepted"] == 1 and stats["duplicates_refused"] == 1 and stats["provider_deliveries"] == 1
    assert (await sb.message(message_id))[1]["send_attempts"] == 2


async def test_stale_future_and_non_v1_ids(start: Start) -> None:
    sb = await start()
    now = sb.clock.now()
    assert_fault(await sb.send(message_id=uuid1_at(now - timedelta(hours=25))), "StaleMessageId")
    assert_fault(await sb.send(message_id=uuid1_at(now + timedelta(hours=1))), "StaleMessageId")
    assert isinstance(await sb.send(message_id=uuid1_at(now - timedelta(hours=23))), m.SendRequestResponse)
    assert_fault(await sb.send(message_id=str(uuid.uuid4())), "InvalidMessageIdFormat")
    # upper case does not match the XSD's UUID pattern at all
    assert_fault(await sb.send(message_id=new_message_id().upper()), "InvalidContent")
    stats = await sb.stats()
    assert stats["accepted"] == 1
    assert stats["faults"] == {"StaleMessageId": 2, "InvalidMessageIdFormat": 1, "InvalidContent": 1}


async def test_a_resend_after_a_day_is_stale_even_when_it_was_accepted(start: Start) -> None:
    sb = await start()
    message_id = new_message_id()
    await sb.send(message_id=message_id)
    sb.advance(25 * 3600)
    assert_fault(await sb.send(message_id=message_id), "StaleMessageId")


# --- signatures and content -------------------------------------------------------------------


async def test_unsigned_request_is_no_signature_found(start: Start) -> None:
    sb = await start()
    data = m.SenderProvidedRequestData(new_message_id(), BUSINESS)
    answer = await sb.call(sb.codec.send_request(m.SendRequestRequest(data), sign=False), "SendRequest")
    assert_fault(answer, "SignatureVerificationFault", "NoSignatureFound")
    unsigned_get = sb.codec.get_response(m.GetResponseRequest(m.MessageTypeSelector(T0)), sign=False)
    assert_fault(await sb.call(unsigned_get, "GetResponse"), "SignatureVerificationFault", "NoSignatureFound")
    assert (await sb.stats())["faults"] == {"NoSignatureFound": 2}


async def test_tampered_request_is_signature_is_invalid(start: Start) -> None:
    sb = await start()
    data = m.SenderProvidedRequestData(new_message_id(), BUSINESS)
    envelope = sb.codec.send_request(m.SendRequestRequest(data)).replace(b"12345678901", b"12345678902")
    assert_fault(await sb.call(envelope, "SendRequest"), "SignatureVerificationFault", "SignatureIsInvalid")


async def test_signature_over_the_wrong_element_is_incorrect_target(
    start: Start, is_signers: dict[str, Signer]
) -> None:
    sb = await start()
    content = b'<m:Referral xmlns:m="urn:test:mse" Id="BUSINESS"><m:Snils>12345678901</m:Snils></m:Referral>'
    data = m.SenderProvidedRequestData(new_message_id(), content)
    root = etree.fromstring(sb.codec.send_request(m.SendRequestRequest(data), sign=False))
    payload = root.find(".//{*}SendRequestRequest")
    assert payload is not None
    etree.SubElement(payload, f"{{{etree.QName(payload).namespace}}}{HOLDER}")
    # a valid signature, but over the business content instead of SenderProvidedRequestData
    envelope = sign_element(etree.tostring(root), "BUSINESS", is_signers["gost2012-256"], holder=HOLDER)
    answer = await sb.call(envelope, "SendRequest")
    assert_fault(answer, "SignatureVerificationFault", "IncorrectSignatureTarget")


async def test_untrusted_and_expired_certificates(start: Start, smev3_pki: TestPki, tmp_path_factory: Any) -> None:
    stranger_pki = TestPki.init(tmp_path_factory.mktemp("stranger"), "gost2012-256")
    issued = stranger_pki.issue("mo-org")
    stranger = Signer(issued.key, issued.certificate, tuple(load_certificates(stranger_pki.chain_path.read_bytes())))
    sb = await start(signer=stranger)
    answer = await sb.send()
    assert_fault(answer, "SignatureVerificationFault", "CertificateIsNotFound")

    now = datetime.now(UTC)
    old = smev3_pki.issue("mo-org", not_before=now - timedelta(days=30), not_after=now - timedelta(days=1))
    expired = Signer(old.key, old.certificate, tuple(load_certificates(smev3_pki.chain_path.read_bytes())))
    sb = await start(signer=expired)
    assert_fault(await sb.send(), "SignatureVerificationFault", "CertificateIsExpired")


async def test_pinned_certificate(start: Start, is_signers: dict[str, Signer]) -> None:
    mine = is_signers["gost2012-256"]
    sb = await start(verifier=None, pinned=mine.certificate)
    assert isinstance(await sb.send(), m.SendRequestResponse)
    other = await start(verifier=None, pinned=mine.certificate, signer=is_signers["gost2012-512"])
    assert_fault(await other.send(), "SignatureVerificationFault", "CertificateIsNotFound")
    sb.clock.advance(40 * 365 * 86400)  # long after the certificate's notAfter
    assert_fault(await sb.send(), "SignatureVerificationFault", "CertificateIsExpired")


async def test_xsd_invalid_content_is_invalid_content_with_positions(start: Start) -> None:
    sb = await start()
    envelope = sb.codec.send_request(m.SendRequestRequest(m.SenderProvidedRequestData(new_message_id(), BUSINESS)))
    root = etree.fromstring(envelope)
    data = root.find(".//{*}SenderProvidedRequestData")
    assert data is not None
    etree.SubElement(data, f"{{{etree.QName(data).namespace}}}Unexpected").text = "x"
    fault = assert_fault(await sb.call(etree.tostring(root), "SendRequest"), "InvalidContent")
    assert fault.validation_errors and "Unexpected" in fault.validation_errors[0][1]
    assert "@" in fault.text
    no_header = etree.fromstring(envelope)
    header = no_header.find("{http://schemas.xmlsoap.org/soap/envelope/}Header")
    assert header is not None
    no_header.remove(header)
    answer = await sb.call(etree.tostring(no_header), "SendRequest")
    assert_fault(answer, "SignatureVerificationFault", "PoorSOAPEnvelopeFormat")


async def test_what_is_not_an_smev_request_is_a_client_fault(start: Start) -> None:
    sb = await start()
    assert_fault(await sb.call(b"<not-closed", "SendRequest"), "SOAP_CLIENT")
    answer_as_request = sb.codec.get_response_response(m.GetResponseResponse())
    assert_fault(await sb.call(answer_as_request, "GetResponse"), "SOAP_CLIENT")
    assert (await sb.stats())["faults"] == {"SOAP_CLIENT": 2}


# --- fault profiles ---------------------------------------------------------------------------


async def test_smev_failure_on_any_call(start: Start) -> None:
    sb = await start(profile(smev_failure=1.0))
    assert_fault(await sb.send(), "SMEVFailure")
    assert_fault(await sb.get_response(), "SMEVFailure")
    assert_fault(await sb.ack(new_message_id()), "SMEVFailure")
    stats = await sb.stats()
    assert stats["accepted"] == 0 and stats["faults"] == {"SMEVFailure": 3}


async def test_dropped_answer_after_acceptance(start: Start) -> None:
    sb = await start(profile(dropped_response=1.0))
    message_id = new_message_id()
    with pytest.raises(aiohttp.ClientError):
        await sb.send(message_id=message_id)
    # the request was enqueued all the same: the resend under the same id meets MessageIsAlreadySent
    assert_fault(await sb.send(message_id=message_id), "MessageIsAlreadySent")
    sb.advance(2)
    got = await sb.get_response()
    assert got.response is not None and got.response.original_message_id == message_id
    stats = await sb.stats()
    assert stats["dropped_responses"] == 1 and stats["provider_deliveries"] == 1
    assert (await sb.message(message_id))[1]["answer_dropped"] is True


async def test_async_rejection_arrives_later(start: Start) -> None:
    sb = await start(profile(async_rejection=1.0))
    message_id = new_message_id()
    assert isinstance(await sb.send(message_id=message_id), m.SendRequestResponse)
    sb.advance(6)
    got = await sb.get_response()
    assert got.response is not None and got.response.kind is m.ResponseKind.ASYNC_STATUS
    status = got.response.data.async_status
    assert status is not None and status.original_message_id == message_id
    assert status.category == "requestIsRejectedBySmev" and status.has_fault
    get_status = await sb.call(sb.codec.get_status(m.GetStatusRequest(sb.clock.now())), "GetStatus")
    assert isinstance(get_status, m.GetStatusResponse) and get_status.status == status
    empty = await sb.call(sb.codec.get_status(m.GetStatusRequest(sb.clock.now())), "GetStatus")
    assert isinstance(empty, m.GetStatusResponse) and empty.status is None
    stats = await sb.stats()
    assert stats["async_rejections"] == 1 and stats["provider_deliveries"] == 0


async def test_provider_statuses_then_answer_or_rejection(start: Start) -> None:
    sb = await start(profile(provider_status=1.0))
    await sb.send()
    sb.advance(1.5)
    first = await sb.get_response()
    assert first.response is not None and first.response.kind is m.ResponseKind.STATUS
    assert first.response.data.status is not None and "бюро" in first.response.data.status.description
    await sb.ack(first.response.data.message_id)
    sb.advance(1.5)
    second = await sb.get_response()
    assert second.response is not None and second.response.kind is m.ResponseKind.BUSINESS
    # one request, one registration number at the provider: in its status and in its answer
    number = dict(first.response.data.status.parameters)["registrationNumber"]
    assert second.response.data.content is not None
    answer = etree.fromstring(second.response.data.content)
    assert answer.findtext(f"{{{ANSWER_NAMESPACE}}}RegistrationNumber") == number

    sb = await start(profile(provider_rejection=1.0))
    await sb.send()
    sb.advance(1.5)
    got = await sb.get_response()
    assert got.response is not None and got.response.kind is m.ResponseKind.REJECTED
    assert got.response.data.rejections[0].code == "NO_DATA"


async def test_lost_ack_means_a_redelivery(start: Start) -> None:
    sb = await start(profile(lost_ack=1.0))
    await sb.send()
    sb.advance(2)
    got = await sb.get_response()
    assert isinstance(await sb.ack(got.response.data.message_id), m.AckResponse)
    sb.advance(301)
    again = await sb.get_response()
    assert again.response is not None and again.response.data.message_id == got.response.data.message_id
    stats = await sb.stats()
    assert stats["lost_acks"] == 1 and stats["redeliveries"] == 1 and stats["unacked"] == 1


async def test_slow_answer(start: Start) -> None:
    slow = FaultProfile(name="slow", probabilities=Probabilities(slow_answer=1.0), slow_answer_delay=Delay(seconds=0.2))
    sb = await start(slow)
    assert isinstance(await sb.send(), m.SendRequestResponse)
    assert (await sb.stats())["slow_answers"] == 1


def test_shipped_profiles_load() -> None:
    none = FaultProfile.load("none")
    assert none.probabilities == Probabilities() and none.queue_quota == 1000
    flaky, painful = FaultProfile.load("flaky"), FaultProfile.load("smev3-painful")
    assert flaky.name == "smev3-flaky" and flaky.probabilities.smev_failure > 0
    p = painful.probabilities
    assert min(p.smev_failure, p.dropped_response, p.async_rejection, p.lost_ack, p.slow_answer) > 0
    with pytest.raises(ConfigError):
        FaultProfile.load("no-such-profile")


# --- the provider side (the information system takes requests with GetRequest) ---------------


async def test_provider_side_get_request_send_response(start: Start, verifier: XmlVerifier) -> None:
    first = await start()
    envelope = first.codec.get_request(m.GetRequestRequest(m.MessageTypeSelector(T0)))
    me = verify_incoming(envelope, verifier).of(HOLDER)[0].signer  # the twin names callers so
    assert me
    sb = await start(provider_namespaces={"urn:test:mse": me})
    # a request from the simulated consumer, and one from this very system, both to it
    injected = sb.twin.inject_request(BUSINESS, me)
    own = new_message_id()
    assert isinstance(await sb.send(message_id=own), m.SendRequestResponse)
    taken: list[m.Request] = []
    for _ in range(2):
        got = await sb.call(
            sb.codec.get_request(m.GetRequestRequest(m.MessageTypeSelector(sb.clock.now()))), "GetRequest"
        )
        assert isinstance(got, m.GetRequestResponse) and got.request is not None
        taken.append(got.request)
        assert isinstance(await sb.ack(got.request.data.message_id), m.AckResponse)
    assert [r.data.message_id for r in taken] == [injected, own]
    assert taken[1].sender_signature is not None and DS.encode() in taken[1].sender_signature
    for request in taken:
        data = m.SenderProvidedResponseData(new_message_id(), request.reply_to, content=BUSINESS)
        answer = await sb.call(sb.codec.send_response(m.SendResponseRequest(data)), "SendResponse")
        assert isinstance(answer, m.SendResponseResponse)
    # the own request's response comes back through this system's response queue
    got = await sb.get_response()
    assert got.response is not None and got.response.original_message_id == own
    unknown = m.SenderProvidedResponseData(new_message_id(), "no-such-reply-to", content=BUSINESS)
    answer = await sb.call(sb.codec.send_response(m.SendResponseRequest(unknown)), "SendResponse")
    assert_fault(answer, "RequestIsNotFound")
    stats = await sb.stats()
    assert stats["responses_accepted"] == 2 and stats["provider_deliveries"] == 0


async def test_painful_profile_with_a_careful_client(start: Start) -> None:
    """smev3-painful (SMEVFailure bursts, dropped answers, async rejections, lost Acks, statuses)
    against a client that resends under the same id and Acks everything it records: every
    request reaches an outcome, none reaches the provider twice, nothing is left un-Acked."""
    painful = FaultProfile.load("painful").model_copy(update={"slow_answer_delay": Delay(seconds=0.01)})
    sb = await start(painful)
    ids = [new_message_id() for _ in range(30)]
    for message_id in ids:
        for _ in range(50):
            try:
                answer = await sb.send(message_id=message_id)
            except aiohttp.ClientError:
                continue  # the answer was lost: resend under the same id
            if isinstance(answer, m.SendRequestResponse) or (
                isinstance(answer, m.Fault) and answer.code == "MessageIsAlreadySent"
            ):
                break
            assert_fault(answer, "SMEVFailure")
        else:
            pytest.fail(f"{message_id} never accepted")
    outcomes: dict[str, str] = {}
    seen: dict[str, int] = {}
    for _ in range(60):
        sb.advance(600)
        while True:
            got = await sb.get_response()
            if isinstance(got, m.Fault):
                assert_fault(got, "SMEVFailure")
                continue
            if got.response is None:
                break
            response = got.response
            seen[response.data.message_id] = seen.get(response.data.message_id, 0) + 1
            if response.kind is not m.ResponseKind.STATUS:
                outcomes.setdefault(response.original_message_id or "", str(response.kind))
            while isinstance(await sb.ack(response.data.message_id), m.Fault):
                pass  # SMEVFailure: Ack again
        stats = await sb.stats()
        if len(outcomes) == len(ids) and stats["unacked"] == 0 and stats["scheduled"] == 0:
            break
    assert sorted(outcomes) == sorted(ids)
    stats = await sb.stats()
    assert stats["unacked"] == 0 and stats["delivered_twice_to_provider"] == 0
    assert stats["accepted"] == len(ids) and stats["duplicates_refused"] == stats["dropped_responses"]
    assert stats["faults"].get("SMEVFailure", 0) > 0 and stats["lost_acks"] > 0
    assert stats["redeliveries"] == sum(n - 1 for n in seen.values())
    assert set(outcomes.values()) >= {"business", "async-status"}


async def test_a_twin_bug_is_a_soap_server_fault(start: Start, monkeypatch: pytest.MonkeyPatch) -> None:
    sb = await start()

    def broken(*args: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(sb.twin, "_send_request", broken)
    assert_fault(await sb.send(), "SOAP_SERVER")
    assert (await sb.stats())["faults"] == {"TWIN_INTERNAL_ERROR": 1}

"""Every SMEV 3 fault of the issue (items 2 and 7), end to end: the twin answers it over real HTTP
— for real where it can (unregistered sender, access to the kind of data, EOL, quota of the
recipient's queue, attachments, MessageID checks, signatures), by its fault profile's
``send_faults`` otherwise — and the adapter's ``Answer`` goes through the core's classifier with
the plug-in's code table: the expected class, the fault's own code and text, the operator
explanation of the row."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from pydantic import ValidationError

from adapters.smev3 import messages as m
from adapters.smev3.adapter import Smev3Adapter
from adapters.smev3.client import Smev3Client
from adapters.smev3.codec import Smev3Codec
from adapters.smev3.codes import smev3_code_table
from adapters.smev3.identity import new_message_id
from adapters.smev3.sandbox import TWIN_KEY, FaultProfile, Smev3Twin, create_twin
from adapters.smev3.sandbox.profile import SEND_FAULT_CODES, Probabilities
from adapters.smev3.settings import Smev3Settings
from adapters.smev3.signing import Signer
from gateway.common.clock import SimulatedClock
from gateway.delivery.classify import Verdict, classify_answer, classify_transport
from gateway.errors import ConfigError
from gateway.intake.submission import CanonicalSubmission
from gateway.peers.contract import Answer, AnswerKind
from gateway.signatures.xml.verify import XmlVerifier

from smev3_kit import T0  # isort: skip

R, F, A = Verdict.RETRY, Verdict.FAIL, Verdict.ALREADY_THERE
# What the issue says of each fault (item 2), independent of the code table.
EXPECTED: dict[str, Verdict] = {
    "MessageIsAlreadySent": A,
    "StaleMessageId": R,
    "InvalidMessageIdFormat": F,
    "SMEVFailure": R,
    "DestinationOverflow": R,
    "EndOfLifeReached": R,
    "SignatureVerificationFault": F,
    "PoorSOAPEnvelopeFormat": F,
    "NoSignatureFound": F,
    "IncorrectSignatureTarget": F,
    "SignatureIsInvalid": F,
    "CertificateIsNotFound": F,
    "CertificateIsExpired": F,
    "SenderIsNotRegistered": F,
    "AccessDenied": F,
    "BusinessDataTypeIsNotSupported": F,
    "InvalidContent": F,
    "AttachmentSizeLimitExceeded": F,
    "QuoteLimitExceeded": F,
    "AttachmentContentMiscoordination": F,
    "RecipientIsNotFound": F,
    "UnknownMessageType": F,
    "TransactionCodeInvalid": F,
    "IncorrectResponseContentType": F,
    "RequestIsNotFound": F,
    "TargetMessageIsNotFound": F,
}


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
    local_uid = "doc-1"


@dataclass
class Through:
    """The adapter talking to the twin over loopback."""

    adapter: Smev3Adapter
    twin: Smev3Twin
    clock: SimulatedClock

    async def send(self, message_id: str | None = None) -> Answer:
        return await self.adapter.send(_Sub(), canonical(), message_id=message_id or new_message_id())  # type: ignore[arg-type]

    async def send_message(self, msg: m.SendRequestRequest) -> Answer:
        """A SendRequest the adapter does not build yet (attachments), through its client and
        its answer mapping."""
        return Smev3Adapter._send_answer(await self.adapter.client.send_request(msg))

    async def caller(self) -> str:
        """The name SMEV knows the adapter's information system by (its certificate's CN)."""
        mid = new_message_id()
        assert (await self.send(mid)).kind is AnswerKind.ACCEPTED
        return self.twin.records[mid].sender


Make = Callable[..., Awaitable[Through]]


@pytest.fixture
async def through(is_signers: dict[str, Signer], smev_signer: Signer, verifier: XmlVerifier) -> AsyncIterator[Make]:
    servers: list[TestServer] = []
    sessions: list[aiohttp.ClientSession] = []

    async def make(profile: FaultProfile | str = "none", settings: dict[str, Any] | None = None, **kw: Any) -> Through:
        clock = SimulatedClock(1.0)
        kw.setdefault("verifier", verifier)
        app: web.Application = create_twin(profile, clock, seed=3, identity=smev_signer, **kw)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        session = aiohttp.ClientSession()
        sessions.append(session)
        chosen = Smev3Settings(protocol="smev3", url=str(server.make_url("/smev3/ws")), **(settings or {}))
        adapter = Smev3Adapter(chosen, session, name="smev", signer=is_signers["gost2012-256"], verifier=verifier)
        return Through(adapter, app[TWIN_KEY], clock)

    yield make
    for session in sessions:
        await session.close()
    for server in servers:
        await server.close()


def assert_row(answer: Answer, code: str, *, reason: str | None = None) -> None:
    """The answer is the fault ``code`` (its reason first, when a SignatureVerificationFault),
    classified as the issue says, with the fault's own text and the row's explanation."""
    table = smev3_code_table()
    first = reason or code
    if EXPECTED[first] is A:
        assert answer.kind is AnswerKind.ACCEPTED, answer
        return
    assert answer.kind is AnswerKind.REFUSED, answer
    assert answer.codes[0][0] == first, answer.codes
    assert answer.codes[0][1], "the fault's own text is kept"
    if reason is not None:
        assert answer.codes[1][0] == "SignatureVerificationFault"
    decision = classify_answer(answer.codes, table)
    assert decision.verdict is EXPECTED[first], (first, decision)
    assert decision.code == first and decision.message == answer.codes[0][1]
    assert answer.renew_message_id is (first == "StaleMessageId")
    rule = table.lookup(first)
    assert rule is not None and len(rule.description) > 40  # what the operator is told
    assert [e.direction for e in answer.envelopes] == ["out", "in"]  # both recorded
    if first == "DestinationOverflow":
        assert decision.min_wait == 600.0


# --- every row, by the fault profile --------------------------------------------------------


@pytest.mark.parametrize("code", sorted(EXPECTED), ids=sorted(EXPECTED))
async def test_every_fault_forced_by_the_profile(through: Make, code: str) -> None:
    profile = FaultProfile(name="forced", send_faults={code: 1.0})
    t = await through(profile)
    answer = await t.send()
    reasons = {"PoorSOAPEnvelopeFormat", "NoSignatureFound", "IncorrectSignatureTarget", "SignatureIsInvalid"}
    reasons |= {"CertificateIsNotFound", "CertificateIsExpired"}
    if code in reasons:
        assert_row(answer, "SignatureVerificationFault", reason=code)
    elif code == "SignatureVerificationFault":
        assert_row(answer, code, reason="SignatureIsInvalid")
    else:
        assert_row(answer, code)
    if code == "InvalidContent":
        assert "@1:" in answer.codes[0][1]  # the error position reaches the operator
    assert t.twin.stats.accepted == 0  # a forced fault accepts nothing


# The gateway's own rows for the ЕАВИИАС content profile (adapters/smev3/eaviias/notices.py).
EAVIIAS_CODES = {"EAVIIAS_RETURNED", "EAVIIAS_NOTICE_INVALID"}


def test_the_table_and_the_profile_know_every_fault(tmp_path: Path) -> None:
    assert {c.upper() for c in EXPECTED} | {"SOAP_SERVER", "SOAP_CLIENT"} | EAVIIAS_CODES == set(
        smev3_code_table().codes
    )
    assert set(EXPECTED) == SEND_FAULT_CODES
    with pytest.raises(ValidationError, match="NoSuchFault"):
        FaultProfile(name="x", send_faults={"NoSuchFault": 1.0})
    good = tmp_path / "quota.toml"
    good.write_text('name = "quota"\n[send_faults]\nQuoteLimitExceeded = 0.01\n')
    assert FaultProfile.load(good).send_faults == {"QuoteLimitExceeded": 0.01}
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\n[send_faults]\nQuoteLimitExcceded = 0.01\n')
    with pytest.raises(ConfigError, match="QuoteLimitExcceded"):
        FaultProfile.load(bad)


# --- the faults the twin answers for real ---------------------------------------------------


async def test_sender_is_not_registered_a_renewed_certificate_with_another_name(through: Make) -> None:
    t = await through()
    me = await t.caller()
    registered = await through(registered_senders={me})
    assert (await registered.send()).kind is AnswerKind.ACCEPTED
    renamed = await through(registered_senders={f"{me} (до продления)"})  # SMEV knows the old name only
    assert_row(await renamed.send(), "SenderIsNotRegistered")


async def test_access_denied_for_a_kind_of_data_the_system_is_not_connected_to(through: Make) -> None:
    me = await (await through()).caller()
    settings = Smev3Settings(protocol="smev3")
    allowed = await through(access={me: {settings.content_namespace}})
    assert (await allowed.send()).kind is AnswerKind.ACCEPTED
    denied = await through(access={me: {"urn://x-artefacts-other/1.0"}})
    assert_row(await denied.send(), "AccessDenied")
    assert denied.twin.stats.faults["AccessDenied"] == 1


async def test_business_data_type_not_supported(through: Make) -> None:
    t = await through(known_types={"urn://x-artefacts-other/1.0"})
    answer = await t.send()
    assert_row(answer, "BusinessDataTypeIsNotSupported")


async def test_end_of_life_reached_when_the_eol_has_passed_at_smev(through: Make) -> None:
    """The adapter sets EOL = its clock + message_ttl_seconds; SMEV's clock an hour ahead of it
    finds the EOL passed: EndOfLifeReached, transient (the resend gets a new EOL)."""
    fine = await through(settings={"message_ttl_seconds": 600})
    assert (await fine.send()).kind is AnswerKind.ACCEPTED
    sent = fine.twin.records
    assert len(sent) == 1
    late = await through(settings={"message_ttl_seconds": 600})
    late.clock.advance(3600)
    assert_row(await late.send(), "EndOfLifeReached")
    without_ttl = await through()
    without_ttl.clock.advance(3600)
    assert (await without_ttl.send()).kind is AnswerKind.ACCEPTED  # no EOL, no end of life


async def test_destination_overflow_at_the_recipients_quota(through: Make) -> None:
    t = await through(queue_quota=2)
    assert (await t.send()).kind is AnswerKind.ACCEPTED
    assert (await t.send()).kind is AnswerKind.ACCEPTED
    answer = await t.send()
    assert_row(answer, "DestinationOverflow")
    t.clock.advance(3600)
    t.twin.run_due()  # the provider takes what waits: there is room again
    assert (await t.send()).kind is AnswerKind.ACCEPTED


def _with_attachments(headers: list[str], contents: list[tuple[str, bytes]]) -> m.SendRequestRequest:
    content = (
        b'<ref:Referral xmlns:ref="urn://x-artefacts-mse/referral/1.0"><ref:LocalUid>x</ref:LocalUid></ref:Referral>'
    )
    data = m.SenderProvidedRequestData(
        new_message_id(),
        content,
        attachment_headers=tuple(m.AttachmentHeader(h, "application/pdf") for h in headers),
    )
    return m.SendRequestRequest(data, attachments=tuple(m.AttachmentContent(i, c) for i, c in contents))


async def test_attachment_faults(through: Make) -> None:
    profile = FaultProfile(name="small", attachment_size_limit_bytes=1000, attachment_quota_bytes=1500)
    t = await through(profile)
    assert_row(await t.send_message(_with_attachments(["a", "b"], [("a", b"x")])), "AttachmentContentMiscoordination")
    assert_row(await t.send_message(_with_attachments(["a"], [("a", b"x" * 1001)])), "AttachmentSizeLimitExceeded")
    assert (await t.send_message(_with_attachments(["a"], [("a", b"x" * 1000)]))).kind is AnswerKind.ACCEPTED
    answer = await t.send_message(_with_attachments(["a"], [("a", b"x" * 600)]))  # 500 bytes of quota left
    assert_row(answer, "QuoteLimitExceeded")
    assert (await t.send_message(_with_attachments(["a"], [("a", b"x" * 500)]))).kind is AnswerKind.ACCEPTED


async def test_message_id_faults(through: Make) -> None:
    t = await through()
    mid = new_message_id()
    assert (await t.send(mid)).kind is AnswerKind.ACCEPTED
    assert_row(await t.send(mid), "MessageIsAlreadySent")  # a resend after a lost answer
    assert_row(await t.send(str(uuid.uuid4())), "InvalidMessageIdFormat")
    t.clock.advance(2 * 86400)  # two days of resending under one id
    assert_row(await t.send(), "StaleMessageId")


async def test_smev_failure_and_signature_faults_for_real(
    through: Make, is_signers: dict[str, Signer], smev_signer: Signer
) -> None:
    failing = await through(FaultProfile(name="down", probabilities=Probabilities(smev_failure=1.0)))
    assert_row(await failing.send(), "SMEVFailure")
    other = await through(pinned=smev_signer.certificate)  # SMEV registered another certificate
    assert_row(await other.send(), "SignatureVerificationFault", reason="CertificateIsNotFound")


async def test_network_errors_and_http_5xx_are_transient() -> None:
    """No SOAP answer at all (a proxy's 502 page, a dropped connection): NO_ANSWER, which the
    core classifies by transport — transient."""

    async def gateway_page(request: web.Request) -> web.Response:
        return web.Response(status=502, text="<html>Bad Gateway</html>", content_type="text/html")

    app = web.Application()
    app.router.add_post("/smev3/ws", gateway_page)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            url = str(server.make_url("/smev3/ws"))
            client = Smev3Client(session, endpoint=url, codec=Smev3Codec("1.1"), timeout_seconds=5, peer="smev")
            data = m.SenderProvidedRequestData(new_message_id(), b"<a:x xmlns:a='urn:a'/>")
            answer = Smev3Adapter._send_answer(await client.send_request(m.SendRequestRequest(data)))
    finally:
        await server.close()
    assert answer.kind is AnswerKind.NO_ANSWER and answer.http_status == 502
    assert classify_transport(http_status=answer.http_status, error=answer.error).verdict is Verdict.RETRY
    assert classify_transport(http_status=None, error="connection reset").verdict is Verdict.RETRY

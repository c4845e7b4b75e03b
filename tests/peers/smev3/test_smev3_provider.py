"""The gateway as an SMEV 3 *provider* (issue 15 item 1), through the twin over real HTTP on
loopback with a real journal (SQLite, and PostgreSQL in CI): a consumer's request to the gateway's
namespace is taken with GetRequest, its ЭП-СМЭВ verified, recorded once (also when redelivered,
and across a crash between "recorded" and "Ack"), Acked; the answer the core owes goes out with
SendResponse under a persisted UUID v1 and reaches the consumer through the twin, exactly once
even when a resend follows a lost answer; a badly signed request is recorded with its bytes and
Acked accepted="false"."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from click.testing import CliRunner
from loopback_ports import free_port
from smev3_kit import T0

from adapters.smev3 import messages as m
from adapters.smev3.adapter import Smev3Adapter
from adapters.smev3.codec import Smev3Codec
from adapters.smev3.identity import check_message_id, message_id_time
from adapters.smev3.sandbox import TWIN_KEY, FaultProfile, Smev3Twin, create_twin
from adapters.smev3.sandbox.profile import Probabilities
from adapters.smev3.settings import MessageTypeSelectorSettings, Smev3Settings
from adapters.smev3.signing import Signer, verify_incoming
from gateway.cli import main
from gateway.common.clock import SimulatedClock
from gateway.common.secrets import DeploymentSecret
from gateway.config import load_config
from gateway.intake.opening import open_store
from gateway.intake.submission import CanonicalSubmission
from gateway.journal.engine import create_engine
from gateway.journal.migrate import upgrade
from gateway.journal.peer_requests import AnswerRefused, PeerRequest, PeerRequests, RequestReceipt
from gateway.journal.store import Journal
from gateway.model import EnvelopeIn
from gateway.peers.contract import AnswerKind, PeerOutcome, Progress
from gateway.signatures.certificates import load_certificates
from gateway.signatures.pki import TestPki
from gateway.signatures.xml.verify import XmlVerifier

NS = "urn://x-artefacts-mse/decision-request/1.0"
ANSWER_NS = "urn://x-artefacts-mse/decision/1.0"


class Sink:
    """The consumer side's sink (what its core would record)."""

    def __init__(self) -> None:
        self.got: list[PeerOutcome | Progress] = []

    async def __call__(self, outcome: PeerOutcome) -> None:
        self.got.append(outcome)

    async def progress(self, progress: Progress) -> None:
        self.got.append(progress)


class _Sub:
    local_uid = "req-1"


def _canonical(uid: str) -> CanonicalSubmission:
    return CanonicalSubmission(
        source_system="other-agency",
        local_uid=uid,
        kind="35",
        organization_oid="1.2.643.5.1.13.13.12.2.77.9001",
        creation_datetime=T0,
        document=b"<Question/>",
        document_mime="application/xml",
        signatures=(),
    )


def _signer(pki: TestPki, profile: str) -> Signer:
    issued = pki.issue(profile, algorithm="gost2012-256")
    return Signer(issued.key, issued.certificate, tuple(load_certificates(pki.chain_path.read_bytes())))


@dataclass
class Side:
    twin: Smev3Twin
    clock: SimulatedClock
    journal: Journal
    requests: PeerRequests
    gateway: Smev3Adapter  # the provider instance
    consumer: Smev3Adapter  # another agency's information system asking us
    url: str
    session: aiohttp.ClientSession

    async def ask(self, uid: str = "req-1") -> str:
        mid = self.consumer.new_message_id()
        answer = await self.consumer.send(_Sub(), _canonical(uid), message_id=mid)  # type: ignore[arg-type]
        assert answer.kind is AnswerKind.ACCEPTED, answer
        return mid

    def provider(self, requests: Any) -> Smev3Adapter:
        """Another gateway process of the same instance (same settings, another request port)."""
        g = self.gateway
        return Smev3Adapter(
            g.settings,
            self.session,
            name=g.name,
            signer=g.codec.signer,  # type: ignore[arg-type]
            verifier=g.verifier,
            clock=self.clock,
            requests=requests,
        )

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.twin.run_due()


Make = Callable[..., Awaitable[Side]]


@pytest.fixture
async def side(
    smev3_pki: TestPki,
    is_signers: dict[str, Signer],
    smev_signer: Signer,
    verifier: XmlVerifier,
    db_url: str,
    tmp_path: Path,
) -> AsyncIterator[Make]:
    servers: list[TestServer] = []
    sessions: list[aiohttp.ClientSession] = []
    engines: list[Any] = []
    consumer_signer = _signer(smev3_pki, "mse-org")

    async def make(profile: FaultProfile | str = "none", *, twin_identity: Signer | None = None) -> Side:
        clock = SimulatedClock(1.0)
        gateway_signer = is_signers["gost2012-256"]
        me = (
            verify_incoming(
                Smev3Codec("1.1", signer=gateway_signer).get_request(
                    m.GetRequestRequest(m.MessageTypeSelector(timestamp=clock.now()))
                ),
                verifier,
            )
            .of("CallerInformationSystemSignature")[0]
            .signer
        )
        assert me
        app: web.Application = create_twin(
            profile,
            clock,
            seed=3,
            identity=twin_identity or smev_signer,
            verifier=verifier,
            provider_namespaces={NS: me},
        )
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        session = aiohttp.ClientSession()
        sessions.append(session)
        url = str(server.make_url("/smev3/ws"))
        engine = create_engine(db_url)
        engines.append(engine)
        if engine.dialect.name == "sqlite":
            await upgrade(engine)
        journal = Journal(engine, DeploymentSecret(b"k" * 32), clock=clock)
        requests = PeerRequests(journal)
        settings = Smev3Settings(
            protocol="smev3",
            url=url,
            provider=True,
            provider_selector=MessageTypeSelectorSettings(namespace_uri=NS),
            receive_concurrency=2,
        )
        gateway = Smev3Adapter(
            settings, session, name="smev", signer=gateway_signer, verifier=verifier, clock=clock, requests=requests
        )
        consumer_settings = Smev3Settings(
            protocol="smev3", url=url, content_namespace=NS, content_root="DecisionRequest", document_transport="inline"
        )
        consumer = Smev3Adapter(
            consumer_settings, session, name="asker", signer=consumer_signer, verifier=verifier, clock=clock
        )
        return Side(app[TWIN_KEY], clock, journal, requests, gateway, consumer, url, session)

    yield make
    for session in sessions:
        await session.close()
    for server in servers:
        await server.close()
    for engine in engines:
        await engine.dispose()


async def _consumer_round(s: Side) -> list[PeerOutcome | Progress]:
    sink = Sink()
    await s.consumer.receive(sink)
    return sink.got


def _answer(tag: str = "ok") -> bytes:
    return f'<d:Decision xmlns:d="{ANSWER_NS}"><d:RegistrationNumber>{tag}</d:RegistrationNumber></d:Decision>'.encode()


async def test_a_request_is_recorded_acked_answered_and_the_answer_reaches_the_consumer(side: Make) -> None:
    s = await side()
    asked = await s.ask()
    took = await s.gateway.receive(Sink())
    assert took == 1
    [row] = await s.requests.entries(peer="smev")
    assert row.trusted and row.code is None and row.seen == 1
    assert (row.content_namespace, row.content_root) == (NS, "DecisionRequest")
    assert row.reply_to and row.answer_state is None
    body = await s.requests.body(row.id)
    assert body is not None and NS.encode() in body and b"SMEVSignature" in body  # the envelope, kept
    stats = s.twin.stats_json()
    assert stats["acks"] >= 1 and stats["acks_rejected"] == 0 and stats["unacked"] == 0

    await s.requests.answer(row.id, content=_answer("SBX-42"), by="operator:test")
    await s.requests.answer(row.id, content=_answer("SBX-42"))  # the same answer again: no-op
    with pytest.raises(AnswerRefused) as refused:
        await s.requests.answer(row.id, rejections=[("NO_DATA", "другое")])
    assert refused.value.code == "REQUEST_ALREADY_ANSWERED"
    assert await s.gateway.receive(Sink()) == 1  # the one answer sent
    sent = await s.requests.get(row.id)
    assert sent is not None and sent.answer_state == "sent" and sent.answer_attempts == 1
    assert sent.answer_message_id is not None
    check_message_id(sent.answer_message_id)  # a UUID v1
    assert s.twin.stats_json()["responses_accepted"] == 1

    got = await _consumer_round(s)
    [outcome] = got
    assert isinstance(outcome, PeerOutcome) and outcome.success
    assert outcome.relates_to == asked and outcome.peer_registration_id == "SBX-42"
    assert await s.gateway.receive(Sink()) == 0  # nothing owed any more, nothing waiting
    assert s.twin.stats_json()["unacked"] == 0


async def test_a_rejection_reaches_the_consumer_with_its_reason_code(side: Make) -> None:
    s = await side()
    asked = await s.ask()
    await s.gateway.receive(Sink())
    [row] = await s.requests.entries(peer="smev")
    await s.requests.answer(row.id, rejections=[("NO_DATA", "Сведения не найдены")])
    await s.gateway.receive(Sink())
    [outcome] = await _consumer_round(s)
    assert isinstance(outcome, PeerOutcome) and not outcome.success and outcome.relates_to == asked
    assert outcome.codes == (("NO_DATA", "Сведения не найдены"),)


async def test_a_redelivered_request_is_recorded_once(side: Make) -> None:
    """Every Ack lost (answered, not applied): SMEV gives the request again after its base time;
    the journal keeps one row and counts the delivery."""
    profile = FaultProfile(name="lost-acks", probabilities=Probabilities(lost_ack=1.0), redelivery_seconds=120)
    s = await side(profile)
    await s.ask()
    assert await s.gateway.receive(Sink()) == 1
    assert await s.gateway.receive(Sink()) == 0  # invisible until its redelivery time
    s.advance(121)
    assert await s.gateway.receive(Sink()) == 1
    [row] = await s.requests.entries(peer="smev")
    assert row.seen == 2
    stats = s.twin.stats_json()
    assert stats["redeliveries"] == 1 and stats["lost_acks"] == 2


class Killed(Exception):
    """The process dying (a BaseException such as SystemExit would also tear down the test's loop)."""


class _CrashAfterRecord:
    """The journal commits, then the process dies before the Ack (what a SIGKILL there leaves)."""

    def __init__(self, port: PeerRequests) -> None:
        self.port = port
        self.recorded: list[RequestReceipt] = []

    async def record(self, request: PeerRequest) -> RequestReceipt:
        receipt = await self.port.record(request)
        self.recorded.append(receipt)
        raise Killed("killed between recorded and Ack")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.port, name)


async def test_crash_between_recorded_and_ack_records_once_and_the_ack_comes_after_restart(
    side: Make, db_url: str
) -> None:
    s = await side()
    asked = await s.ask()
    crashing = _CrashAfterRecord(s.requests)
    with pytest.raises(Killed):
        await s.provider(crashing).receive(Sink())
    assert len(crashing.recorded) == 1 and crashing.recorded[0].created
    assert s.twin.stats_json()["acks"] == 0  # never acknowledged
    assert s.twin.stats_json()["unacked"] == 1

    # A new process: a new engine and journal on the same database, a new adapter.
    engine = create_engine(db_url)
    try:
        restarted = PeerRequests(Journal(engine, DeploymentSecret(b"k" * 32), clock=s.clock))
        again = s.provider(restarted)
        assert await again.receive(Sink()) == 0  # still invisible: delivered, not Acked
        s.advance(s.twin.profile.redelivery_seconds + 1)
        assert await again.receive(Sink()) == 1
        rows = await restarted.entries(peer="smev")
        assert len(rows) == 1 and rows[0].seen == 2 and rows[0].trusted
        stats = s.twin.stats_json()
        assert stats["acks"] == 1 and stats["unacked"] == 0 and stats["redeliveries"] == 1
        await restarted.answer(rows[0].id, content=_answer())
        await again.receive(Sink())
    finally:
        await engine.dispose()
    [outcome] = await _consumer_round(s)
    assert isinstance(outcome, PeerOutcome) and outcome.relates_to == asked


async def test_a_badly_signed_request_is_recorded_with_its_bytes_and_acked_false(side: Make, tmp_path: Path) -> None:
    """SMEV's signature by a key the gateway does not trust (another PKI): the request is kept
    with its envelope, flagged, Acked accepted="false", and cannot be answered."""
    stranger = TestPki.init(tmp_path / "stranger", "gost2012-256")
    s = await side(twin_identity=_signer(stranger, "mse-org"))
    await s.ask("bad-1")
    await s.ask("good-looking-2")
    assert await s.gateway.receive(Sink()) == 2  # neither blocks the queue
    rows = await s.requests.entries(peer="smev")
    assert len(rows) == 2
    for row in rows:
        assert not row.trusted and row.code == "SMEV_SIGNATURE_INVALID" and row.reason
        body = await s.requests.body(row.id)
        assert body is not None and b"SMEVSignature" in body
        with pytest.raises(AnswerRefused) as refused:
            await s.requests.answer(row.id, content=_answer())
        assert refused.value.code == "REQUEST_UNTRUSTED"
    stats = s.twin.stats_json()
    assert stats["acks_rejected"] == 2 and stats["unacked"] == 0


async def test_a_resend_after_a_lost_answer_never_answers_twice(side: Make) -> None:
    """The first SendResponse goes nowhere (no HTTP answer): the answer stays owed under its
    committed MessageID. Then the same id reaches SMEV (the earlier send that did arrive); the
    provider's resend is answered MessageIsAlreadySent, which is "sent": one answer only."""
    s = await side()
    asked = await s.ask()
    await s.gateway.receive(Sink())
    [row] = await s.requests.entries(peer="smev")
    await s.requests.answer(row.id, content=_answer("once"))
    [owed] = await s.requests.owed("smev")
    assert owed.message_id is None

    dead = dataclasses.replace(owed)
    s.gateway.client.endpoint = f"http://127.0.0.1:{free_port()}/smev3/ws"
    assert await s.gateway.provider.answer(dead) == "retry"  # type: ignore[union-attr]
    s.gateway.client.endpoint = s.url
    pending = await s.requests.get(row.id)
    assert pending is not None and pending.answer_state == "owed" and pending.answer_code == "NO_ANSWER"
    mid = pending.answer_message_id
    assert mid is not None and message_id_time(mid) is not None
    assert await s.requests.owed("smev") == []  # pausing before the resend

    # the earlier send "arrived": SMEV has this MessageID already
    data = m.SenderProvidedResponseData(mid, row.reply_to or "", content=_answer("once"))
    arrived = await s.gateway.client.send_response(m.SendResponseRequest(data))
    assert isinstance(arrived.message, m.SendResponseResponse)

    s.clock.advance(3600)
    [again] = await s.requests.owed("smev")
    assert again.message_id == mid  # reused, never a new one
    assert await s.gateway.provider.answer(again) == "sent"  # type: ignore[union-attr]
    done = await s.requests.get(row.id)
    assert done is not None and done.answer_state == "sent" and done.answer_code == "MessageIsAlreadySent"
    assert s.twin.stats_json()["duplicates_refused"] == 1 and s.twin.stats_json()["responses_accepted"] == 1
    got = await _consumer_round(s)
    assert [o.relates_to for o in got if isinstance(o, PeerOutcome)] == [asked]


async def test_a_permanent_fault_refuses_the_answer_with_smevs_code(side: Make) -> None:
    """SendResponse to a ReplyTo SMEV does not know: RequestIsNotFound, permanent, kept with its text."""
    s = await side()
    await s.ask()
    await s.gateway.receive(Sink())
    [row] = await s.requests.entries(peer="smev")
    await s.requests.answer(row.id, content=_answer())
    [owed] = await s.requests.owed("smev")
    stray = dataclasses.replace(owed, reply_to="nowhere")
    assert await s.gateway.provider.answer(stray) == "refused"  # type: ignore[union-attr]
    refused = await s.requests.get(row.id)
    assert refused is not None and refused.answer_state == "refused"
    assert refused.answer_code == "RequestIsNotFound" and refused.answer_text
    assert await s.requests.owed("smev") == []


def test_the_operator_answers_a_recorded_request_from_the_cli(tmp_path: Path) -> None:
    """`requests list/show/answer`: the answer is written owed (sent by the receiver later);
    bad input gets a coded error and changes nothing."""

    config = load_config(None).with_overrides(storage={"data_dir": str(tmp_path)})

    async def record() -> str:
        async with open_store(config) as (journal, _):
            port = PeerRequests(journal)
            envelope = (EnvelopeIn("in", "smev", "text/xml", b"<soap:Envelope>the request</soap:Envelope>"),)
            good = await port.record(PeerRequest("smev", "m-1", True, reply_to="eis/1", envelopes=envelope))
            await port.record(PeerRequest("smev", "m-2", False, code="SMEV_SIGNATURE_INVALID", reason="x"))
            return good.id

    good = asyncio.run(record())
    runner = CliRunner()
    data = ["--data-dir", str(tmp_path)]
    listed = runner.invoke(main, ["requests", "list", "--json", *data])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output.strip().splitlines()[-1])
    assert {r["message_id"]: r["trusted"] for r in rows} == {"m-1": True, "m-2": False}
    untrusted = next(r["id"] for r in rows if not r["trusted"])
    body = runner.invoke(main, ["requests", "show", good, "--body", *data])
    assert body.exit_code == 0 and "the request" in body.output

    bad = tmp_path / "bad.xml"
    bad.write_text('<!DOCTYPE x [<!ENTITY e "1">]><a>&e;</a>')
    refused = runner.invoke(main, ["requests", "answer", good, "--content", str(bad), *data])
    assert refused.exit_code == 1 and "ANSWER_NOT_XML" in refused.output
    no = runner.invoke(main, ["requests", "answer", untrusted, "--reject", "NO_DATA", "--reason", "нет", *data])
    assert no.exit_code == 1 and "REQUEST_UNTRUSTED" in no.output
    ok = runner.invoke(
        main, ["requests", "answer", good, "--reject", "NO_DATA", "--reason", "нет", "--by", "op1", *data]
    )
    assert ok.exit_code == 0, ok.output
    shown = runner.invoke(main, ["requests", "show", good, *data])
    record_ = json.loads(shown.output[shown.output.index("{") :])
    assert record_["answer_state"] == "owed" and record_["answer_kind"] == "rejected"

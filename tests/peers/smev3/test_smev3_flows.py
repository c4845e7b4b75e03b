"""The operations and answer kinds of issue 15 items 1, 4 and 5 through the twin over real HTTP:
the four kinds a GetResponse carries as the adapter hands them to the core (an
AsyncProcessingStatus arriving long after SendRequest was accepted among them), the empty queue,
GetStatus, the provider side (GetRequest → Ack → SendResponse), and SendRequestResponse's
metadata kept in the journal with the attempt."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from smev3_kit import T0

from adapters.smev3 import PLUGIN
from adapters.smev3 import messages as m
from adapters.smev3.adapter import Smev3Adapter
from adapters.smev3.client import Smev3Client
from adapters.smev3.codec import Smev3Codec
from adapters.smev3.identity import new_message_id
from adapters.smev3.sandbox import TWIN_KEY, FaultProfile, Smev3Twin, create_twin
from adapters.smev3.sandbox.profile import Delay, Probabilities
from adapters.smev3.settings import Smev3Settings
from adapters.smev3.signing import Signer, verify_incoming
from gateway.common.clock import SimulatedClock
from gateway.intake.submission import CanonicalSubmission
from gateway.model import State
from gateway.peers.contract import AnswerKind, PeerOutcome, Progress
from gateway.signatures.pki import TestPki
from gateway.signatures.xml.verify import XmlVerifier

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/peers: the contract test kit
from contract.kit import gateway_config, journal_of, queued, running, state_is, until


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


class Sink:
    def __init__(self) -> None:
        self.got: list[PeerOutcome | Progress] = []

    async def __call__(self, outcome: PeerOutcome) -> None:
        self.got.append(outcome)

    async def progress(self, progress: Progress) -> None:
        self.got.append(progress)


@dataclass
class Through:
    adapter: Smev3Adapter
    twin: Smev3Twin
    clock: SimulatedClock
    url: str
    session: aiohttp.ClientSession

    async def send(self) -> str:
        mid = new_message_id()
        answer = await self.adapter.send(_Sub(), canonical(), message_id=mid)  # type: ignore[arg-type]
        assert answer.kind is AnswerKind.ACCEPTED, answer
        return mid

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.twin.run_due()


Make = Callable[..., Awaitable[Through]]


@pytest.fixture
async def through(is_signers: dict[str, Signer], smev_signer: Signer, verifier: XmlVerifier) -> AsyncIterator[Make]:
    servers: list[TestServer] = []
    sessions: list[aiohttp.ClientSession] = []

    async def make(profile: FaultProfile | str = "none", **kw: Any) -> Through:
        clock = SimulatedClock(1.0)
        app: web.Application = create_twin(profile, clock, seed=5, identity=smev_signer, verifier=verifier, **kw)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        session = aiohttp.ClientSession()
        sessions.append(session)
        url = str(server.make_url("/smev3/ws"))
        settings = Smev3Settings(protocol="smev3", url=url)
        adapter = Smev3Adapter(settings, session, name="smev", signer=is_signers["gost2012-256"], verifier=verifier)
        return Through(adapter, app[TWIN_KEY], clock, url, session)

    yield make
    for session in sessions:
        await session.close()
    for server in servers:
        await server.close()


def _profile(**kw: Any) -> FaultProfile:
    return FaultProfile(name="test", provider_delay=Delay(distribution="fixed", seconds=10.0), **kw)


async def test_the_four_kinds_through_the_twin(through: Make) -> None:
    """Progress statuses, then the business answer; a provider's RequestRejected; each handed to
    the core with our MessageID and SMEV's, then Acked: nothing left in the queue."""
    statuses = _profile(
        probabilities=Probabilities(provider_status=1.0),
        status_count=2,
        status_interval=Delay(distribution="fixed", seconds=5.0),
    )
    t = await through(statuses)
    ours = await t.send()
    sink = Sink()
    assert await t.adapter.receive(sink) == 0  # the empty queue answer
    t.advance(10)  # the provider takes it: status 101 at once
    t.advance(5)  # 102
    t.advance(5)  # the answer
    assert await t.adapter.receive(sink) == 3
    kinds = sorted(type(x).__name__ + ":" + (x.status if isinstance(x, Progress) else str(x.success)) for x in sink.got)
    assert kinds == ["PeerOutcome:True", "Progress:101", "Progress:102"]
    answer = next(x for x in sink.got if isinstance(x, PeerOutcome))
    assert answer.peer_registration_id is not None and answer.peer_registration_id.startswith("SBX-")
    assert answer.registered_at is not None
    assert all(x.relates_to == ours and x.peer_message_id for x in sink.got)
    status = next(x for x in sink.got if isinstance(x, Progress) and x.status == "101")
    assert status.details["parameters"]["stage"] == "1"  # type: ignore[index]
    stats = t.twin.stats_json()
    assert stats["acks"] == 3 and stats["unacked"] == 0 and stats["empty_polls"] >= 2

    rejecting = await through(_profile(probabilities=Probabilities(provider_rejection=1.0)))
    ours = await rejecting.send()
    rejecting.advance(10)
    sink = Sink()
    assert await rejecting.adapter.receive(sink) == 1
    (rejected,) = sink.got
    assert isinstance(rejected, PeerOutcome) and not rejected.success and rejected.relates_to == ours
    assert rejected.codes[0][0] == "NO_DATA"


async def test_async_rejection_long_after_acceptance(through: Make) -> None:
    """SMEV accepted the request, then — two hours later — rejects it: the AsyncProcessingStatus
    comes through GetResponse (an outcome: failed with SMEV's code) and through GetStatus."""
    profile = _profile(
        probabilities=Probabilities(async_rejection=1.0),
        async_rejection_delay=Delay(distribution="fixed", seconds=7200.0),
    )
    t = await through(profile)
    ours = await t.send()
    sink = Sink()
    t.advance(3600)
    assert await t.adapter.receive(sink) == 0  # an hour on, nothing yet
    t.advance(3600)
    assert await t.adapter.receive(sink) == 1
    (late,) = sink.got
    assert isinstance(late, PeerOutcome) and not late.success and late.relates_to == ours
    assert late.codes[0][0] == "SMEV-100" and late.codes[0][1]
    assert t.twin.stats_json()["unacked"] == 0

    # GetStatus pops the same status, once
    ex = await t.adapter.client.get_status()
    assert isinstance(ex.message, m.GetStatusResponse) and ex.message.status is not None
    assert ex.message.status.original_message_id == ours
    assert ex.message.status.category == "requestIsRejectedBySmev"
    assert verify_incoming(ex.reply.body, t.adapter.verifier).smev_valid  # type: ignore[union-attr]
    again = await t.adapter.client.get_status()
    assert isinstance(again.message, m.GetStatusResponse) and again.message.status is None


async def test_provider_side_get_request_ack_send_response(
    through: Make, is_signers: dict[str, Signer], verifier: XmlVerifier
) -> None:
    """The gateway as the provider: a request to it waits in its incoming queue, GetRequest takes
    it (ЭП-СМЭВ valid, the consumer's ЭП-ОВ forwarded), Ack drops it, SendResponse answers it."""
    namespace = "urn://x-artefacts-mse/decision-request/1.0"
    probe = await through()
    await probe.send()
    me = next(iter(probe.twin.records.values())).sender
    t = await through(provider_namespaces={namespace: me})
    client: Smev3Client = t.adapter.client
    empty = await client.get_request()
    assert isinstance(empty.message, m.GetRequestResponse) and empty.message.empty
    asked = f'<q:DecisionRequest xmlns:q="{namespace}"><q:N>1</q:N></q:DecisionRequest>'.encode()
    request_id = t.twin.inject_request(asked, me)
    ex = await client.get_request()
    assert isinstance(ex.message, m.GetRequestResponse) and ex.message.request is not None
    request = ex.message.request
    assert request.data.message_id == request_id
    assert verify_incoming(ex.reply.body, verifier).smev_valid  # type: ignore[union-attr]
    ack = await client.ack(request_id, True)
    assert isinstance(ack.message, m.AckResponse)
    response_id = new_message_id()
    content = f'<q:Decision xmlns:q="{namespace}"><q:Result>ok</q:Result></q:Decision>'.encode()
    data = m.SenderProvidedResponseData(response_id, request.reply_to, content=content)
    sent = await client.send_response(m.SendResponseRequest(data))
    assert isinstance(sent.message, m.SendResponseResponse), sent.message
    assert sent.message.metadata.message_id == response_id
    stats = t.twin.stats_json()
    assert stats["responses_accepted"] == 1 and stats["responses_recorded"] == 1 and stats["unacked"] == 0
    stray = m.SenderProvidedResponseData(new_message_id(), "nowhere", content=content)
    wrong = await client.send_response(m.SendResponseRequest(stray))
    assert wrong.fault is not None and wrong.fault.code == "RequestIsNotFound"


# --- SendRequestResponse metadata in the journal ---------------------------------------------


async def test_send_request_response_metadata_is_kept_with_the_attempt(
    tmp_path: Path, sqlite_url: str, smev3_pki: TestPki, smev_signer: Signer
) -> None:
    """The accepted attempt's "in" envelope is the SendRequestResponse: the journal keeps it
    with the submission, and its MessageMetadata (SMEV's MessageId, status, timestamps,
    destination) reads back from there."""
    clock = SimulatedClock(1.0)
    app = create_twin("none", clock, seed=1, identity=smev_signer)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        issued = smev3_pki.issue("mo-org", algorithm="gost2012-256")
        instance = {
            "protocol": "smev3",
            "url": str(server.make_url("/smev3/ws")),
            "signing_key_file": str(issued.key_path),
            "signing_certificate_file": str(issued.cert_path),
            "smev_trust_dir": str(smev3_pki.trust_dir),
        }
        config = gateway_config(tmp_path, {"smev": instance}, "smev", sqlite_url)
        async with running(config, {"smev3": PLUGIN}) as client:
            journal = journal_of(client)
            sub = await queued(journal, "smev")
            await until(lambda: state_is(journal, sub.id, State.SENT, State.REGISTERED))
            metas = await journal.envelopes(sub.id)
            bodies = [await journal.envelope_body(e.id) for e in metas if e.direction == "in"]
            answers = [Smev3Codec().parse(b) for b in bodies]
            accepted = [a for a in answers if isinstance(a, m.SendRequestResponse)]
            assert len(accepted) == 1
            md = accepted[0].metadata
            (record,) = app[TWIN_KEY].records.values()
            assert md.message_id == record.message_id
            assert md.status == "requestIsQueued" and md.sending_timestamp is not None
            assert md.destination_name and md.message_type == "REQUEST"
    finally:
        await server.close()

"""The REMD client against the sandbox twin over real HTTP on loopback: every Answer kind, the
callback reaching the core's sink, NOT_UNIQUE_PROVIDED_ID, reconciliation lookups, getDocumentFile."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from remd_kit import ORG, HarnessFactory, free_port, make_submission

from adapters.remd import Adapter, codec
from adapters.remd.client import RemdClient
from adapters.remd.codes import remd_code_table
from adapters.remd.messages import RegistryMatch, SearchRegistryItemResponse
from adapters.remd.sandbox import Delay, FaultProfile, Probabilities
from adapters.remd.sandbox.twin import RATE_LIMIT_MESSAGE, TIMEOUT_MESSAGE
from adapters.remd.settings import RemdSettings as RemdPeerConfig
from adapters.remd.soap import build_envelope, parse_envelope
from gateway.delivery.classify import RATE_LIMIT_MIN_WAIT, Verdict, classify_answer, classify_transport
from gateway.intake.submission import CanonicalSubmission
from gateway.peers.contract import Answer, AnswerKind, DeliveryAdapter


def _profile(**probabilities: float) -> FaultProfile:
    return FaultProfile(name="test", probabilities=Probabilities(**probabilities))


def _message_id(answer: Answer) -> str:
    out = [e for e in answer.envelopes if e.direction == "out"]
    env = parse_envelope(out[0].body)
    assert env.addressing.message_id
    return env.addressing.message_id


async def test_accepted_then_the_callback_reaches_the_sink(harness: HarnessFactory) -> None:
    h = await harness()
    sub, canonical = make_submission()
    answer = await h.adapter.send(sub, canonical, message_id=str(uuid.uuid4()))
    assert answer.kind is AnswerKind.ACCEPTED, answer
    assert answer.http_status == 200
    assert [e.direction for e in answer.envelopes] == ["out", "in"]
    assert all(e.peer == "remd" for e in answer.envelopes)
    request = parse_envelope(answer.envelopes[0].body)
    assert request.client_entity_id == h.adapter.config.client_entity_id
    assert request.addressing.reply_to == f"{h.gateway_url}/remd/callback"
    assert request.addressing.action == "registerDocument"
    (outcome,) = await h.sink.wait(1)
    assert outcome.success and outcome.peer == "remd"
    assert (outcome.local_uid, outcome.organization_oid) == (sub.local_uid, ORG)
    assert outcome.relates_to == _message_id(answer)
    assert outcome.peer_registration_id and outcome.peer_registration_id.startswith("SBX-")
    assert outcome.registered_at is not None
    assert [e.direction for e in outcome.envelopes] == ["in", "out"]  # the callback and our acknowledgement
    stats = h.twin.stats_json()
    assert (stats["registrations"], stats["callbacks_sent"], stats["duplicates_at_peer"]) == (1, 1, 0)


async def test_a_second_registration_is_not_unique(harness: HarnessFactory) -> None:
    h = await harness()
    sub, canonical = make_submission()
    assert (await h.adapter.send(sub, canonical, message_id=str(uuid.uuid4()))).kind is AnswerKind.ACCEPTED
    await h.sink.wait(1)
    again = await h.adapter.send(sub, canonical, message_id=str(uuid.uuid4()))  # the same localUid: a resend
    assert again.kind is AnswerKind.REFUSED
    assert again.codes[0][0] == "NOT_UNIQUE_PROVIDED_ID"
    assert classify_answer(again.codes, remd_code_table()).verdict is Verdict.ALREADY_THERE
    stats = h.twin.stats_json()
    assert stats["registrations"] == 1 and stats["duplicates_at_peer"] == 0
    assert stats["errors"] == {"NOT_UNIQUE_PROVIDED_ID": 1}


async def test_rate_limit_is_a_refusal_the_core_retries_after_a_minute(harness: HarnessFactory) -> None:
    h = await harness(_profile(rate_limit=1.0))
    sub, canonical = make_submission()
    answer = await h.adapter.send(sub, canonical, message_id=str(uuid.uuid4()))
    assert answer.kind is AnswerKind.REFUSED
    assert answer.codes == (("RATE_LIMIT", RATE_LIMIT_MESSAGE),)
    decision = classify_answer(answer.codes, remd_code_table())
    assert (decision.verdict, decision.min_wait) == (Verdict.RETRY, RATE_LIMIT_MIN_WAIT)
    assert h.twin.stats_json()["registrations"] == 0


async def test_http_5xx_is_no_answer(harness: HarnessFactory) -> None:
    h = await harness(_profile(http_5xx=1.0))
    sub, canonical = make_submission()
    answer = await h.adapter.send(sub, canonical, message_id=str(uuid.uuid4()))
    assert answer.kind is AnswerKind.NO_ANSWER
    assert answer.http_status == 503
    assert answer.error and "not a SOAP 1.2 answer" in answer.error
    assert [e.direction for e in answer.envelopes] == ["out", "in"]  # the HTML page is kept too
    assert classify_transport(http_status=answer.http_status, error=answer.error).verdict is Verdict.RETRY


async def test_a_slow_answer_beyond_the_timeout_is_no_answer(harness: HarnessFactory) -> None:
    slow = FaultProfile(
        name="slow",
        probabilities=Probabilities(slow_answer=1.0),
        slow_answer_delay=Delay(distribution="fixed", seconds=1.5),
    )
    h = await harness(slow, timeout_seconds=0.4)
    sub, canonical = make_submission()
    started = time.monotonic()
    answer = await h.adapter.send(sub, canonical, message_id=str(uuid.uuid4()))
    elapsed = time.monotonic() - started
    assert answer.kind is AnswerKind.NO_ANSWER
    assert answer.http_status is None
    assert answer.error == "no answer within 0.4 s"
    assert 0.35 < elapsed < 1.4  # gave up at the timeout, did not wait for the answer
    assert [e.direction for e in answer.envelopes] == ["out"]


async def test_a_slow_answer_within_the_timeout_is_accepted(harness: HarnessFactory) -> None:
    slow = FaultProfile(
        name="slow",
        probabilities=Probabilities(slow_answer=1.0),
        slow_answer_delay=Delay(distribution="fixed", seconds=0.3),
    )
    h = await harness(slow, timeout_seconds=3.0)
    sub, canonical = make_submission()
    assert (await h.adapter.send(sub, canonical, message_id=str(uuid.uuid4()))).kind is AnswerKind.ACCEPTED
    assert h.twin.stats_json()["slow_answers"] == 1


async def test_connection_refused_is_retried_once_then_no_answer() -> None:
    sub, canonical = make_submission()
    async with aiohttp.ClientSession() as session:
        client = RemdClient(
            session,
            endpoint=f"http://127.0.0.1:{free_port()}/remd/service",
            client_entity_id="e-1",
            timeout_seconds=2.0,
            reply_to=None,
        )
        answer = await client.register(sub, canonical)
    assert answer.kind is AnswerKind.NO_ANSWER
    assert answer.http_status is None
    assert answer.error and "Connect" in answer.error
    assert [e.direction for e in answer.envelopes] == ["out", "out"]  # tenacity tried twice


async def test_lookup_found_and_not_found(harness: HarnessFactory) -> None:
    lost = FaultProfile(name="lost", probabilities=Probabilities(lost_callback=1.0))
    h = await harness(lost)
    sub, canonical = make_submission()
    answer = await h.adapter.send(sub, canonical, message_id=str(uuid.uuid4()))
    assert answer.kind is AnswerKind.ACCEPTED
    await _until(lambda: h.twin.stats_json()["registrations"] == 1)
    result = await h.adapter.lookup(sub, canonical)
    assert result.found is True
    registration = h.twin.registrations[(ORG, sub.local_uid.lower())]
    assert (result.peer_registration_id, result.registered_at) == (registration.emdr_id, registration.registered_at)
    assert [e.direction for e in result.envelopes] == ["out", "in"]
    other_sub, other_canonical = make_submission()
    assert (await h.adapter.lookup(other_sub, other_canonical)).found is False
    assert h.sink.outcomes == [] and h.twin.stats_json()["callbacks_lost"] == 1


async def test_lookup_without_an_answer_is_unknown() -> None:
    sub, canonical = make_submission()
    async with aiohttp.ClientSession() as session:
        client = RemdClient(
            session,
            endpoint=f"http://127.0.0.1:{free_port()}/x",
            client_entity_id="e",
            timeout_seconds=1,
            reply_to=None,
        )
        result = await client.search(sub, canonical)
    assert result.found is None and result.error


async def test_registration_timeout_error_callback_then_resend_registers(harness: HarnessFactory) -> None:
    h = await harness(_profile(registration_timeout=1.0))
    sub, canonical = make_submission()
    assert (await h.adapter.send(sub, canonical, message_id=str(uuid.uuid4()))).kind is AnswerKind.ACCEPTED
    (outcome,) = await h.sink.wait(1)
    assert not outcome.success
    assert outcome.codes == (("ASYNC_RESPONSE_TIMEOUT", TIMEOUT_MESSAGE),)
    assert classify_answer(outcome.codes, remd_code_table()).cause == "registration-timeout"
    assert h.twin.stats_json()["registrations"] == 0
    h.twin.profile = FaultProfile()  # REMD recovers; the core resends with the same localUid
    assert (await h.adapter.send(sub, canonical, message_id=str(uuid.uuid4()))).kind is AnswerKind.ACCEPTED
    outcomes = await h.sink.wait(2)
    assert outcomes[1].success and outcomes[1].local_uid == sub.local_uid
    assert h.twin.stats_json()["duplicates_at_peer"] == 0


async def test_late_callback_arrives_days_later_on_the_simulated_clock(harness: HarnessFactory) -> None:
    late = FaultProfile(
        name="late",
        probabilities=Probabilities(late_callback=1.0),
        late_callback_delay=Delay(distribution="fixed", seconds=2 * 86400.0),
    )
    h = await harness(late, speed=400_000.0)  # two simulated days ≈ 0.43 s
    sub, canonical = make_submission()
    sent_at = h.clock.now()
    assert (await h.adapter.send(sub, canonical, message_id=str(uuid.uuid4()))).kind is AnswerKind.ACCEPTED
    (outcome,) = await h.sink.wait(1, timeout=10)
    assert outcome.success
    assert h.clock.now() - sent_at >= timedelta(days=2)
    assert h.twin.stats_json()["callbacks_late"] == 1


async def test_the_twin_pulls_the_document_with_get_document_file(harness: HarnessFactory) -> None:
    served: list[tuple[str, str]] = []
    store: dict[str, bytes] = {}

    async def source(local_uid: str, organization: str) -> bytes | None:
        served.append((local_uid, organization))
        return store.get(local_uid)

    h = await harness(document_source=source, inline_document=False)
    sub, canonical = make_submission()
    store[sub.local_uid] = canonical.document
    answer = await h.adapter.send(sub, canonical, message_id=str(uuid.uuid4()))
    assert answer.kind is AnswerKind.ACCEPTED
    body = parse_envelope(answer.envelopes[0].body).body
    assert body is not None and codec.parse_register_document_request(body).document.data is None
    (outcome,) = await h.sink.wait(1)
    assert outcome.success
    assert served == [(sub.local_uid, ORG)]
    assert h.twin.stats_json()["document_pulls"] == 1
    missing_sub, missing_canonical = make_submission()  # not in the store: FILE_WAS_NOT_SENT
    assert (
        await h.adapter.send(missing_sub, missing_canonical, message_id=str(uuid.uuid4()))
    ).kind is AnswerKind.ACCEPTED
    outcomes = await h.sink.wait(2)
    assert not outcomes[1].success and outcomes[1].codes[0][0] == "FILE_WAS_NOT_SENT"


async def test_the_injected_verifier_decides(harness: HarnessFactory) -> None:
    seen: list[CanonicalSubmission] = []

    async def verifier(canonical: CanonicalSubmission) -> Sequence[tuple[str, str]]:
        seen.append(canonical)
        return [("SIGNATURE_VERIFICATION_ERROR", "Подпись не верна")]

    h = await harness(verifier=verifier)
    sub, canonical = make_submission()
    assert (await h.adapter.send(sub, canonical, message_id=str(uuid.uuid4()))).kind is AnswerKind.ACCEPTED
    (outcome,) = await h.sink.wait(1)
    assert outcome.codes == (("SIGNATURE_VERIFICATION_ERROR", "Подпись не верна"),)
    assert classify_answer(outcome.codes, remd_code_table()).verdict is Verdict.FAIL
    assert seen[0].document == canonical.document
    assert {s.cms for s in seen[0].signatures} == {s.cms for s in canonical.signatures}
    assert h.twin.stats_json()["registrations"] == 0


async def test_duplicates_at_peer_counts_a_resend_under_a_new_local_uid(harness: HarnessFactory) -> None:
    """The figure that must stay 0 with a correct gateway can fail: resending the same document
    under a fresh localUid (what a gateway that forgot the localUid would do) is counted."""
    h = await harness()
    sub, canonical = make_submission()
    assert (await h.adapter.send(sub, canonical, message_id=str(uuid.uuid4()))).kind is AnswerKind.ACCEPTED
    await h.sink.wait(1)
    careless = replace(sub, local_uid="a-brand-new-uid")
    assert (await h.adapter.send(careless, canonical, message_id=str(uuid.uuid4()))).kind is AnswerKind.ACCEPTED
    await h.sink.wait(2)
    assert h.twin.stats_json()["duplicates_at_peer"] == 1


async def test_sandbox_endpoints(harness: HarnessFactory) -> None:
    h = await harness()
    sub, canonical = make_submission()
    await h.adapter.send(sub, canonical, message_id=str(uuid.uuid4()))
    await h.sink.wait(1)
    async with h.session.get(f"{h.twin_url}/_sandbox/stats") as resp:
        stats = await resp.json()
    assert stats["registrations"] == 1 and stats["requests"] == 1 and stats["profile"] == "none"
    async with h.session.get(f"{h.twin_url}/_sandbox/registrations/{sub.local_uid.upper()}") as resp:
        assert resp.status == 200
        data = await resp.json()
    assert data["register_requests"] == 1
    (registration,) = data["registrations"]
    assert registration["local_uid"] == sub.local_uid and registration["organization"] == ORG
    async with h.session.get(f"{h.twin_url}/_sandbox/registrations/nobody") as resp:
        assert resp.status == 404


async def test_the_twin_holds_the_client_to_the_xsd(harness: HarnessFactory) -> None:
    h = await harness()
    bad = (
        b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:e="http://egisz.rosminzdrav.ru">'
        b"<s:Header><e:transportHeader><e:authInfo><e:clientEntityId>x</e:clientEntityId></e:authInfo>"
        b"</e:transportHeader></s:Header><s:Body>"
        b'<r:registerDocumentRequest xmlns:r="http://egisz.rosminzdrav.ru/iehr/emdr/service/"><r:localUid>u</r:localUid>'
        b"</r:registerDocumentRequest></s:Body></s:Envelope>"
    )
    async with h.session.post(f"{h.twin_url}/remd/service", data=bad) as resp:
        assert resp.status == 400
        env = parse_envelope(await resp.read())
    assert env.fault is not None and env.fault.errors[0][0] == "VALIDATION_ERROR"


async def _until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.01)


async def test_the_adapter_satisfies_the_delivery_contract() -> None:
    async with aiohttp.ClientSession() as session:
        adapter: DeliveryAdapter = Adapter(
            RemdPeerConfig(url="https://remd.example/emdr", public_url="https://gw.example/"), session
        )
        assert adapter.name == "remd"
        assert isinstance(adapter, Adapter)
        assert adapter.endpoint == "https://remd.example/emdr"  # a path: used as given
        assert adapter.callback_url == "https://gw.example/remd/callback"
        bare = Adapter(RemdPeerConfig(), session, base_url="http://127.0.0.1:8091", public_url="")
        assert bare.endpoint == "http://127.0.0.1:8091/remd/service"  # a bare origin: the twin's path
        assert bare.callback_url is None
        with pytest.raises(ValueError, match="not configured"):
            Adapter(RemdPeerConfig(), session)


async def test_a_large_search_answer_is_decoded_off_the_loop() -> None:
    """An organisation-wide answer (1,000 matches, ~250 KB) still finds the one localUid."""
    sub, canonical = make_submission()
    now = datetime.now(UTC)
    matches = [RegistryMatch(f"other-{i}", f"E-{i}", now, organization=ORG) for i in range(999)]
    matches.insert(500, RegistryMatch(sub.local_uid, "E-mine", now, organization=ORG))
    body = build_envelope(codec.build_search_response(SearchRegistryItemResponse(True, tuple(matches))))
    assert len(body) > 64 * 1024

    async def answer(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/soap+xml")

    app = web.Application()
    app.router.add_post("/remd/service", answer)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            endpoint = str(server.make_url("/remd/service"))
            client = RemdClient(session, endpoint=endpoint, client_entity_id="e", timeout_seconds=5, reply_to=None)
            result = await client.search(sub, canonical)
    finally:
        await server.close()
    assert (result.found, result.peer_registration_id) == (True, "E-mine")

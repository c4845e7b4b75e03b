"""A SendRequest to ФГИС ЕАВИИАС whose answer is lost is sent again under the same MessageID
(issue 16): SMEV recognises it (``MessageIsAlreadySent``), the gateway reads that as accepted, and
the referral runs to its outcome once — the bureau got it once. Also after a restart that cut the
send short, and the one case where resending is not safe: ``StaleMessageId`` on an id a send may
have reached (a new UUID v1 would be a second referral), where the gateway waits for the answer
to the old id instead.

Real HTTP on loopback throughout: the gateway → a lossy proxy → the SMEV 3 twin with the simulated
bureau. The proxy forwards every call; the answer to the first SendRequest is lost *after* the
twin took the request — held until the gateway's client gives up (a timeout) or until released as
a 504 from the proxy, as a balancer on the way would answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from loopback_ports import free_port
from test_eaviias_loop import FINAL, PROFILE, _inbox, _submit, serve

from gateway.app import create_app
from gateway.appkeys import JOURNAL_KEY
from gateway.common.clock import SimulatedClock
from gateway.config import GatewayConfig, load_config
from gateway.journal.peer_messages import PeerMessages
from gateway.model import State
from gateway.sandbox.setup import prepare_sandbox
from gateway.sandbox.twins import plan_twins

ROUTES = """
[[routes]]
name = "referrals-to-eaviias"
kinds = ["121"]
destination = "eaviias"
"""
# SMEV's own limit for a MessageID's age (two days), not the year of the other tests' profile
TWO_DAYS = 172_800.0


class LossyProxy:
    """Forwards every SMEV 3 call to the twin. The answers to the first ``lose`` SendRequests
    are lost after the twin took them: held until :attr:`release` is set (then a 504, as a
    balancer that gave up waiting), or for ever (the gateway's client times out)."""

    def __init__(self, target: str, *, lose: int = 1) -> None:
        self.target = target
        self.lose = lose
        self.lost: list[bytes] = []
        self.forwarded = asyncio.Event()  # a lost SendRequest reached the twin
        self.release = asyncio.Event()
        self.session: aiohttp.ClientSession | None = None
        self.app = web.Application()
        self.app.router.add_post("/{tail:.*}", self.handle)
        self.app.router.add_post("/", self.handle)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        assert self.session is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("content-type", "soapaction")}
        async with self.session.post(self.target + request.path_qs, data=body, headers=headers) as resp:
            answer, status = await resp.read(), resp.status
            content_type = resp.headers.get("Content-Type", "text/xml")
        if request.headers.get("SOAPAction", "").strip('"') == "urn:SendRequest" and len(self.lost) < self.lose:
            self.lost.append(body)
            self.forwarded.set()
            await self.release.wait()
            return web.Response(status=504, text="upstream timed out")
        return web.Response(status=status, body=answer, headers={"Content-Type": content_type})


@asynccontextmanager
async def smev_behind_a_proxy(
    tmp_path: Path, *, speed: float, stale_after: float | None = None, timeout: float = 30.0
) -> AsyncIterator[dict[str, Any]]:
    """The ЕАВИИАС twin and the lossy proxy in front of it; ``start()`` runs a gateway (one at a
    time, on the same data dir), ``stop()`` stops it as a shutdown does: an in-flight send is
    cancelled after the grace, with nothing recorded about it."""
    clock = SimulatedClock(speed)
    routes = tmp_path / "routes.toml"
    routes.write_text(ROUTES)
    gw_port = free_port()
    text = PROFILE.replace("{region}", "77").replace("{extra}", "")  # the sample MOs are in region 77
    if stale_after is not None:
        text = text.replace("stale_after_seconds = 31536000.0", f"stale_after_seconds = {stale_after}")
    profile = tmp_path / "bureau.toml"
    profile.write_text(text)
    config = load_config(environ={}).with_overrides(
        server={"port": gw_port, "public_url": f"http://127.0.0.1:{gw_port}", "shutdown_grace_seconds": 0.2},
        storage={"data_dir": str(tmp_path)},
        workers={"idle_sleep_seconds": 0.05},
        journal={"lease_seconds": 6 * 3600.0},
        peers={"eaviias": {"protocol": "smev3", "content_profile": "eaviias", "timeout_seconds": timeout}},
        routing={"routes_file": str(routes)},
        sandbox={"fault_profiles": {"eaviias": str(profile)}},
    )
    config, twins = plan_twins(config, clock, seed=11)
    twin = next(t for t in twins if t.name == "eaviias")
    proxy = LossyProxy(twin.url)
    proxy_port = free_port()
    config = config.with_overrides(peers={"eaviias": {"url": f"http://127.0.0.1:{proxy_port}"}})
    config, client, signers = await prepare_sandbox(config)
    async with AsyncExitStack() as stack:
        proxy.session = await stack.enter_async_context(aiohttp.ClientSession())
        for t in twins:
            await stack.enter_async_context(serve(t.app, t.port))
        await stack.enter_async_context(serve(proxy.app, proxy_port))
        env: dict[str, Any] = {
            "twin": twin,
            "proxy": proxy,
            "base": f"http://127.0.0.1:{gw_port}",
            "token": client.token,
            "signers": signers,
            "clock": clock,
        }
        gateway = env["gateway"] = _Gateway(config, clock, gw_port, env)
        try:
            yield env
        finally:
            proxy.release.set()
            await gateway.stop()


class _Gateway:
    def __init__(self, config: GatewayConfig, clock: SimulatedClock, port: int, env: dict[str, Any]) -> None:
        self.config, self.clock, self.port, self.env = config, clock, port, env
        self.runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = create_app(self.config, clock=self.clock)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        self.env["journal"] = app[JOURNAL_KEY]

    async def stop(self) -> None:
        if self.runner is not None:
            runner, self.runner = self.runner, None
            await runner.cleanup()


async def _settled(journal: Any, sid: str, *, days_pass: SimulatedClock | None = None) -> Any:
    """The submission once final; ``days_pass``: move that clock on by six hours each round (a
    slow clock, so that SMEV's two days mean something, and a bureau that takes a day)."""
    deadline = asyncio.get_running_loop().time() + 120.0
    while True:
        sub = await journal.get(sid)
        if sub.state in FINAL:
            return sub
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not final: {sub.state} {sub.outcome_code} {sub.outcome_message}")
        if days_pass is not None:
            days_pass.advance(6 * 3600.0)
        await asyncio.sleep(0.2)


async def _twin(http: aiohttp.ClientSession, twin: Any, path: str) -> dict[str, Any]:
    async with http.get(f"{twin.url}/_sandbox/{path}") as resp:
        assert resp.status == 200, await resp.text()
        found: dict[str, Any] = await resp.json()
        return found


async def _all_acked(http: aiohttp.ClientSession, twin: Any) -> dict[str, Any]:
    for _ in range(100):
        stats = await _twin(http, twin, "stats")
        if stats["unacked"] == 0 and stats["scheduled"] == 0:
            return stats
        await asyncio.sleep(0.1)
    raise AssertionError(f"the twin still holds messages: {stats}")


async def _the_referral_ran_once(env: dict[str, Any], http: aiohttp.ClientSession, sid: str) -> str:
    """The referral's outcome reached the MIS once, the bureau got it once, SMEV refused the
    resend as MessageIsAlreadySent; returns the one MessageID it went under."""
    journal = env["journal"]
    done = await _settled(journal, sid)
    assert done.state is State.REGISTERED, (done.state, done.outcome_code, done.outcome_message)
    ids = await PeerMessages(journal).ids(sid)
    assert len(ids) == 1 and not ids[0][2], ids  # one MessageID, never renewed
    message_id = ids[0][1]
    record = await _twin(http, env["twin"], f"messages/{message_id}")
    assert record["send_attempts"] == 2, record  # the first (answer lost) and the resend
    stats = await _all_acked(http, env["twin"])
    assert stats["faults"].get("MessageIsAlreadySent") == 1 and stats["duplicates_refused"] == 1, stats
    assert stats["accepted"] == 1 and stats["bureau"]["received"] == 1, stats
    items = [i for i in await _inbox(env, http) if i["referral"] and i["referral"]["submission_id"] == sid]
    assert len(items) == 1 and items[0]["kind"] == "187", items
    (accepted,) = [e for e in await journal.events(sid) if e.to_state is State.SENT]
    assert "MessageIsAlreadySent" in await _answer_to(journal, sid, accepted.id)
    return message_id


async def _answer_to(journal: Any, sid: str, event_id: int) -> str:
    """SMEV's answer recorded with an attempt (its "in" envelope)."""
    (answer,) = [e for e in await journal.envelopes(sid) if e.event_id == event_id and e.direction == "in"]
    return (await journal.envelope_body(answer.id)).decode("utf-8")


@pytest.mark.parametrize("loss", ["timeout", "504"])
async def test_a_send_request_whose_answer_is_lost_is_resent_under_the_same_message_id(
    tmp_path: Path, loss: str
) -> None:
    # a timeout: the gateway's client gives up after 1 s; a 504: the proxy answers it at once
    timeout = 1.0 if loss == "timeout" else 30.0
    async with (
        smev_behind_a_proxy(tmp_path, speed=20_000.0, timeout=timeout) as env,
        aiohttp.ClientSession() as http,
    ):
        await env["gateway"].start()
        sid = await _submit(env, http, 41_101)
        await asyncio.wait_for(env["proxy"].forwarded.wait(), 60)
        if loss == "504":
            env["proxy"].release.set()
        await _the_referral_ran_once(env, http, sid)
        lost = [e for e in await env["journal"].events(sid) if e.to_state is State.RETRY_WAIT]
        assert [e.code for e in lost] == ["NETWORK_ERROR" if loss == "timeout" else "HTTP_504"]


async def test_a_send_cut_short_by_a_restart_is_resent_under_the_same_message_id(tmp_path: Path) -> None:
    async with smev_behind_a_proxy(tmp_path, speed=20_000.0) as env, aiohttp.ClientSession() as http:
        gateway = env["gateway"]
        await gateway.start()
        sid = await _submit(env, http, 41_102)
        await asyncio.wait_for(env["proxy"].forwarded.wait(), 60)
        # the twin has the referral; the gateway stops before SMEV's answer reaches it
        await gateway.stop()
        await gateway.start()
        journal = env["journal"]
        message_id = await _the_referral_ran_once(env, http, sid)
        assert env["proxy"].lost and message_id.encode() in env["proxy"].lost[0]
        # nothing was recorded about the send the restart cut short: one attempt, the resend
        done = await journal.get(sid)
        assert done.attempts == 1, done.attempts


async def test_stale_message_id_on_a_send_that_may_have_arrived_waits_for_the_answer(tmp_path: Path) -> None:
    # SMEV's two days, at a speed that leaves the first send well inside them
    async with (
        smev_behind_a_proxy(tmp_path, speed=500.0, stale_after=TWO_DAYS) as env,
        aiohttp.ClientSession() as http,
    ):
        await env["gateway"].start()
        sid = await _submit(env, http, 41_103)
        await asyncio.wait_for(env["proxy"].forwarded.wait(), 60)
        # SMEV took it, its answer is lost, and the resend comes three days later: StaleMessageId
        env["clock"].advance(3 * 86_400.0)
        env["proxy"].release.set()
        journal = env["journal"]
        done = await _settled(journal, sid, days_pass=env["clock"])

        # never sent under a new MessageID: the bureau's answers to the old one ended the referral
        assert done.state is State.REGISTERED, (done.state, done.outcome_code, done.outcome_message)
        ids = await PeerMessages(journal).ids(sid)
        assert len(ids) == 1 and ids[0][2], ids  # the one id, retired (any later send: a new one)
        record = await _twin(http, env["twin"], f"messages/{ids[0][1]}")
        assert record["send_attempts"] == 1, record  # the stale resend was refused before the count
        stats = await _all_acked(http, env["twin"])
        assert stats["faults"] == {"StaleMessageId": 1}, stats["faults"]
        assert stats["accepted"] == 1 and stats["bureau"]["received"] == 1, stats
        parked = [e for e in await journal.events(sid) if e.code == "STALE_ID_MAY_HAVE_ARRIVED"]
        assert len(parked) == 1 and parked[0].to_state is State.SENT
        assert "StaleMessageId" in await _answer_to(journal, sid, parked[0].id)
        items = [i for i in await _inbox(env, http) if i["referral"] and i["referral"]["submission_id"] == sid]
        assert len(items) == 1, items

"""The whole gateway with the REMD twin over real HTTP on loopback: REST intake → validation →
delivery → REMD callback or reconciliation → notice; and the REMD-compatible SOAP front door."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from loopback_ports import free_port

from adapters.remd.sandbox import FaultProfile, create_twin
from gateway.app import create_app
from gateway.appkeys import JOURNAL_KEY
from gateway.common.clock import SimulatedClock
from gateway.config import load_config
from gateway.flk.samples import make_submission
from gateway.intake.submission import parse_submission
from gateway.journal.store import SearchQuery
from gateway.model import State, Submission
from gateway.sandbox.setup import SANDBOX_CLIENT, prepare_sandbox
from gateway.sandbox.simulate import serve_app as serve


@asynccontextmanager
async def stack(tmp_path: Path, profile: str, speed: float = 600.0) -> AsyncIterator[dict[str, Any]]:
    gw_port, twin_port = free_port(), free_port()
    clock = SimulatedClock(speed)
    config = load_config(environ={}).with_overrides(
        server={"port": gw_port},
        storage={"data_dir": str(tmp_path)},
        workers={"idle_sleep_seconds": 0.05},
        peers={"remd": {"url": f"http://127.0.0.1:{twin_port}", "public_url": f"http://127.0.0.1:{gw_port}"}},
    )
    config, client, signers = await prepare_sandbox(config)
    gateway = create_app(config, clock=clock)
    twin = create_twin(FaultProfile.load(profile), clock, seed=7)
    async with serve(twin, twin_port), serve(gateway, gw_port):
        yield {
            "base": f"http://127.0.0.1:{gw_port}",
            "twin": f"http://127.0.0.1:{twin_port}",
            "token": client.token,
            "journal": gateway[JOURNAL_KEY],
            "clock": clock,
            "signers": signers,
        }


def signed(env: dict[str, Any], i: int, kind: str = "35") -> dict[str, Any]:
    """A real document of the sandbox samples, signed with the sandbox test PKI the gateway trusts."""
    return make_submission(kind, 10_000 + i, env["signers"], source_system=SANDBOX_CLIENT)


async def _wait_all_final(journal: Any, n: int, timeout: float = 60) -> dict[State, int]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        counts: dict[State, int] = await journal.counts_by_state()
        if counts[State.REGISTERED] + counts[State.FAILED] + counts[State.REJECTED] >= n:
            return counts
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not settled: {counts}")
        await asyncio.sleep(0.1)


async def _post_all(env: dict[str, Any], docs: list[dict[str, Any]]) -> None:
    headers = {"Authorization": f"Bearer {env['token']}"}
    async with aiohttp.ClientSession() as http:
        for body in docs:
            async with http.post(f"{env['base']}/api/v1/submissions", json=body, headers=headers) as resp:
                assert resp.status == 202, await resp.text()


async def test_registered_through_callbacks(tmp_path: Path) -> None:
    async with stack(tmp_path, "none") as env:
        await _post_all(env, [signed(env, i, kind) for i, kind in enumerate(["35", "121"] * 10)])
        counts = await _wait_all_final(env["journal"], 20)
        assert counts[State.REGISTERED] == 20, counts
        async with aiohttp.ClientSession() as http, http.get(f"{env['twin']}/_sandbox/stats") as resp:
            stats = await resp.json()
        assert stats["registrations"] == 20 and stats["duplicates_at_peer"] == 0


@pytest.mark.slow
async def test_egisz_2023_profile_every_outcome_known(tmp_path: Path) -> None:
    """Half the callbacks are lost and some registrations time out: every submission still ends
    registered, none twice."""
    async with stack(tmp_path, "egisz-2023", speed=2000) as env:
        await _post_all(env, [signed(env, i) for i in range(120)])
        counts = await _wait_all_final(env["journal"], 120, timeout=120)
        assert counts[State.REGISTERED] == 120
        async with aiohttp.ClientSession() as http, http.get(f"{env['twin']}/_sandbox/stats") as resp:
            stats = await resp.json()
        assert stats["duplicates_at_peer"] == 0 and stats["callbacks_lost"] > 20
        # Reconciliation did the work the lost callbacks did not.
        items, _ = await env["journal"].search(SearchQuery(limit=500))
        assert sum(1 for s in items if s.outcome_source == "reconciled") >= stats["callbacks_lost"] * 0.8


async def test_mis_speaking_remd_soap_gets_remd_callback_through_the_gateway(tmp_path: Path) -> None:
    """An MIS points its REMD endpoint at the gateway: registerDocumentRequest in, the gateway
    delivers to (the twin of) REMD, and the MIS receives registerDocumentResult at its ReplyTo with
    relatesToMessage = its own MessageID — as REMD would send it."""
    from adapters.remd import codec
    from adapters.remd.mapping import to_register_request
    from adapters.remd.soap import Addressing, build_envelope, parse_envelope

    received: list[bytes] = []
    mis = web.Application()

    async def callback(request: web.Request) -> web.Response:
        received.append(await request.read())
        return web.Response(status=200)

    mis.router.add_post("/remd-callback", callback)
    mis_port = free_port()
    async with serve(mis, mis_port), stack(tmp_path, "none") as env:
        data = signed(env, 1)
        canonical = parse_submission(data)
        record = Submission(
            id="-", source_system=SANDBOX_CLIENT, local_uid=canonical.local_uid, kind=canonical.kind,
            organization_oid=canonical.organization_oid, patient_key=None, region=None, destination=None,
            state=State.RECEIVED, attempts=0, next_attempt_at=None, answer_deadline=None, outcome_code=None,
            outcome_message=None, peer_registration_id=None, content_hash="", callback_url=None,
            created_at=canonical.creation_datetime, updated_at=canonical.creation_datetime,
        )  # fmt: skip
        req = to_register_request(record, canonical)
        body = build_envelope(
            codec.build_register_document_request(req),
            addressing=Addressing(
                message_id="mis-msg-7",
                action="registerDocument",
                reply_to=f"http://127.0.0.1:{mis_port}/remd-callback",
            ),
            client_entity_id="sandbox-mis-entity",
        )
        headers = {"Content-Type": "application/soap+xml; charset=utf-8", "X-MSE-Token": env["token"]}
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{env['base']}/remd/service", data=body, headers=headers) as resp,
        ):
            answer = await resp.read()
            assert resp.status == 200, answer
        status = codec.parse_register_document_response(parse_envelope(answer).body)
        assert status.success, status.errors
        await _wait_all_final(env["journal"], 1)
        for _ in range(100):
            if received:
                break
            await asyncio.sleep(0.05)
    (raw,) = received
    result = codec.parse_register_document_result(parse_envelope(raw).body)
    assert result.success and result.local_uid == req.local_uid
    assert result.relates_to_message == "mis-msg-7"

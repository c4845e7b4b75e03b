"""The Kazakh route in the sandbox, over real HTTP with the sandbox's own wiring: ``sandbox_defaults``
adds the ``shep`` peer and routes kz-031u to it, ``plan_twins`` starts the ШЭП/ЦБДИ twin with the
instance's generated identity and credentials. A valid 031/у submitted through the API ends
REGISTERED with ЦБДИ's act number; one missing its nosology's mandatory examination is rejected
before sending, the examination named."""

from __future__ import annotations

import asyncio
import dataclasses
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from loopback_ports import free_port

from gateway.app import create_app
from gateway.appkeys import JOURNAL_KEY
from gateway.common.clock import SimulatedClock
from gateway.config import load_config
from gateway.flk.samples import prepare_document, sign_document, signing_time_for
from gateway.model import State
from gateway.sandbox.setup import SANDBOX_CLIENT, prepare_sandbox, sandbox_defaults
from gateway.sandbox.simulate import serve_app as _serve
from gateway.sandbox.twins import plan_twins


async def _final(journal: Any, sid: str, timeout: float = 90) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        sub = await journal.get(sid)
        if sub.state in (State.REGISTERED, State.FAILED, State.REJECTED, State.DEAD):
            return sub
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not final: {sub.state} {sub.outcome_code} {sub.outcome_message}")
        await asyncio.sleep(0.1)


async def test_031u_through_the_sandbox_to_cbdi(tmp_path: Path) -> None:
    gw_port = free_port()
    clock = SimulatedClock(600.0)
    config = sandbox_defaults(
        load_config(environ={}).with_overrides(
            server={"port": gw_port, "public_url": f"http://127.0.0.1:{gw_port}"},
            storage={"data_dir": str(tmp_path)},
            workers={"idle_sleep_seconds": 0.05},
        )
    )
    config, twins = plan_twins(config, clock, seed=11)
    shep = config.peers["shep"]
    assert shep["url"].startswith("http://127.0.0.1:") and shep["sender_id"] and shep["signing_key_file"]
    config, client, signers = await prepare_sandbox(config)
    gateway = create_app(config, clock=clock)
    async with AsyncExitStack() as stack:
        for t in twins:
            await stack.enter_async_context(_serve(t.app, t.port))
        await stack.enter_async_context(_serve(gateway, gw_port))
        http = await stack.enter_async_context(aiohttp.ClientSession())
        headers = {"Authorization": f"Bearer {client.token}"}
        now = datetime.now(UTC)
        good = prepare_document("kz-031u", 40_001, signers, now=now)
        # the same form without its last mandatory examination, signed as it is
        bad = prepare_document("kz-031u", 40_002, signers, now=now)
        dropped = bad.examinations[-1]
        bad = dataclasses.replace(bad, examinations=bad.examinations[:-1])
        ids = []
        for seed, doc in ((40_001, good), (40_002, bad)):
            body = sign_document(
                doc, signers, signing_time=signing_time_for(doc, now, seed), source_system=SANDBOX_CLIENT
            )
            async with http.post(f"http://127.0.0.1:{gw_port}/api/v1/submissions", json=body, headers=headers) as resp:
                assert resp.status == 202, await resp.text()
                ids.append((await resp.json())["id"])
        journal = gateway[JOURNAL_KEY]
        concluded = await _final(journal, ids[0])
        assert (concluded.state, concluded.destination) == (State.REGISTERED, "shep"), concluded
        assert (concluded.peer_registration_id or "").startswith("MSE-")
        refused = await _final(journal, ids[1])
        assert refused.state is State.REJECTED and refused.destination is None, refused
        assert dropped.name.split()[0].lower() in (refused.outcome_message or "").lower(), refused.outcome_message
        twin = next(t for t in twins if t.name == "shep")
        async with http.get(f"{twin.url}/_sandbox/stats") as resp:
            stats = await resp.json()
        assert stats["registered"] == 1 and stats["duplicates_at_cbdi"] == 0, stats

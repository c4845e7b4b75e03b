"""ФГИС ЕАВИИАС as instance ``eaviias`` of protocol ``smev3``, end to end: the gateway sends signed
referrals by SendRequest to the SMEV 3 twin, the simulated bureau behind it registers them, runs
its preliminary FLK, returns one with its reasons and schedules the other, examines and sends the
result; the gateway polls the notices (GetResponse/Ack over real HTTP on loopback), applies them as
the one mapping says and records the KSI milestones. Days pass on the simulated clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import sqlalchemy as sa
from aiohttp import web

from gateway.app import create_app
from gateway.appkeys import JOURNAL_KEY
from gateway.common.clock import SimulatedClock
from gateway.config import load_config
from gateway.flk.samples import make_submission
from gateway.journal.schema import ksi_marks
from gateway.model import State
from gateway.sandbox.setup import SANDBOX_CLIENT, prepare_sandbox
from gateway.sandbox.twins import free_port, plan_twins

ROUTES = """
[[routes]]
name = "referrals-to-eaviias"
kinds = ["121"]
destination = "eaviias"
"""

PROFILE = """
name = "smev3-eaviias-test"
redelivery_seconds = 21600.0
stale_after_seconds = 31536000.0
future_tolerance_seconds = 31536000.0
[provider_delay]
distribution = "fixed"
seconds = 600.0
[bureau]
code = "test-bureau"
regions = ["{region}"]
examination_min_days = 1
examination_max_days = 1
[bureau.probabilities]
absentee = 0.0
programme = 0.0
appeal = 0.0
"""

FINAL = (State.REGISTERED, State.FAILED, State.REJECTED, State.DEAD)


@asynccontextmanager
async def serve(app: web.Application, port: int) -> AsyncIterator[None]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield
    finally:
        await runner.cleanup()


@asynccontextmanager
async def eaviias_stack(tmp_path: Path, profile: Path, speed: float) -> AsyncIterator[dict[str, Any]]:
    gw_port = free_port()
    clock = SimulatedClock(speed)
    routes = tmp_path / "routes.toml"
    routes.write_text(ROUTES)
    config = load_config(environ={}).with_overrides(
        server={"port": gw_port, "public_url": f"http://127.0.0.1:{gw_port}"},
        storage={"data_dir": str(tmp_path)},
        workers={"idle_sleep_seconds": 0.05},
        journal={"lease_seconds": 6 * 3600.0},
        peers={
            "eaviias": {
                "protocol": "smev3",
                "content_profile": "eaviias",
                "reconcile_schedule_minutes": [4320.0],
            }
        },
        routing={"routes_file": str(routes)},
        sandbox={"fault_profiles": {"eaviias": str(profile)}},
    )
    config, twins = plan_twins(config, clock, seed=11)
    config, client, signers = await prepare_sandbox(config)
    gateway = create_app(config, clock=clock)
    async with AsyncExitStack() as stack:
        for t in twins:
            await stack.enter_async_context(serve(t.app, t.port))
        await stack.enter_async_context(serve(gateway, gw_port))
        yield {
            "twin": next(t for t in twins if t.name == "eaviias"),
            "base": f"http://127.0.0.1:{gw_port}",
            "token": client.token,
            "journal": gateway[JOURNAL_KEY],
            "signers": signers,
            "clock": clock,
        }


async def _final(journal: Any, sid: str, timeout: float) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        sub = await journal.get(sid)
        if sub.state in FINAL:
            return sub
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not final: {sub.state} {sub.outcome_code} {sub.outcome_message}")
        await asyncio.sleep(0.2)


async def _marks(journal: Any, sid: str) -> dict[str, Any]:
    async with journal.engine.connect() as conn:
        rows = (await conn.execute(sa.select(ksi_marks).where(ksi_marks.c.submission_id == sid))).all()
    return {r.name: r for r in rows}


async def _submit(env: dict[str, Any], http: aiohttp.ClientSession, seed: int) -> str:
    body = make_submission("121", seed, env["signers"], source_system=SANDBOX_CLIENT)
    headers = {"Authorization": f"Bearer {env['token']}"}
    async with http.post(f"{env['base']}/api/v1/submissions", json=body, headers=headers) as resp:
        assert resp.status == 202, await resp.text()
        return str((await resp.json())["id"])


async def _bureau_stats(http: aiohttp.ClientSession, twin: Any) -> dict[str, Any]:
    """The twin's counters once every notice was taken and Acked."""
    for _ in range(50):
        async with http.get(f"{twin.url}/_sandbox/stats") as resp:
            stats: dict[str, Any] = await resp.json()
        if stats["unacked"] == 0:
            break
        await asyncio.sleep(0.2)
    assert stats["unacked"] == 0 and stats["acks_rejected"] == 0, stats
    return stats


async def test_a_referral_is_registered_scheduled_and_its_result_arrives(tmp_path: Path) -> None:
    profile = tmp_path / "bureau.toml"
    profile.write_text(PROFILE.replace("{region}", "77"))  # the sample MOs are in region 77
    async with eaviias_stack(tmp_path, profile, speed=20_000.0) as env, aiohttp.ClientSession() as http:
        journal = env["journal"]
        done = await _final(journal, await _submit(env, http, 41_001), timeout=120)

        assert done.state is State.REGISTERED, (done.outcome_code, done.outcome_message)
        assert done.peer_registration_id and done.peer_registration_id.startswith("EAV-77-")
        statuses = [e.code for e in await journal.events(done.id) if e.kind == "progress"]
        assert statuses[:2] == ["eaviias-registered", "eaviias-invited"], statuses
        marks = await _marks(journal, done.id)
        assert set(marks) == {"received", "registered", "scheduled", "decided", "result_delivered"}
        assert marks["received"].at <= marks["registered"].at <= marks["scheduled"].at <= marks["decided"].at
        assert marks["decided"].at <= marks["result_delivered"].at
        assert marks["registered"].bureau == "test-bureau" and marks["registered"].region == "77"

        bureau = (await _bureau_stats(http, env["twin"]))["bureau"]
        assert (bureau["received"], bureau["registered"], bureau["scheduled"], bureau["results"]) == (1, 1, 1, 1)
        assert bureau["returned"] == {} and bureau["late_by_stage"] == {}
        # the result carried a kind-187 document signed by the bureau head and the bureau
        assert bureau["documents"] == {"187": 1}
        final = [e for e in await journal.events(done.id) if e.to_state is State.REGISTERED]
        assert final[0].details["document_kind"] == "187" and final[0].details["status"] == "eaviias-result"


async def test_a_referral_from_outside_the_bureaus_regions_is_returned_with_reasons(tmp_path: Path) -> None:
    profile = tmp_path / "bureau.toml"
    profile.write_text(PROFILE.replace("{region}", "01"))
    async with eaviias_stack(tmp_path, profile, speed=20_000.0) as env, aiohttp.ClientSession() as http:
        journal = env["journal"]
        returned = await _final(journal, await _submit(env, http, 41_002), timeout=120)

        assert returned.state is State.FAILED
        assert returned.outcome_code == "EAVIIAS_RETURNED"
        assert "6: Медицинская организация находится в другом субъекте" in (returned.outcome_message or "")
        assert set(await _marks(journal, returned.id)) == {"received", "registered", "returned"}
        bureau = (await _bureau_stats(http, env["twin"]))["bureau"]
        assert bureau["returned"] == {"wrong_region": 1} and bureau["results"] == 0
        assert bureau["documents"] == {"130": 1}  # the return notice, kind 130

"""Every sandbox twin switches its fault profile at run time over ``/_sandbox/profile`` (what the
vendor page calls), without a restart, and then behaves per the new profile: through the real
gateway over loopback, SMEV 3 switched to ``rejecting`` answers a referral with its asynchronous
rejection (the document ends FAILED with SMEV-100) and, switched back, registers the next; ШЭП/ЦБДИ
switched to ``refusing`` concludes a 031/у with a refusal. The ЕАВИИАС bureau behind the SMEV 3
twin follows the profile too. An unknown name or a path is refused and changes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from loopback_ports import free_port

from adapters.smev3.sandbox import TWIN_KEY as SMEV3_TWIN_KEY
from adapters.smev3.sandbox.bureau import BureauProfile
from adapters.smev3.sandbox.twin import create_twin as create_smev3_twin
from gateway.app import create_app
from gateway.appkeys import JOURNAL_KEY
from gateway.common.clock import SimulatedClock
from gateway.config import load_config
from gateway.flk.samples import make_submission, prepare_document, sign_document, signing_time_for
from gateway.model import State
from gateway.sandbox.setup import SANDBOX_CLIENT, prepare_sandbox, sandbox_defaults
from gateway.sandbox.simulate import serve_app as _serve
from gateway.sandbox.twins import plan_twins

ROUTES = """
[[routes]]
name = "referrals-over-smev"
kinds = ["121"]
destination = "smev"

[[routes]]
name = "kz"
kinds = ["kz-031u"]
destination = "shep"
"""
FINAL = (State.REGISTERED, State.FAILED, State.REJECTED, State.DEAD)


@asynccontextmanager
async def _stack(tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    gw_port = free_port()
    clock = SimulatedClock(600.0)
    routes = tmp_path / "routes.toml"
    routes.write_text(ROUTES)
    config = load_config(environ={}).with_overrides(
        server={"port": gw_port, "public_url": f"http://127.0.0.1:{gw_port}"},
        storage={"data_dir": str(tmp_path)},
        workers={"idle_sleep_seconds": 0.05},
        peers={"smev": {"protocol": "smev3"}, "shep": {"protocol": "shep"}},
        routing={"routes_file": str(routes)},
    )
    config, twins = plan_twins(config, clock, seed=3)
    config, client, signers = await prepare_sandbox(config)
    gateway = create_app(config, clock=clock)
    async with AsyncExitStack() as stack:
        for t in twins:
            await stack.enter_async_context(_serve(t.app, t.port))
        await stack.enter_async_context(_serve(gateway, gw_port))
        http = await stack.enter_async_context(aiohttp.ClientSession())
        yield {
            "http": http,
            "twins": {t.name: t.url for t in twins},
            "base": f"http://127.0.0.1:{gw_port}",
            "headers": {"Authorization": f"Bearer {client.token}"},
            "journal": gateway[JOURNAL_KEY],
            "signers": signers,
        }


async def _switch(http: aiohttp.ClientSession, twin_url: str, profile: str) -> tuple[int, dict[str, Any]]:
    async with http.post(f"{twin_url}/_sandbox/profile", json={"profile": profile}) as resp:
        return resp.status, await resp.json()


async def _current(http: aiohttp.ClientSession, twin_url: str) -> str:
    async with http.get(f"{twin_url}/_sandbox/profile") as resp:
        assert resp.status == 200
        return str((await resp.json())["profile"])


async def _submit(env: dict[str, Any], body: dict[str, Any]) -> Any:
    async with env["http"].post(f"{env['base']}/api/v1/submissions", json=body, headers=env["headers"]) as resp:
        assert resp.status == 202, await resp.text()
        sid = (await resp.json())["id"]
    deadline = asyncio.get_running_loop().time() + 90
    while True:
        sub = await env["journal"].get(sid)
        if sub.state in FINAL:
            return sub
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not final: {sub.state} {sub.outcome_code} {sub.outcome_message}")
        await asyncio.sleep(0.1)


async def test_smev3_switched_to_rejecting_rejects_then_registers_again(tmp_path: Path) -> None:
    async with _stack(tmp_path) as env:
        http, smev = env["http"], env["twins"]["smev"]
        assert await _current(http, smev) == "none"
        first = await _submit(env, make_submission("121", 52_001, env["signers"], source_system=SANDBOX_CLIENT))
        assert first.state is State.REGISTERED, (first.outcome_code, first.outcome_message)

        assert await _switch(http, smev, "rejecting") == (200, {"profile": "rejecting", "twin": "smev3"})
        assert await _current(http, smev) == "rejecting"
        rejected = await _submit(env, make_submission("121", 52_002, env["signers"], source_system=SANDBOX_CLIENT))
        assert (rejected.state, rejected.outcome_code) == (State.FAILED, "SMEV-100"), rejected.outcome_message

        assert (await _switch(http, smev, "none"))[0] == 200
        again = await _submit(env, make_submission("121", 52_003, env["signers"], source_system=SANDBOX_CLIENT))
        assert again.state is State.REGISTERED, (again.outcome_code, again.outcome_message)
        async with http.get(f"{smev}/_sandbox/stats") as resp:
            stats = await resp.json()
        assert stats["async_rejections"] == 1 and stats["profile"] == "smev3-none", stats


async def test_shep_switched_to_refusing_refuses(tmp_path: Path) -> None:
    async with _stack(tmp_path) as env:
        http, shep = env["http"], env["twins"]["shep"]
        assert await _current(http, shep) == "none"
        assert (await _switch(http, shep, "refusing"))[0] == 200
        now = datetime.now(UTC)
        doc = prepare_document("kz-031u", 52_101, env["signers"], now=now)
        body = sign_document(
            doc, env["signers"], signing_time=signing_time_for(doc, now, 52_101), source_system=SANDBOX_CLIENT
        )
        concluded = await _submit(env, body)
        # a refusal to establish disability is ЦБДИ's conclusion: the act is concluded (REGISTERED
        # with its act number) and the conclusion the gateway received says "refusal"
        assert (concluded.state, concluded.destination) == (State.REGISTERED, "shep"), concluded.outcome_message
        bodies = [await env["journal"].envelope_body(e.id) for e in await env["journal"].envelopes(concluded.id)]
        assert any(b"Decision>refusal<" in b for b in bodies), [b[:200] for b in bodies]
        assert not any(b"Decision>disability<" in b for b in bodies)


@pytest.mark.parametrize("bad", ["../../etc/passwd", "/tmp/x.toml", "no-such-profile", ""])
async def test_a_bad_profile_is_refused_and_changes_nothing(tmp_path: Path, bad: str) -> None:
    app = create_smev3_twin("flaky", SimulatedClock(1.0))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with aiohttp.ClientSession() as http:
            status, body = await _switch(http, f"http://127.0.0.1:{port}", bad)
            assert status == 400 and body["error"]["code"] == "BAD_PROFILE"
            assert await _current(http, f"http://127.0.0.1:{port}") == "flaky"
    finally:
        await runner.cleanup()


def test_the_eaviias_bureau_follows_the_profile() -> None:
    clock = SimulatedClock(1.0)
    # an ЕАВИИАС instance's twin: a bureau under every profile, the profile's own where it names one
    twin = create_smev3_twin("none", clock, bureau_default=BureauProfile())[SMEV3_TWIN_KEY]
    assert twin.bureau is not None and twin.bureau.profile == BureauProfile()
    bureau = twin.bureau
    twin.switch_profile("mse-loop-2023")
    assert twin.bureau is bureau  # the referrals it holds stay with it
    assert bureau.profile.probabilities.rejection > 0 and bureau.profile.probabilities.lost_notice > 0
    twin.switch_profile("painful")
    assert twin.bureau is bureau and twin.bureau.profile == BureauProfile()
    assert twin.profile.probabilities.smev_failure > 0
    # a plain SMEV 3 twin gets a bureau with a profile that has one, and loses it with one that has none
    plain = create_smev3_twin("none", clock)[SMEV3_TWIN_KEY]
    assert plain.bureau is None
    plain.switch_profile("eaviias")
    assert plain.bureau is not None and plain.profile_key == "eaviias"
    plain.switch_profile("none")
    assert plain.bureau is None


def test_the_sandbox_lists_each_twins_own_profiles() -> None:
    from gateway.peers.installed import installed_plugins

    config = sandbox_defaults(load_config(environ={}))
    plugins = installed_plugins()
    lists = {name: tuple(plugins[str(p.get("protocol", name))].fault_profiles()) for name, p in config.peers.items()}
    assert "rejecting" in lists["eaviias"] and "eaviias" in lists["eaviias"]
    assert "refusing" in lists["shep"] and "rejecting" not in lists["shep"]
    assert "egisz-2023" in lists["remd"] and "refusing" not in lists["remd"]
    # every listed name loads
    from adapters.remd.sandbox import FaultProfile as RemdProfile
    from adapters.shep.sandbox import FaultProfile as ShepProfile
    from adapters.smev3.sandbox import FaultProfile as Smev3Profile

    loaders = {"remd": RemdProfile.load, "smev3": Smev3Profile.load, "shep": ShepProfile.load}
    for name, p in config.peers.items():
        for profile in lists[name]:
            loaders[str(p.get("protocol", name))](profile)

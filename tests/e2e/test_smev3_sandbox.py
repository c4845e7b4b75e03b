"""An ``[peers.<name>] protocol = "smev3"`` instance without a URL, end to end through its twin
from ``plan_twins``: the sandbox gives it a signing identity the twin pins, a trust directory
holding the twin's certificate, and the gateway sends, polls and Acks over real HTTP on loopback
with real signed sample documents."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from loopback_ports import free_port

from adapters.smev3.sandbox import TWIN_KEY
from gateway.app import create_app
from gateway.appkeys import JOURNAL_KEY
from gateway.common.clock import SimulatedClock
from gateway.config import load_config
from gateway.flk.samples import make_submission
from gateway.journal.peer_requests import PeerRequests, RecordedRequest
from gateway.model import State
from gateway.sandbox.setup import SANDBOX_CLIENT, prepare_sandbox
from gateway.sandbox.simulate import serve_app as serve
from gateway.sandbox.twins import plan_twins

ROUTES = """
[[routes]]
name = "referrals-over-smev"
kinds = ["121"]
destination = "smev"
"""


@asynccontextmanager
async def smev_stack(
    tmp_path: Path, profile: str = "none", smev: dict[str, Any] | None = None
) -> AsyncIterator[dict[str, Any]]:
    gw_port = free_port()
    clock = SimulatedClock(600.0)
    routes = tmp_path / "routes.toml"
    routes.write_text(ROUTES)
    config = load_config(environ={}).with_overrides(
        server={"port": gw_port, "public_url": f"http://127.0.0.1:{gw_port}"},
        storage={"data_dir": str(tmp_path)},
        workers={"idle_sleep_seconds": 0.05},
        peers={"smev": {"protocol": "smev3", **(smev or {})}},
        routing={"routes_file": str(routes)},
        sandbox={"fault_profile": profile},
    )
    config, twins = plan_twins(config, clock, seed=5)
    config, client, signers = await prepare_sandbox(config)
    gateway = create_app(config, clock=clock)
    async with AsyncExitStack() as stack:
        for t in twins:
            await stack.enter_async_context(serve(t.app, t.port))
        await stack.enter_async_context(serve(gateway, gw_port))
        yield {
            "config": config,
            "twins": twins,
            "smev_twin": next(t for t in twins if t.name == "smev"),
            "base": f"http://127.0.0.1:{gw_port}",
            "token": client.token,
            "journal": gateway[JOURNAL_KEY],
            "signers": signers,
        }


async def _final(journal: Any, sid: str, timeout: float = 60) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        sub = await journal.get(sid)
        if sub.state in (State.REGISTERED, State.FAILED, State.REJECTED, State.DEAD):
            return sub
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not final: {sub.state} {sub.outcome_code} {sub.outcome_message}")
        await asyncio.sleep(0.1)


async def test_plan_twins_wires_an_smev3_instance(tmp_path: Path) -> None:
    async with smev_stack(tmp_path) as env:
        (twin,) = [t for t in env["twins"] if t.protocol == "smev3"]
        assert (twin.name, twin.protocol) == ("smev", "smev3")
        smev = env["config"].peers["smev"]
        assert smev["url"] == twin.url
        key, cert, trust = smev["signing_key_file"], smev["signing_certificate_file"], smev["smev_trust_dir"]
        assert Path(key).parent == tmp_path / "twins" and (Path(key).stat().st_mode & 0o077) == 0
        assert Path(cert).is_file()
        assert [p.name for p in Path(trust).iterdir()] == ["smev.pem"]
        # the twin checks the gateway's ЭП-ОВ against the instance's certificate
        state = twin.app[TWIN_KEY]
        assert state.pinned is not None and state.pinned.der == load_pem_der(Path(cert))


def load_pem_der(path: Path) -> bytes:
    from gateway.signatures.certificates import load_certificates

    return load_certificates(path.read_bytes())[0].der


async def test_a_referral_goes_over_smev3_and_is_registered(tmp_path: Path) -> None:
    async with smev_stack(tmp_path) as env, aiohttp.ClientSession() as http:
        body = make_submission("121", 31_001, env["signers"], source_system=SANDBOX_CLIENT)
        headers = {"Authorization": f"Bearer {env['token']}"}
        async with http.post(f"{env['base']}/api/v1/submissions", json=body, headers=headers) as resp:
            assert resp.status == 202, await resp.text()
            sid = (await resp.json())["id"]
        sub = await _final(env["journal"], sid)
        assert (sub.state, sub.destination) == (State.REGISTERED, "smev"), (sub.outcome_code, sub.outcome_message)
        assert sub.peer_registration_id and sub.peer_registration_id.startswith("SBX-")
        async with http.get(f"{env['smev_twin'].url}/_sandbox/stats") as resp:
            stats = await resp.json()
        assert stats["accepted"] == 1 and stats["provider_deliveries"] == 1
        assert stats["unacked"] == 0 and stats["acks_rejected"] == 0
        assert not stats["faults"], stats["faults"]


async def test_the_default_sandbox_has_the_eaviias_instance_and_routes_nothing_to_it() -> None:
    import tomllib

    from gateway.config import GatewayConfig
    from gateway.sandbox.setup import sandbox_defaults

    config = sandbox_defaults(GatewayConfig())
    smev3 = {name: p for name, p in config.peers.items() if p.get("protocol") == "smev3"}
    assert list(smev3) == ["eaviias"] and smev3["eaviias"]["content_profile"] == "eaviias"
    routes = tomllib.loads(Path(config.routing.routes_file).read_text())["routes"]
    assert all(r["destination"] != "eaviias" for r in routes)


def test_the_sandbox_keeps_what_the_operator_configured(tmp_path: Path) -> None:
    from adapters.smev3.plugin import sandbox_identity

    key, cert = sandbox_identity(tmp_path / "own", "mine")
    trust = tmp_path / "trust"
    trust.mkdir()
    config = load_config(environ={}).with_overrides(
        storage={"data_dir": str(tmp_path)},
        peers={
            "remd": {"enabled": False},
            "smev": {
                "protocol": "smev3",
                "signing_key_file": str(key),
                "signing_certificate_file": str(cert),
                "smev_trust_dir": str(trust),
            },
        },
    )
    config, (twin,) = plan_twins(config, SimulatedClock(1.0), seed=1)
    smev = config.peers["smev"]
    assert (smev["signing_key_file"], smev["signing_certificate_file"]) == (str(key), str(cert))
    assert smev["smev_trust_dir"] == str(trust) and smev["url"] == twin.url
    assert twin.app[TWIN_KEY].pinned is not None and twin.app[TWIN_KEY].pinned.der == load_pem_der(cert)


async def _request_row(port: PeerRequests, message_id: str, done: Any, timeout: float = 30) -> RecordedRequest:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        row = await port.find("smev", message_id)
        if row is not None and done(row):
            return row
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"request {message_id} not there: {row}")
        await asyncio.sleep(0.05)


async def test_a_provider_instance_takes_a_request_and_its_answer_reaches_smev(tmp_path: Path) -> None:
    """``provider = true``: the app's receiver takes a request from the instance's own incoming
    queue (the twin routes the selector's namespace to the instance), records it through the
    core's request port, Acks it; the operator's answer goes out with SendResponse."""
    ns = "urn://x-artefacts-mse/decision-request/1.0"
    settings = {"provider": True, "provider_selector": {"namespace_uri": ns}}
    async with smev_stack(tmp_path, smev=settings) as env:
        twin = env["smev_twin"].app[TWIN_KEY]
        [recipient] = twin.provider_namespaces.values()
        asked = f'<q:DecisionRequest xmlns:q="{ns}"><q:N>7</q:N></q:DecisionRequest>'.encode()
        request_id = twin.inject_request(asked, recipient)
        port = PeerRequests(env["journal"])
        row = await _request_row(port, request_id, lambda r: True)
        assert row.trusted and (row.content_namespace, row.content_root) == (ns, "DecisionRequest")
        answer = b'<d:Decision xmlns:d="urn://x-artefacts-mse/decision/1.0"><d:Result>ok</d:Result></d:Decision>'
        await port.answer(row.id, content=answer, by="test")
        sent = await _request_row(port, request_id, lambda r: r.answer_state == "sent")
        assert twin.records[request_id].responses == [sent.answer_message_id]
        stats = twin.stats_json()
        assert stats["responses_recorded"] == 1 and stats["unacked"] == 0 and stats["acks_rejected"] == 0
        assert sent.seen == 1

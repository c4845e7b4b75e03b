"""The regional GIS relay end to end, over real HTTP on loopback with real signatures from the
sandbox PKI: the sandbox's peers (``remd`` and ``gis-77``, a regional GIS speaking the REMD
protocol), one twin each from ``plan_twins``, and the routes of ``config/routes.sandbox.toml``.

A region-77 referral (its region taken from the organisation's FRMO OID and address) goes
MIS → gateway → gis-77 twin and ends REGISTERED, while the REMD twin never hears of it; a region-78
referral goes straight to REMD. The UI shows the peer each one went through."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from loopback_ports import free_port

from gateway.app import create_app
from gateway.appkeys import JOURNAL_KEY
from gateway.common.clock import SimulatedClock
from gateway.config import load_config
from gateway.documents.model import Coded
from gateway.flk.samples import prepare_document, sign_document, signing_time_for
from gateway.model import State
from gateway.sandbox.setup import SANDBOX_CLIENT, prepare_sandbox, sandbox_defaults
from gateway.sandbox.simulate import serve_app as serve
from gateway.sandbox.twins import plan_twins
from gateway.ui.users import Role, UserStore

PASSWORD = "correct horse battery"


@asynccontextmanager
async def sandbox_stack(tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    gw_port = free_port()
    clock = SimulatedClock(600.0)
    config = sandbox_defaults(
        load_config(environ={}).with_overrides(
            server={"port": gw_port, "public_url": f"http://127.0.0.1:{gw_port}"},
            storage={"data_dir": str(tmp_path)},
            workers={"idle_sleep_seconds": 0.05},
        )
    )
    # eaviias (ФГИС ЕАВИИАС over SMEV 3) is in the default sandbox too, with no route to it
    assert sorted(config.peers) == ["eaviias", "gis-77", "remd", "shep"]
    assert config.routing.routes_file.endswith("routes.sandbox.toml")
    config, twins = plan_twins(config, clock, seed=7)
    assert sorted(t.name for t in twins) == ["eaviias", "gis-77", "remd", "shep"]
    config, client, signers = await prepare_sandbox(config)
    gateway = create_app(config, clock=clock)
    async with contextlib_all([serve(t.app, t.port) for t in twins] + [serve(gateway, gw_port)]):
        users = UserStore(gateway[JOURNAL_KEY].engine, clock=clock)
        await users.add("olga", PASSWORD, Role.OPERATOR)
        yield {
            "base": f"http://127.0.0.1:{gw_port}",
            "twins": {t.name: t.url for t in twins},
            "token": client.token,
            "journal": gateway[JOURNAL_KEY],
            "signers": signers,
        }


@asynccontextmanager
async def contextlib_all(managers: list[Any]) -> AsyncIterator[None]:
    from contextlib import AsyncExitStack

    async with AsyncExitStack() as stack:
        for m in managers:
            await stack.enter_async_context(m)
        yield


def referral(env: dict[str, Any], seed: int, region: str) -> dict[str, Any]:
    """A signed referral (kind 121) of a medical organisation of ``region``: the sample MO is in
    Moscow (77); for another region its FRMO OID, its address and the bureau move there together."""
    now = datetime.now(UTC)
    doc = prepare_document("121", seed, env["signers"], now=now)
    if region != "77":
        where = Coded(region, "Санкт-Петербург")
        org = doc.organisation
        moved = dataclasses.replace(
            org,
            oid=org.oid.replace(".12.2.77.", f".12.2.{region}."),
            address=dataclasses.replace(org.address, region=where),
        )
        bureau = doc.details.bureau  # type: ignore[union-attr]
        bureau = dataclasses.replace(
            bureau, address=dataclasses.replace(bureau.address, region=Coded(region, "Санкт-Петербург"))
        )
        doc = dataclasses.replace(doc, organisation=moved, details=dataclasses.replace(doc.details, bureau=bureau))
    body = sign_document(
        doc, env["signers"], signing_time=signing_time_for(doc, now, seed), source_system=SANDBOX_CLIENT
    )
    assert body["organization_oid"].startswith(f"1.2.643.5.1.13.13.12.2.{region}."), body["organization_oid"]
    return body


async def _final(journal: Any, sid: str, timeout: float = 60) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        sub = await journal.get(sid)
        if sub.state in (State.REGISTERED, State.FAILED, State.REJECTED, State.DEAD):
            return sub
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not final: {sub.state} {sub.outcome_code} {sub.outcome_message}")
        await asyncio.sleep(0.1)


async def _get_json(http: aiohttp.ClientSession, url: str) -> tuple[int, Any]:
    async with http.get(url) as resp:
        return resp.status, (await resp.json() if resp.content_type == "application/json" else await resp.text())


async def test_region_77_referral_goes_through_gis_77_and_never_to_remd(tmp_path: Path) -> None:
    async with sandbox_stack(tmp_path) as env, aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        headers = {"Authorization": f"Bearer {env['token']}"}
        bodies = {"77": referral(env, 20_001, "77"), "78": referral(env, 20_002, "78")}
        ids: dict[str, str] = {}
        for region, body in bodies.items():
            async with http.post(f"{env['base']}/api/v1/submissions", json=body, headers=headers) as resp:
                assert resp.status == 202, await resp.text()
                ids[region] = (await resp.json())["id"]

        relayed = await _final(env["journal"], ids["77"])
        direct = await _final(env["journal"], ids["78"])
        assert (relayed.state, relayed.region, relayed.destination) == (State.REGISTERED, "77", "gis-77"), relayed
        assert (direct.state, direct.region, direct.destination) == (State.REGISTERED, "78", "remd"), direct

        # The twins: gis-77 registered the region-77 referral only, REMD the region-78 one only.
        _, gis = await _get_json(http, f"{env['twins']['gis-77']}/_sandbox/stats")
        _, remd = await _get_json(http, f"{env['twins']['remd']}/_sandbox/stats")
        assert gis["registrations"] == 1 and remd["registrations"] == 1, (gis, remd)
        uid77, uid78 = relayed.local_uid, direct.local_uid
        assert (await _get_json(http, f"{env['twins']['gis-77']}/_sandbox/registrations/{uid77}"))[0] == 200
        assert (await _get_json(http, f"{env['twins']['remd']}/_sandbox/registrations/{uid77}"))[0] == 404
        assert (await _get_json(http, f"{env['twins']['remd']}/_sandbox/registrations/{uid78}"))[0] == 200
        assert (await _get_json(http, f"{env['twins']['gis-77']}/_sandbox/registrations/{uid78}"))[0] == 404

        # The UI shows the peer each went through: the detail page and the list of documents.
        login = await (await http.get(f"{env['base']}/ui/login")).text()
        csrf = re.search(r'name="csrf" value="([^"]+)"', login)
        assert csrf is not None
        form = {"username": "olga", "password": PASSWORD, "csrf": csrf.group(1)}
        async with http.post(f"{env['base']}/ui/login", data=form, allow_redirects=False) as resp:
            assert resp.status == 303, await resp.text()
        for sub, peer in ((relayed, "gis-77"), (direct, "remd")):
            async with http.get(f"{env['base']}/ui/messages/{sub.id}") as resp:
                page = await resp.text()
                assert resp.status == 200
            assert f'<dd id="peer">{peer}</dd>' in page
            assert f"→ {peer}" in page  # the routing step on the timeline
        async with http.get(f"{env['base']}/ui/messages") as resp:
            listing = await resp.text()
        rows = {uid: row for row in listing.split("<tr>") for uid in (uid77, uid78) if uid in row}
        assert '<td data-field="peer">gis-77</td>' in rows[uid77]
        assert '<td data-field="peer">remd</td>' in rows[uid78]


async def test_kazakh_031u_without_a_shep_route_is_rejected_no_route(tmp_path: Path) -> None:
    """With valid routes (the shipped ones: no ШЭП peer, so no route for kz-031u), a Kazakh 031/у
    submission is rejected with NO_ROUTE at routing — not left QUEUED for a peer that is not there."""
    from gateway.flk.samples import make_submission

    gw_port = free_port()
    config = load_config(environ={}).with_overrides(
        server={"port": gw_port},
        storage={"data_dir": str(tmp_path)},
        workers={"idle_sleep_seconds": 0.05},
        peers={"remd": {"url": "http://127.0.0.1:9/remd"}},
    )
    config, client, signers = await prepare_sandbox(config)
    gateway = create_app(config, clock=SimulatedClock(1.0))
    async with serve(gateway, gw_port), aiohttp.ClientSession() as http:
        body = make_submission("kz-031u", 30_001, signers, source_system=SANDBOX_CLIENT)
        headers = {"Authorization": f"Bearer {client.token}"}
        async with http.post(f"http://127.0.0.1:{gw_port}/api/v1/submissions", json=body, headers=headers) as resp:
            assert resp.status == 202, await resp.text()
            sid = (await resp.json())["id"]
        sub = await _final(gateway[JOURNAL_KEY], sid)
        views = {}
        for lang in ("ru", "en"):  # the gateway's own words, in the reader's language
            url = f"http://127.0.0.1:{gw_port}/api/v1/submissions/{sid}"
            async with http.get(url, headers={**headers, "Accept-Language": lang}) as resp:
                views[lang] = await resp.json()
    assert (sub.state, sub.outcome_code, sub.destination) == (State.REJECTED, "NO_ROUTE", None), sub
    assert "no route for kind kz-031u" in (sub.outcome_message or "")
    for lang, text in (("ru", "нет маршрута для вида kz-031u"), ("en", "no route for kind kz-031u")):
        assert views[lang]["outcome"]["message"].startswith(text), views[lang]["outcome"]
        [entry] = [e for e in views[lang]["timeline"] if e["to"] == "REJECTED"]
        assert entry["message"].startswith(text), entry

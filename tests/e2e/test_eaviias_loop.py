"""ФГИС ЕАВИИАС as instance ``eaviias`` of protocol ``smev3``, end to end: the gateway sends signed
referrals by SendRequest to the SMEV 3 twin, the simulated bureau behind it registers them, runs
its preliminary FLK, returns one with its reasons and schedules the other, examines and sends the
result; the gateway polls the notices (GetResponse/Ack over real HTTP on loopback), applies them as
the one mapping says and records the KSI milestones, and hands the bureau's signed result/return
document to the inbound path, from which the MIS takes it (``GET /api/v1/inbox``). Days pass on the
simulated clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa
from loopback_ports import free_port

from gateway.app import create_app
from gateway.appkeys import JOURNAL_KEY
from gateway.common.clock import SimulatedClock
from gateway.config import load_config
from gateway.flk.samples import make_submission
from gateway.journal.inbound import InboundJournal
from gateway.journal.schema import inbound_documents, inbound_events, ksi_marks
from gateway.model import State
from gateway.sandbox.setup import SANDBOX_CLIENT, prepare_sandbox
from gateway.sandbox.simulate import serve_app as serve
from gateway.sandbox.twins import plan_twins

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
{extra}"""

FINAL = (State.REGISTERED, State.FAILED, State.REJECTED, State.DEAD)


@asynccontextmanager
async def eaviias_stack(
    tmp_path: Path, profile: Path, speed: float, *, database_url: str | None = None, remd: bool = False
) -> AsyncIterator[dict[str, Any]]:
    """The gateway in process with the ЕАВИИАС twin; ``remd``: also the REMD twin, which the
    gateway searches for documents addressed to its MOs every half second (real time) and where
    the simulated bureau registers its results and returns too."""
    gw_port = free_port()
    clock = SimulatedClock(speed)
    routes = tmp_path / "routes.toml"
    routes.write_text(ROUTES)
    peers: dict[str, Any] = {
        "eaviias": {
            "protocol": "smev3",
            "content_profile": "eaviias",
            "reconcile_schedule_minutes": [4320.0],
        }
    }
    more: dict[str, Any] = {}
    if remd:
        peers["remd"] = {"protocol": "remd"}
        more["inbound"] = {"discover_peers": ["remd"], "kinds": ["187", "130"], "interval_seconds": 0.5}
    if database_url:
        more["storage"] = {"data_dir": str(tmp_path), "database_url": database_url}
    config = (
        load_config(environ={})
        .with_overrides(
            server={"port": gw_port, "public_url": f"http://127.0.0.1:{gw_port}"},
            storage={"data_dir": str(tmp_path)},
            workers={"idle_sleep_seconds": 0.05},
            journal={"lease_seconds": 6 * 3600.0},
            peers=peers,
            routing={"routes_file": str(routes)},
            sandbox={"fault_profiles": {"eaviias": str(profile)}},
        )
        .with_overrides(**more)
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
            "remd": next((t for t in twins if t.name == "remd"), None),
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


def _profile(tmp_path: Path, region: str, extra: str = "") -> Path:
    profile = tmp_path / "bureau.toml"
    profile.write_text(PROFILE.replace("{region}", region).replace("{extra}", extra))
    return profile


async def _inbox(env: dict[str, Any], http: aiohttp.ClientSession) -> list[dict[str, Any]]:
    """One whole cycle of the MIS's pull API (nothing acknowledged)."""
    headers = {"Authorization": f"Bearer {env['token']}"}
    items: list[dict[str, Any]] = []
    since: str | None = None
    while True:
        params = {"limit": "50", **({"since": since} if since is not None else {})}
        async with http.get(f"{env['base']}/api/v1/inbox", params=params, headers=headers) as resp:
            assert resp.status == 200, await resp.text()
            page = await resp.json()
        items += page["items"]
        since = page["next_cursor"]
        if not page["more"]:
            return items


async def _inbound_rows(journal: Any) -> list[Any]:
    async with journal.engine.connect() as conn:
        return list((await conn.execute(sa.select(inbound_documents))).all())


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
    profile = _profile(tmp_path, "77")  # the sample MOs are in region 77
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

        # ... which reached the MIS: verified, linked to the referral, in its inbox once
        items = await _inbox(env, http)
        assert len(items) == 1, [(r.reason_code, r.reason_message) for r in await _inbound_rows(journal)]
        item = items[0]
        assert (item["kind"], item["state"], item["flag"], item["peer"]) == ("187", "ACCEPTED", None, "eaviias")
        assert item["referral"]["submission_id"] == done.id
        assert item["peer_document_id"].startswith("notice:") and item["peer_ids"]["RegistrationNumber"]
        assert len(item["signatures"]) == 2
        assert final[0].details["inbound"] == {
            "id": item["id"], "kind": "187", "state": "ACCEPTED", "reason_code": None, "new": True
        }  # fmt: skip


async def test_a_referral_from_outside_the_bureaus_regions_is_returned_with_reasons(tmp_path: Path) -> None:
    profile = _profile(tmp_path, "01")
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

        # the kind-130 return notice reached the MIS, linked to the returned referral
        items = await _inbox(env, http)
        assert [(i["kind"], i["state"], i["flag"]) for i in items] == [("130", "ACCEPTED", None)], items
        assert items[0]["referral"]["submission_id"] == returned.id
        failed = [e for e in await journal.events(returned.id) if e.to_state is State.FAILED]
        assert failed[0].details["inbound"]["id"] == items[0]["id"]


async def test_a_result_the_bureau_sends_twice_reaches_the_mis_once(tmp_path: Path) -> None:
    profile = _profile(tmp_path, "77", "duplicate_notice = 1.0\n")
    async with eaviias_stack(tmp_path, profile, speed=20_000.0) as env, aiohttp.ClientSession() as http:
        journal = env["journal"]
        done = await _final(journal, await _submit(env, http, 41_003), timeout=120)
        assert done.state is State.REGISTERED, (done.outcome_code, done.outcome_message)
        bureau = (await _bureau_stats(http, env["twin"]))["bureau"]
        # every notice went twice (two SMEV messages); the result's second copy was Acked too
        assert bureau["notices"]["RESULT"] == 1 and bureau["duplicate_notices"] == sum(bureau["notices"].values())

        items = await _inbox(env, http)
        assert [(i["kind"], i["state"]) for i in items] == [("187", "ACCEPTED")], items
        assert len(await _inbound_rows(journal)) == 1
        finals = [e for e in await journal.events(done.id) if e.to_state is State.REGISTERED]
        # One REGISTERED event, linked to the one inbound document. Which copy's receipt it carries
        # is a race between two receive lanes (the second copy's says new=False), so not asserted.
        assert len(finals) == 1 and finals[0].details["inbound"]["id"] == items[0]["id"]


async def _held(journal: Any, sid: str, timeout: float = 120) -> Any:
    """The referral once its outcome is held for an operator (its ``outcome-held`` event)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        held = [e for e in await journal.events(sid) if e.kind == "outcome-held"]
        if held:
            return held[0]
        sub = await journal.get(sid)
        assert sub.state not in FINAL, (sub.state, sub.outcome_code)  # applied silently: the fault
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no held outcome: {sub.state}")
        await asyncio.sleep(0.2)


async def test_a_result_not_signed_by_the_bureau_head_is_held_until_an_operator_releases_it(
    tmp_path: Path, db_url: str
) -> None:
    profile = _profile(tmp_path, "77", "wrong_result_signer = 1.0\n")
    async with (
        eaviias_stack(tmp_path, profile, speed=20_000.0, database_url=db_url) as env,
        aiohttp.ClientSession() as http,
    ):
        journal = env["journal"]
        sid = await _submit(env, http, 41_004)
        held = await _held(journal, sid)
        bureau = (await _bureau_stats(http, env["twin"]))["bureau"]
        assert bureau["wrong_signer"] == 1 and bureau["documents"] == {"187": 1}

        # The notice came authenticated through SMEV, but the result it carries is signed by the
        # MSE doctor: the referral's outcome is NOT applied; it is held with the coded reason,
        # the MIS gets nothing, and the result has not reached the MO for the KSI either.
        sub = await journal.get(sid)
        assert sub.state is State.SENT and sub.outcome_code is None
        assert held.code == "INBOUND_ROLE_POLICY" and held.details["held"]["to"] == "REGISTERED"
        assert "result_delivered" not in await _marks(journal, sid)
        assert await _inbox(env, http) == []
        (row,) = await _inbound_rows(journal)
        assert (row.state, row.reason_code, row.submission_id, row.kind) == (
            "FLAGGED", "INBOUND_ROLE_POLICY", sid, "187"
        )  # fmt: skip
        assert row.offer_seq is None and row.reason_message

        # An operator releases the document: the held outcome is applied with it, once.
        await InboundJournal(journal).release(row.id, "operator:test", "the bureau confirmed the signer")
        done = await journal.get(sid)
        assert done.state is State.REGISTERED and done.peer_registration_id.startswith("EAV-77-")
        applied = [e for e in await journal.events(sid) if e.to_state is State.REGISTERED]
        assert len(applied) == 1 and applied[0].actor == "operator:test"
        assert "result_delivered" in await _marks(journal, sid)
        items = await _inbox(env, http)
        assert [(i["kind"], i["state"], i["flag"]["code"]) for i in items] == [
            ("187", "RELEASED", "INBOUND_ROLE_POLICY")
        ], items
        with pytest.raises(ValueError):  # decided once
            await InboundJournal(journal).release(row.id, "operator:test", "again")


async def test_a_dismissed_wrongly_signed_result_leaves_the_referral_waiting(tmp_path: Path) -> None:
    profile = _profile(tmp_path, "77", "wrong_result_signer = 1.0\n")
    async with eaviias_stack(tmp_path, profile, speed=20_000.0) as env, aiohttp.ClientSession() as http:
        journal = env["journal"]
        sid = await _submit(env, http, 41_005)
        await _held(journal, sid)
        (row,) = await _inbound_rows(journal)
        await InboundJournal(journal).dismiss(row.id, "operator:test", "not signed by the head")
        sub = await journal.get(sid)
        assert sub.state is State.SENT and sub.outcome_code is None
        kinds = [(e.kind, e.code) for e in await journal.events(sid)]
        assert ("outcome-dismissed", "DISMISSED") in kinds, kinds
        assert await _inbox(env, http) == []


async def _events_of(journal: Any, doc_id: str) -> list[tuple[str, str]]:
    async with journal.engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(inbound_events.c.kind, inbound_events.c.actor)
                .where(inbound_events.c.document_id == doc_id)
                .order_by(inbound_events.c.id)
            )
        ).all()
    return [(r.kind, r.actor) for r in rows]


async def _both_routes(journal: Any, http: aiohttp.ClientSession, env: dict[str, Any], expect: int) -> list[Any]:
    """Wait until every one of ``expect`` bureau documents came by both routes: recorded once,
    from one peer, and seen again from the other."""
    for _ in range(300):
        rows = await _inbound_rows(journal)
        events = [await _events_of(journal, r.id) for r in rows]
        if len(rows) == expect and all(any(k == "seen-again" for k, _ in ev) for ev in events):
            return rows
        await asyncio.sleep(0.2)
    async with http.get(f"{env['remd'].url}/_sandbox/stats") as resp:
        remd = {k: v for k, v in (await resp.json()).items() if k.startswith("addressed")}
    async with http.get(f"{env['twin'].url}/_sandbox/stats") as resp:
        addressed = (await resp.json())["addressed"]
    raise AssertionError([(r.peer, r.state, e) for r, e in zip(rows, events, strict=True)], remd, addressed)


async def test_a_result_and_a_return_by_smev_and_remd_reach_the_mis_once(tmp_path: Path, db_url: str) -> None:
    """The bureau registers its kind-187 result and kind-130 return in REMD as well: the gateway's
    REMD discovery (searchRegistryItem by recipient and kind, getDocumentFile) finds each one, and
    the SMEV notice brings it too; the MIS's inbox holds each document once."""
    # every referral is returned (its FLK passes, then the profile's rejection draw) but the
    # first, by the seeds below: one result and one return
    profile = _profile(tmp_path, "77")
    async with (
        eaviias_stack(tmp_path, profile, speed=20_000.0, database_url=db_url, remd=True) as env,
        aiohttp.ClientSession() as http,
    ):
        journal = env["journal"]
        done = await _final(journal, await _submit(env, http, 41_011), timeout=120)
        assert done.state is State.REGISTERED, (done.outcome_code, done.outcome_message)
        rows = await _both_routes(journal, http, env, expect=1)

        (row,) = rows
        assert (row.kind, row.state, row.submission_id) == ("187", "ACCEPTED", done.id)
        events = await _events_of(journal, row.id)
        assert [k for k, _ in events].count("offered") == 1, events
        seen_again = [a for k, a in events if k == "seen-again"]
        assert {row.peer, *seen_again} == {"eaviias", "remd"}, (row.peer, events)
        # the REMD twin holds the bureau's registration, and the gateway fetched the file from it
        async with http.get(f"{env['remd'].url}/_sandbox/stats") as resp:
            remd = await resp.json()
        assert remd["addressed_documents"] == 1 and remd["addressed_searches"] > 0, remd
        bureau = await _bureau_stats(http, env["twin"])
        assert bureau["bureau"]["published_to_remd"] == 1 and bureau["addressed"]["registered"] == 1, bureau
        items = await _inbox(env, http)
        assert [(i["kind"], i["referral"]["submission_id"]) for i in items] == [("187", done.id)], items

"""REMD discovery end to end over real HTTP on loopback, on SQLite and PostgreSQL: documents
addressed to an MO are registered at the REMD twin by "another system", the gateway finds them
with searchRegistryItem (searchBy=recipient), fetches them with getDocumentFile, verifies and
journals them once, delivers the linked one to the MIS's webhook (HMAC-signed) and its inbox,
and keeps the unmatched one flagged."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from api.conftest import make_config
from mis_webhook import mis_webhook

from adapters.remd.messages import GetDocumentFileResponse
from adapters.remd.sandbox import TWIN_KEY, FaultProfile, create_twin
from gateway.app import create_app
from gateway.appkeys import CLIENTS_KEY, DISCOVERY_KEY, INBOUND_KEY, JOURNAL_KEY
from gateway.common.clock import SystemClock
from gateway.flk.checker import FullChecker
from gateway.flk.sample_pki import SampleSigners
from gateway.flk.samples import make_submission, sign_document
from gateway.inbound.discovery import position_name
from gateway.journal.inbound import InboundJournal
from gateway.model import State
from inbound.kit import NOW, answer_document, journal_referral

TOKEN = "msegw_discovery-token"
ORG = "1.2.643.5.1.13.13.12.2.77.7973"


async def _register_at_twin(twin: TestClient[Any, Any], signers: SampleSigners, doc: Any, recipient: str) -> str:
    signed = sign_document(doc, signers, signing_time=min(doc.created, NOW))
    resp = await twin.post(
        "/_sandbox/addressed",
        json={
            "local_uid": doc.local_uid,
            "kind": doc.kind.value,
            "organization": doc.organisation.oid,
            "recipient": recipient,
            "document": signed["document"],
            "signatures": signed["signatures"],
        },
    )
    assert resp.status == 201, await resp.text()
    emdr_id: str = (await resp.json())["emdr_id"]
    return emdr_id


async def test_discovery_fetches_verifies_journals_once_and_delivers(
    tmp_path: Path, db_url: str, checker: FullChecker, signers: SampleSigners
) -> None:
    twin_app = create_twin(FaultProfile.load("none"), SystemClock())
    twin = TestClient(TestServer(twin_app, host="127.0.0.1"))
    await twin.start_server()
    async with mis_webhook() as mis:
        config = make_config(
            tmp_path,
            storage={"database_url": db_url},
            peers={"remd": {"url": str(twin.make_url("")).rstrip("/"), "auth": {"allow_unauthenticated": True}}},
            inbound={"discover_peers": ["remd"], "kinds": ["35", "108"], "interval_seconds": 3600},
        )
        app = create_app(config, checker=checker)
        gateway = TestClient(TestServer(app, host="127.0.0.1"))
        await gateway.start_server()
        try:
            # The MIS sends a real, signed referral through the API; it passes the checks.
            sent = make_submission("121", 5, signers, now=NOW, source_system="mis-alpha")
            org = sent["organization_oid"]
            registry = app[CLIENTS_KEY]
            client, _ = await registry.add("mis-alpha", [org], token=TOKEN)
            await registry.set_callback_hosts("mis-alpha", ["127.0.0.1"])
            journal = app[JOURNAL_KEY]
            auth = {"Authorization": f"Bearer {TOKEN}"}
            resp = await gateway.post("/api/v1/submissions", json={**sent, "callback_url": mis.url}, headers=auth)
            assert resp.status == 202, await resp.text()
            referral = await journal.get((await resp.json())["id"])
            for _ in range(200):
                referral = await journal.get(referral.id)
                if referral.state not in (State.RECEIVED, State.VALIDATED):
                    break
                await asyncio.sleep(0.05)
            assert referral.state not in (State.RECEIVED, State.VALIDATED, State.REJECTED), referral.state
            mis.received.clear()  # the referral's own outcome notice, if any, is not under test
            discovery = app[DISCOVERY_KEY]
            await discovery.round()  # after any scheduled round in flight: from here rounds are ours
            result = answer_document(signers, "35", referral.local_uid, seed=3)
            stray = answer_document(signers, "108", "a-referral-nobody-sent", seed=4)
            result_id = await _register_at_twin(twin, signers, result, org)
            await _register_at_twin(twin, signers, stray, org)

            first = await discovery.round()
            assert (first.searched, first.found, first.received, first.failed_windows) == (2, 2, 2, 0), first
            # A second round finds both again, fetches neither, records nothing new.
            second = await discovery.round()
            assert (second.found, second.received) == (2, 0), second
            assert twin_app[TWIN_KEY].addressed.file_requests == 2
            inbound = InboundJournal(journal)
            assert await inbound.counts() == {"ACCEPTED": 1, "FLAGGED": 1}
            assert await inbound.position(position_name("remd", org, "35")) is not None
            [flagged] = await inbound.listing(states=["FLAGGED"])  # type: ignore[list-item]
            assert flagged.reason_code == "INBOUND_UNKNOWN_REFERRAL" and flagged.peer == "remd"
            [accepted] = await inbound.listing(states=["ACCEPTED"])  # type: ignore[list-item]
            assert accepted.peer_document_id == result_id and accepted.submission_id == referral.id
            stored = await app[INBOUND_KEY].inbound.content(accepted.id)
            assert stored is not None and [e["direction"] for e in stored.envelopes] == ["out", "in"]

            # The webhook: one notice, signed with the client's key over timestamp + body.
            def inbound_notices() -> list[tuple[dict[str, str], bytes]]:
                return [(h, b) for h, b in mis.received if json.loads(b).get("event") == "inbound.document"]

            for _ in range(200):
                if inbound_notices():
                    break
                await asyncio.sleep(0.05)
            [(headers, body)] = inbound_notices()
            key = await registry.callback_key(client.id)
            mac = hmac.new(key, headers["X-MSE-Timestamp"].encode() + b"." + body, hashlib.sha256).hexdigest()
            assert headers["X-MSE-Signature"] == f"sha256={mac}"
            notice = json.loads(body)
            assert notice["event"] == "inbound.document" and notice["id"] == accepted.id
            assert base64.b64decode(notice["document"]) == stored.document

            # The pull API offers the same document.
            page = await gateway.get("/api/v1/inbox", headers=auth)
            items = (await page.json())["items"]
            assert [i["id"] for i in items] == [accepted.id]
        finally:
            await gateway.close()
            await twin.close()


async def test_remd_notification_wakes_discovery(
    tmp_path: Path, db_url: str, checker: FullChecker, signers: SampleSigners
) -> None:
    """REMD's (reconstructed) documentRegisteredNotification to /remd/callback makes the gateway
    search now instead of at the next scheduled round (an hour away here)."""
    twin_app = create_twin(FaultProfile.load("none"), SystemClock())
    twin = TestClient(TestServer(twin_app, host="127.0.0.1"))
    await twin.start_server()
    config = make_config(
        tmp_path,
        storage={"database_url": db_url},
        peers={"remd": {"url": str(twin.make_url("")).rstrip("/"), "auth": {"allow_unauthenticated": True}}},
        inbound={"discover_peers": ["remd"], "kinds": ["108"], "interval_seconds": 3600},
    )
    app = create_app(config, checker=checker)
    gateway = TestClient(TestServer(app, host="127.0.0.1"))
    await gateway.start_server()
    try:
        stray = answer_document(signers, "108", "a-referral-nobody-sent", seed=6)
        await app[CLIENTS_KEY].add("mis-alpha", [ORG], token=TOKEN)
        signed = sign_document(stray, signers, signing_time=min(stray.created, NOW))
        resp = await twin.post(
            "/_sandbox/addressed",
            json={
                "local_uid": stray.local_uid,
                "kind": "108",
                "organization": stray.organisation.oid,
                "recipient": ORG,
                "document": signed["document"],
                "signatures": signed["signatures"],
                "notify_url": str(gateway.make_url("/remd/callback")),
            },
        )
        assert resp.status == 201
        inbound = InboundJournal(app[JOURNAL_KEY])
        for _ in range(200):
            if await inbound.counts():
                break
            await asyncio.sleep(0.05)
        assert await inbound.counts() == {"FLAGGED": 1}
        assert twin_app[TWIN_KEY].notifications_sent == 1
    finally:
        await gateway.close()
        await twin.close()


async def test_recipients_of_a_wildcard_client_are_the_submitting_organisations(
    tmp_path: Path, db_url: str, checker: FullChecker
) -> None:
    twin_app = create_twin(FaultProfile.load("none"), SystemClock())
    twin = TestClient(TestServer(twin_app, host="127.0.0.1"))
    await twin.start_server()
    config = make_config(
        tmp_path,
        storage={"database_url": db_url},
        workers={"enabled": True},
        peers={"remd": {"url": str(twin.make_url("")).rstrip("/"), "auth": {"allow_unauthenticated": True}}},
        inbound={"discover_peers": ["remd"], "interval_seconds": 3600},
    )
    app = create_app(config, checker=checker)
    gateway = TestClient(TestServer(app, host="127.0.0.1"))
    await gateway.start_server()
    try:
        await app[CLIENTS_KEY].add("mis-fixed", [ORG], token=TOKEN)
        assert await app[DISCOVERY_KEY].recipients() == [ORG]
        await app[CLIENTS_KEY].add("mis-any", ["*"], token=TOKEN + "-any")
        other = "1.2.643.5.1.13.13.12.2.50.123"
        await journal_referral(app[JOURNAL_KEY], org=other)
        assert await app[DISCOVERY_KEY].recipients() == sorted([ORG, other])
    finally:
        await gateway.close()
        await twin.close()


async def test_a_window_with_a_failed_fetch_is_searched_again(
    tmp_path: Path, db_url: str, checker: FullChecker, signers: SampleSigners
) -> None:
    """A file REMD could not give (once) leaves the window's position where it was: the next round
    fetches what is missing, and what was already recorded is neither fetched nor recorded again."""
    twin_app = create_twin(FaultProfile.load("none"), SystemClock())
    twin = TestClient(TestServer(twin_app, host="127.0.0.1"))
    await twin.start_server()
    config = make_config(
        tmp_path,
        storage={"database_url": db_url},
        peers={"remd": {"url": str(twin.make_url("")).rstrip("/"), "auth": {"allow_unauthenticated": True}}},
        inbound={"discover_peers": ["remd"], "kinds": ["108"], "interval_seconds": 3600},
    )
    app = create_app(config, checker=checker)
    gateway = TestClient(TestServer(app, host="127.0.0.1"))
    await gateway.start_server()
    try:
        await app[CLIENTS_KEY].add("mis-alpha", [ORG], token=TOKEN)
        discovery = app[DISCOVERY_KEY]
        await discovery.round()  # after any scheduled round in flight: from here rounds are ours
        first = await _register_at_twin(twin, signers, answer_document(signers, "108", "r-1", seed=11), ORG)
        second = await _register_at_twin(twin, signers, answer_document(signers, "108", "r-2", seed=12), ORG)
        registry = twin_app[TWIN_KEY].addressed
        real_file = registry.file
        refused: list[str] = []

        def flaky_file(req: Any) -> Any:
            doc = registry.documents[(req.organization, req.local_uid.lower())]
            if doc.emdr_id == second and not refused:
                refused.append(doc.emdr_id)
                return GetDocumentFileResponse(False, errors=(("RMIS_ERROR", "source system unavailable"),))
            return real_file(req)

        registry.file = flaky_file  # type: ignore[method-assign]
        inbound = InboundJournal(app[JOURNAL_KEY])
        key = position_name("remd", ORG, "108")
        before = await inbound.position(key)
        one = await discovery.round()
        assert (one.received, one.failed_windows) == (1, 1), one
        assert await inbound.position(key) == before
        two = await discovery.round()
        assert (two.found, two.received, two.failed_windows) == (2, 1, 0), two
        after = await inbound.position(key)
        assert after is not None and (before is None or after > before)
        recorded = {r.peer_document_id for r in await inbound.listing()}
        assert recorded == {first, second} and refused == [second]
    finally:
        await gateway.close()
        await twin.close()

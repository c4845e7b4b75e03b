"""The MIS's pull API over real HTTP, on SQLite and PostgreSQL: the inbox returns each document
once per acknowledgement cycle, re-offers what was not acknowledged, and resumes from its cursor
— across a restart of the gateway."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from api.conftest import make_config
from api.structural import StructuralChecker

from gateway.app import create_app
from gateway.appkeys import CLIENTS_KEY, JOURNAL_KEY
from gateway.flk.checker import FullChecker
from gateway.flk.sample_pki import SampleSigners
from gateway.inbound.receive import InboundReceiver
from gateway.intake.clients import ClientExists
from gateway.journal.store import Journal
from inbound.kit import MO, OTHER_MO, answer_document, inbound_of, journal_referral

TOKEN = "msegw_inbox-token-alpha"
OTHER_TOKEN = "msegw_inbox-token-beta"


class Running:
    def __init__(self, client: TestClient[Any, Any], journal: Journal) -> None:
        self.client = client
        self.journal = journal

    async def page(self, since: str | None = None, limit: int = 2, token: str = TOKEN) -> dict[str, Any]:
        params: dict[str, str] = {"limit": str(limit)}
        if since is not None:
            params["since"] = since
        resp = await self.client.get("/api/v1/inbox", params=params, headers={"Authorization": f"Bearer {token}"})
        assert resp.status == 200, await resp.text()
        body: dict[str, Any] = await resp.json()
        return body

    async def cycle(self, since: str | None = None, token: str = TOKEN) -> tuple[list[str], str]:
        """Read pages from ``since`` until there is no more: the ids in order, the last cursor."""
        ids: list[str] = []
        cursor = since
        while True:
            page = await self.page(cursor, token=token)
            ids += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if not page["more"]:
                return ids, cursor

    async def ack(self, ids: list[str], token: str = TOKEN) -> dict[str, Any]:
        resp = await self.client.post(
            "/api/v1/inbox/ack", json={"ids": ids}, headers={"Authorization": f"Bearer {token}"}
        )
        assert resp.status == 200, await resp.text()
        body: dict[str, Any] = await resp.json()
        return body


@contextlib.asynccontextmanager
async def running(data_dir: Path, db_url: str) -> AsyncIterator[Running]:
    config = make_config(data_dir, storage={"database_url": db_url}, workers={"enabled": False})
    app = create_app(config, checker=StructuralChecker())
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    try:
        with contextlib.suppress(ClientExists):
            await app[CLIENTS_KEY].add("mis-alpha", [MO], token=TOKEN)
        with contextlib.suppress(ClientExists):
            await app[CLIENTS_KEY].add("mis-beta", [OTHER_MO], token=OTHER_TOKEN)
        yield Running(client, app[JOURNAL_KEY])
    finally:
        await client.close()


async def _results(run: Running, checker: FullChecker, signers: SampleSigners, n: int, **kw: Any) -> list[str]:
    receiver = InboundReceiver(run.journal, checker)
    ids = []
    for i in range(n):
        referral = await journal_referral(run.journal, source_system="mis-alpha", **kw)
        doc = answer_document(signers, "35" if i % 2 == 0 else "108", referral.local_uid, seed=i + 1)
        receipt = await receiver.receive(inbound_of(signers, doc, recipient=referral.organization_oid))
        assert receipt.created and receipt.state == "ACCEPTED", receipt
        ids.append(receipt.id)
    return ids


async def test_each_document_once_per_cycle_and_resume_after_restart(
    tmp_path: Path, db_url: str, checker: FullChecker, signers: SampleSigners
) -> None:
    async with running(tmp_path, db_url) as run:
        ours = await _results(run, checker, signers, 5)
        theirs = await _results(run, checker, signers, 1, org=OTHER_MO)
        flagged = await InboundReceiver(run.journal, checker).receive(
            inbound_of(signers, answer_document(signers, "35", "unknown-referral", seed=9))
        )
        assert flagged.state == "FLAGGED"
        first = await run.page()
        assert [i["id"] for i in first["items"]] == ours[:2] and first["more"] is True
        second = await run.page(first["next_cursor"])
        assert [i["id"] for i in second["items"]] == ours[2:4]
        cursor = second["next_cursor"]
    # The gateway restarts; the MIS resumes from the cursor it kept.
    async with running(tmp_path, db_url) as run:
        third = await run.page(cursor)
        assert [i["id"] for i in third["items"]] == ours[4:] and third["more"] is False
        empty = await run.page(third["next_cursor"])
        assert empty["items"] == [] and empty["next_cursor"] == third["next_cursor"]
        item = third["items"][0]
        assert item["recipient_oid"] == MO and item["referral"]["submission_id"] and item["document"]
        # The other organisation's client sees only its own document; the flagged one nobody.
        assert (await run.cycle(token=OTHER_TOKEN))[0] == theirs

        # Cycle 1 read everything once; the MIS acknowledges three of five.
        acked = await run.ack([ours[0], ours[1], ours[3]])
        assert acked == {"acknowledged": [ours[0], ours[1], ours[3]], "unknown": []}
        # Cycle 2 (from no cursor): only the unacknowledged ones, each once, in order.
        again, _ = await run.cycle()
        assert again == [ours[2], ours[4]]
        # Acknowledging twice is harmless; others' and flagged ids are unknown to this client.
        acked = await run.ack([ours[2], ours[2], theirs[0], flagged.id, ours[4]])
        assert acked == {"acknowledged": [ours[2], ours[4]], "unknown": [theirs[0], flagged.id]}
        assert (await run.cycle())[0] == []

        # A new document and a released flagged one come after the cursor the MIS holds.
        _, cursor = await run.cycle()
        new = await _results(run, checker, signers, 1)
        await InboundReceiver(run.journal, checker).inbound.release(flagged.id, "operator:test")
        later, _ = await run.cycle(cursor)
        assert later == [new[0], flagged.id]


async def test_per_item_ack_and_refusals(
    tmp_path: Path, db_url: str, checker: FullChecker, signers: SampleSigners
) -> None:
    async with running(tmp_path, db_url) as run:
        [doc] = await _results(run, checker, signers, 1)
        auth = {"Authorization": f"Bearer {OTHER_TOKEN}"}
        assert (await run.client.post(f"/api/v1/inbox/{doc}/ack", headers=auth)).status == 404
        ok = await run.client.post(f"/api/v1/inbox/{doc}/ack", headers={"Authorization": f"Bearer {TOKEN}"})
        assert ok.status == 200 and (await ok.json())["acknowledged"] == [doc]
        assert (await run.client.get("/api/v1/inbox")).status == 401
        bad = await run.client.get(
            "/api/v1/inbox", params={"since": "-1"}, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert bad.status == 400 and (await bad.json())["error"]["code"] == "INVALID_CURSOR"
        empty = await run.client.post(
            "/api/v1/inbox/ack", json={"ids": []}, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert empty.status == 422

"""The operator API (/api/v1/operator/...) and `mse-gateway ops`, over real HTTP and the real
CLI on the seeded journal: a reader may list and preview but not act; an operator acts, audited."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner

from gateway.api.operator_tokens import OperatorTokenStore, TokenRole
from gateway.cli import main
from gateway.model import State
from gateway.ui.schema import ui_audit

from .conftest import UiGateway


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_reader_lists_and_previews_but_cannot_act(gw: UiGateway) -> None:
    store = OperatorTokenStore(gw.journal.engine)
    reader = await store.add("grafana", TokenRole.READER)
    resp = await gw.client.get("/api/v1/operator/submissions?view=needs-operator", headers=_auth(reader))
    assert resp.status == 200
    body = await resp.json()
    assert body["total"] == 2 and {i["id"] for i in body["items"]} == {
        gw.seeded.ids["dead-0"],
        gw.seeded.ids["patient-doc"],
    }
    assert [(c["state"], c["code"], c["count"]) for c in body["causes"]] == [("DEAD", "HTTP_503", 2)]
    assert body["causes"][0]["action"].startswith("Transient") and body["total_capped"] is False
    # The causes are explained in the caller's language (Accept-Language), as REST errors are.
    ru = await gw.client.get(
        "/api/v1/operator/submissions?view=needs-operator", headers={**_auth(reader), "Accept-Language": "ru"}
    )
    assert ru.headers["Content-Language"] == "ru"
    assert (await ru.json())["causes"][0]["action"].startswith("Временный сбой")
    preview = await gw.client.post(
        "/api/v1/operator/actions/resend", json={"filter": {"view": "needs-operator"}, "dry_run": True},
        headers=_auth(reader),
    )  # fmt: skip
    assert preview.status == 200 and (await preview.json())["applicable"] == 2
    refused = await gw.client.post(
        "/api/v1/operator/actions/resend",
        json={"filter": {"view": "needs-operator"}, "comment": "try"},
        headers=_auth(reader),
    )
    assert refused.status == 403 and (await refused.json())["error"]["code"] == "FORBIDDEN"
    assert (await gw.journal.get(gw.seeded.ids["dead-0"])).state is State.DEAD


async def test_operator_token_acts_and_is_audited(gw: UiGateway) -> None:
    token = await OperatorTokenStore(gw.journal.engine).add("runbook", TokenRole.OPERATOR)
    url = "/api/v1/operator/actions/cancel"
    no_comment = await gw.client.post(url, json={"filter": {"state": ["QUEUED"]}}, headers=_auth(token))
    assert no_comment.status == 422
    everything = await gw.client.post(url, json={"comment": "oops"}, headers=_auth(token))
    assert everything.status == 422  # neither a filter nor ids: refused, not "the whole journal"
    resp = await gw.client.post(
        url, json={"filter": {"state": ["QUEUED", "RETRY_WAIT", "SENT"]}, "comment": "MIS withdrew them"},
        headers=_auth(token),
    )  # fmt: skip
    body = await resp.json()
    assert resp.status == 200, body
    assert (body["matched"], body["applicable"], body["ok"], body["not_applicable"]) == (4, 2, 2, {"SENT": 2})
    for label in ("queued-0", "retry-0"):
        assert (await gw.journal.get(gw.seeded.ids[label])).state is State.CANCELLED
    async with gw.journal.engine.connect() as conn:
        rows = (await conn.execute(sa.select(ui_audit).where(ui_audit.c.action == "cancel"))).all()
    assert {r.username for r in rows} == {"api:runbook"} and len(rows) == 2


async def test_tokens_are_not_client_tokens_and_can_be_revoked(gw: UiGateway) -> None:
    store = OperatorTokenStore(gw.journal.engine)
    token = await store.add("temp", TokenRole.OPERATOR)
    assert (await gw.client.get("/api/v1/operator/submissions")).status == 401
    assert (await gw.client.get("/api/v1/operator/submissions", headers=_auth("made-up"))).status == 401
    # an operator token opens nothing of the MIS API
    assert (await gw.client.get("/api/v1/submissions", headers=_auth(token))).status == 401
    assert await store.revoke("temp")
    assert (await gw.client.get("/api/v1/operator/submissions", headers=_auth(token))).status == 401


def _ops(data_dir: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["ops", *args, "--data-dir", str(data_dir)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


async def test_cli_lists_previews_and_acts(gw: UiGateway, tmp_path: Path) -> None:
    code, out = await asyncio.to_thread(_ops, tmp_path, "list", "--filter", "state=FAILED", "--json")
    assert code == 0, out
    listed = json.loads(out)
    assert listed["total"] == 3 and {c["code"] for c in listed["causes"]} == {"INVALID_SIGNATURE", "SCHEMA_ERROR"}
    code, out = await asyncio.to_thread(_ops, tmp_path, "resend", "--filter", "state=FAILED", "--filter", "region=77")
    assert code == 0 and "2 documents will be resent (2 selected)" in out and "preview only" in out
    assert (await gw.journal.get(gw.seeded.ids["fail-77-0"])).state is State.FAILED
    code, out = await asyncio.to_thread(_ops, tmp_path, "resend", "--filter", "state=FAILED", "--yes")
    assert code != 0 and "--comment is required" in out
    code, out = await asyncio.to_thread(_ops, tmp_path, "resend", "--yes")
    assert code != 0 and "give --filter or --id" in out
    code, out = await asyncio.to_thread(
        _ops, tmp_path, "resend", "--filter", "state=FAILED", "--filter", "region=77", "--yes",
        "--comment", "certificate renewed", "--as", "olga",
    )  # fmt: skip
    assert code == 0 and "done: 2" in out, out
    for label in ("fail-77-0", "fail-77-1"):
        sub = await gw.journal.get(gw.seeded.ids[label])
        assert sub.state is State.QUEUED
        assert (await gw.journal.events(sub.id))[-1].actor == "operator:cli:olga"
    assert (await gw.journal.get(gw.seeded.ids["fail-50-0"])).state is State.FAILED


async def test_cli_tokens(gw: UiGateway, tmp_path: Path) -> None:
    code, token = await asyncio.to_thread(_ops, tmp_path, "tokens", "add", "ci", "--role", "reader")
    assert code == 0
    resp = await gw.client.get("/api/v1/operator/submissions?state=REJECTED", headers=_auth(token.strip()))
    assert resp.status == 200 and (await resp.json())["total"] == 3
    code, out = await asyncio.to_thread(_ops, tmp_path, "tokens", "list")
    assert out.strip() == "ci\treader\tlive"
    code, out = await asyncio.to_thread(_ops, tmp_path, "tokens", "revoke", "ci")
    assert code == 0
    assert (await gw.client.get("/api/v1/operator/submissions", headers=_auth(token.strip()))).status == 401

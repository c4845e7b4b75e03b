"""The REST front door end to end over real HTTP."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from gateway.model import State

from .conftest import ORG, Gateway, start_gateway, submission


async def wait_state(gw: Gateway, sid: str, *states: str, timeout: float = 10) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        resp = await gw.client.get(f"/api/v1/submissions/{sid}", headers=gw.auth)
        body: dict[str, Any] = await resp.json()
        if body.get("state") in states:
            return body
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"state stayed {body.get('state')}, wanted {states}")
        await asyncio.sleep(0.05)


async def test_submit_is_accepted_validated_and_routed(gateway: Gateway) -> None:
    resp = await gateway.client.post("/api/v1/submissions", json=submission("uid-1"), headers=gateway.auth)
    assert resp.status == 202
    body = await resp.json()
    assert body["state"] == "RECEIVED" and body["local_uid"] == "uid-1"
    assert resp.headers["Location"] == body["status_url"] == f"/api/v1/submissions/{body['id']}"
    detail = await wait_state(gateway, body["id"], "QUEUED")
    assert detail["destination"] == "remd" and detail["region"] == "77"
    assert [e["to"] for e in detail["timeline"] if e["kind"] == "state"] == ["RECEIVED", "VALIDATED", "QUEUED"]
    assert detail["report"]["passed"] is True


async def test_repeat_is_200_and_conflict_is_409(gateway: Gateway) -> None:
    first = await gateway.client.post("/api/v1/submissions", json=submission("uid-2"), headers=gateway.auth)
    again = await gateway.client.post("/api/v1/submissions", json=submission("uid-2"), headers=gateway.auth)
    assert (first.status, again.status) == (202, 200)
    assert (await first.json())["id"] == (await again.json())["id"]
    # A new callback URL alone is still the same document.
    cb = submission("uid-2", callback_url="http://127.0.0.1:9/cb")
    assert (await gateway.client.post("/api/v1/submissions", json=cb, headers=gateway.auth)).status == 200
    changed = submission("uid-2", document_number="other")
    resp = await gateway.client.post("/api/v1/submissions", json=changed, headers=gateway.auth)
    assert resp.status == 409
    assert (await resp.json())["error"]["code"] == "DUPLICATE_CONFLICT"


async def test_authentication(gateway: Gateway) -> None:
    url = "/api/v1/submissions"
    assert (await gateway.client.post(url, json=submission())).status == 401
    bad = {"Authorization": "Bearer msegw_wrong"}
    resp = await gateway.client.post(url, json=submission(), headers=bad)
    assert resp.status == 401 and (await resp.json())["error"]["code"] == "UNAUTHORIZED"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert (await gateway.client.get(url, headers={"Authorization": "Basic eDp5"})).status == 401
    # The description is public.
    assert (await gateway.client.get("/api/v1/openapi.json")).status == 200


async def test_foreign_organisation_and_source_system_are_403(gateway: Gateway) -> None:
    foreign = submission(organization_oid="1.2.643.5.1.13.13.12.2.16.1601")
    resp = await gateway.client.post("/api/v1/submissions", json=foreign, headers=gateway.auth)
    assert resp.status == 403 and (await resp.json())["error"]["details"]["field"] == "/organization_oid"
    other = submission(source_system="mis-beta")
    assert (await gateway.client.post("/api/v1/submissions", json=other, headers=gateway.auth)).status == 403
    assert await gateway.journal.counts_by_state() == dict.fromkeys(State, 0)


async def test_malformed_json_400_schema_422(gateway: Gateway) -> None:
    resp = await gateway.client.post(
        "/api/v1/submissions", data=b'{"source_system": ', headers={**gateway.auth, "Content-Type": "application/json"}
    )
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "MALFORMED_JSON"
    bad = submission(kind="999", document="")
    del bad["signatures"]
    resp = await gateway.client.post("/api/v1/submissions", json=bad, headers=gateway.auth)
    assert resp.status == 422
    fields = {e["field"] for e in (await resp.json())["error"]["details"]["errors"]}
    assert {"/kind", "/document", "/"} <= fields  # every problem at once ("/" = missing signatures)
    naive = submission(creation_datetime="2026-11-20T10:00:00")
    assert (await gateway.client.post("/api/v1/submissions", json=naive, headers=gateway.auth)).status == 422


async def test_oversize_is_413(tmp_path: Path) -> None:
    async with start_gateway(tmp_path, server={"max_body_bytes": 4096}) as gw:
        big = submission(document="<a>" + "x" * 10_000 + "</a>")
        resp = await gw.client.post("/api/v1/submissions", json=big, headers=gw.auth)
        assert resp.status == 413
        assert (await resp.json())["error"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_invalid_document_is_rejected_with_a_coded_report(gateway: Gateway) -> None:
    resp = await gateway.client.post(
        "/api/v1/submissions", json=submission(document="<a><b></a>"), headers=gateway.auth
    )
    sid = (await resp.json())["id"]
    detail = await wait_state(gateway, sid, "REJECTED")
    assert detail["outcome"]["code"] == "XML_MALFORMED"
    assert detail["report"]["passed"] is False
    assert detail["report"]["flk"][0]["category"] == "other"


async def test_a_rejected_document_corrected_under_the_same_local_uid_is_version_2(gateway: Gateway) -> None:
    resp = await gateway.client.post(
        "/api/v1/submissions", json=submission("uid-fix", document="<a><b></a>"), headers=gateway.auth
    )
    first = (await resp.json())["id"]
    await wait_state(gateway, first, "REJECTED")
    resp = await gateway.client.post("/api/v1/submissions", json=submission("uid-fix"), headers=gateway.auth)
    assert resp.status == 202
    body = await resp.json()
    assert (body["version"], body["supersedes"], body["local_uid"]) == (2, first, "uid-fix")
    detail = await wait_state(gateway, body["id"], "QUEUED")
    assert detail["timeline"][0]["message"] == "received: version 2, resubmitted after REJECTED"
    old = await (await gateway.client.get(f"/api/v1/submissions/{first}", headers=gateway.auth)).json()
    assert old["state"] == "REJECTED" and old["timeline"][-1]["message"] == "superseded by version 2"
    # while version 2 is on its way, another correction is refused
    again = submission("uid-fix", document_number="other")
    assert (await gateway.client.post("/api/v1/submissions", json=again, headers=gateway.auth)).status == 409


async def test_errors_speak_the_language_the_caller_asks_for(gateway: Gateway) -> None:
    await gateway.client.post("/api/v1/submissions", json=submission("uid-lang"), headers=gateway.auth)
    changed = submission("uid-lang", document_number="other")
    answers = {}
    for accept in (None, "ru-RU,ru;q=0.9,en;q=0.5", "ru;q=0.1, en"):
        headers = {**gateway.auth, **({"Accept-Language": accept} if accept else {})}
        resp = await gateway.client.post("/api/v1/submissions", json=changed, headers=headers)
        assert resp.status == 409
        answers[accept] = (resp.headers["Content-Language"], (await resp.json())["error"])
    lang, english = answers[None]
    assert lang == "en" and english["message"].startswith("this local_uid was already submitted")
    lang, russian = answers["ru-RU,ru;q=0.9,en;q=0.5"]
    assert lang == "ru" and russian["code"] == "DUPLICATE_CONFLICT"
    assert russian["message"].startswith("Этот localUid уже принят")
    assert russian["details"]["message_en"].startswith("this local_uid was already submitted")  # the state moves on
    assert answers["ru;q=0.1, en"][0] == "en"


async def test_flk_findings_speak_the_language_the_caller_asks_for(gateway: Gateway) -> None:
    """The check's report, and a rejected submission's report, outcome and timeline, follow
    Accept-Language (English when none is asked for, as every REST answer); both texts stay in the
    report, and the code does not change."""
    unsigned = submission("uid-flk-lang", signatures=[])
    seen = {}
    for accept in (None, "ru-RU,ru;q=0.9", "en-US,en;q=0.9,ru;q=0.8"):
        headers = {**gateway.auth, **({"Accept-Language": accept} if accept else {})}
        resp = await gateway.client.post("/api/v1/check", json=unsigned, headers=headers)
        finding = (await resp.json())["flk"][0]
        seen[accept] = (resp.headers["Content-Language"], finding["code"], finding["message"])
        assert (finding["message_ru"], finding["message_en"]) == ("Документ не подписан", "The document is not signed")
    assert seen[None] == ("en", "NO_SIGNATURE", "The document is not signed")
    assert seen["ru-RU,ru;q=0.9"] == ("ru", "NO_SIGNATURE", "Документ не подписан")
    assert seen["en-US,en;q=0.9,ru;q=0.8"] == seen[None]

    resp = await gateway.client.post("/api/v1/submissions", json=unsigned, headers=gateway.auth)
    sid = (await resp.json())["id"]
    await wait_state(gateway, sid, "REJECTED")
    views = {}
    for accept in ("ru", "en"):
        headers = {**gateway.auth, "Accept-Language": accept}
        resp = await gateway.client.get(f"/api/v1/submissions/{sid}", headers=headers)
        assert resp.headers["Content-Language"] == accept
        views[accept] = await resp.json()
    for lang, text in (("ru", "Документ не подписан"), ("en", "The document is not signed")):
        view = views[lang]
        assert view["outcome"]["code"] == "NO_SIGNATURE" and view["outcome"]["message"] == text
        assert view["report"]["flk"][0]["message"] == text
        assert [e["message"] for e in view["timeline"] if e["to"] == "REJECTED"] == [text]


async def test_the_outcome_message_follows_accept_language_in_the_list(gateway: Gateway) -> None:
    """A rejection's outcome is journalled in both languages (outcome_text): the list, the detail and
    the answer to a repeated POST say it in the reader's language; a row journalled before there was
    a second language keeps showing what it has, in every language."""
    import sqlalchemy as sa

    from gateway.journal.schema import submissions

    resp = await gateway.client.post(
        "/api/v1/submissions", json=submission("uid-outcome-lang", signatures=[]), headers=gateway.auth
    )
    sid = (await resp.json())["id"]
    await wait_state(gateway, sid, "REJECTED")

    async def listed(accept: str | None) -> tuple[str, str]:
        headers = {**gateway.auth, **({"Accept-Language": accept} if accept else {})}
        params = {"local_uid": "uid-outcome-lang"}
        resp = await gateway.client.get("/api/v1/submissions", params=params, headers=headers)
        [item] = (await resp.json())["items"]
        assert item["outcome"]["code"] == "NO_SIGNATURE"
        return resp.headers["Content-Language"], item["outcome"]["message"]

    assert await listed("en-US,en;q=0.9") == ("en", "The document is not signed")
    assert await listed(None) == ("en", "The document is not signed")  # English when none is asked for
    assert await listed("ru-RU,ru;q=0.9,en;q=0.5") == ("ru", "Документ не подписан")
    repeated = await gateway.client.post(
        "/api/v1/submissions",
        json=submission("uid-outcome-lang", signatures=[]),
        headers={**gateway.auth, "Accept-Language": "ru"},
    )
    assert repeated.status == 200 and (await repeated.json())["outcome"]["message"] == "Документ не подписан"

    # as a row journalled before migration 0017: one language, shown as it is in both
    async with gateway.journal.engine.begin() as conn:
        await conn.execute(
            sa.update(submissions)
            .where(submissions.c.id == sid)
            .values(outcome_text=None, outcome_message="journalled before 0017")
        )
    assert await listed("ru") == ("ru", "journalled before 0017")
    assert await listed("en") == ("en", "journalled before 0017")


async def test_list_filters_and_pages(gateway: Gateway) -> None:
    ids = []
    for i in range(5):
        resp = await gateway.client.post("/api/v1/submissions", json=submission(f"page-{i}"), headers=gateway.auth)
        ids.append((await resp.json())["id"])
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        page = await (await gateway.client.get("/api/v1/submissions", params=params, headers=gateway.auth)).json()
        seen.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 5
    one = await (
        await gateway.client.get("/api/v1/submissions", params={"local_uid": "page-3"}, headers=gateway.auth)
    ).json()
    assert [i["local_uid"] for i in one["items"]] == ["page-3"]
    bad = await gateway.client.get("/api/v1/submissions", params={"state": "NOPE"}, headers=gateway.auth)
    assert bad.status == 422
    bad = await gateway.client.get("/api/v1/submissions", params={"cursor": "!!"}, headers=gateway.auth)
    assert bad.status == 400


async def test_other_clients_records_are_invisible(gateway: Gateway) -> None:
    from gateway.appkeys import CLIENTS_KEY

    resp = await gateway.client.post("/api/v1/submissions", json=submission(), headers=gateway.auth)
    sid = (await resp.json())["id"]
    registry = gateway.client.server.app[CLIENTS_KEY]  # type: ignore[union-attr]
    _, token = await registry.add("mis-beta", [ORG])
    other = {"Authorization": f"Bearer {token}"}
    assert (await gateway.client.get(f"/api/v1/submissions/{sid}", headers=other)).status == 404
    listing = await (await gateway.client.get("/api/v1/submissions", headers=other)).json()
    assert listing["items"] == []


async def test_check_is_a_dry_run(gateway: Gateway) -> None:
    resp = await gateway.client.post("/api/v1/check", json=submission(document="<broken"), headers=gateway.auth)
    assert resp.status == 200
    report = await resp.json()
    assert report["passed"] is False and report["flk"][0]["code"] == "XML_MALFORMED"
    assert sum((await gateway.journal.counts_by_state()).values()) == 0


async def test_unknown_route_is_a_json_404(gateway: Gateway) -> None:
    resp = await gateway.client.get("/api/v1/nothing", headers=gateway.auth)
    assert resp.status == 404 and json.loads(await resp.text())["error"]["code"] == "HTTP_404"


async def test_patient_data_is_not_logged(gateway: Gateway, capsys: Any) -> None:
    await gateway.client.post("/api/v1/submissions", json=submission(), headers=gateway.auth)
    out = capsys.readouterr().out
    assert "112-233-445" not in out and "Иванов" not in out

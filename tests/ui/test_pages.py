"""The UI over real HTTP: sign-in, roles, CSRF, the overview against the journal's own counts,
search by SNILS, operator actions and their audit trail."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from gateway.model import State
from gateway.ui.schema import ui_audit

from .conftest import PASSWORD, UiGateway, csrf_of, make_config
from .seed import PATIENT_SNILS


def _field(html: str, name: str) -> int:
    m = re.search(rf'data-field="{name}">(\d+)<', html)
    assert m, f"no {name} on the page"
    return int(m.group(1))


async def test_pages_need_a_session(gw: UiGateway) -> None:
    for path in ("/ui/overview", "/ui/queues", "/ui/messages", f"/ui/messages/{gw.seeded.patient_doc}"):
        resp = await gw.client.get(path, allow_redirects=False)
        assert resp.status == 302 and resp.headers["Location"] == "/ui/login", path


async def test_wrong_password_is_refused_and_audited(gw: UiGateway) -> None:
    csrf = csrf_of(await (await gw.client.get("/ui/login")).text())
    resp = await gw.client.post("/ui/login", data={"username": "olga", "password": "nope-nope-nope", "csrf": csrf})
    assert resp.status == 401
    assert "login-error" in await resp.text()
    async with gw.journal.engine.connect() as conn:
        rows = (await conn.execute(sa.select(ui_audit.c.username, ui_audit.c.outcome))).all()
    assert ("olga", "refused") in [tuple(r) for r in rows]


async def _try_login(gw: UiGateway, username: str, password: str) -> Any:
    csrf = csrf_of(await (await gw.client.get("/ui/login")).text())
    return await gw.client.post(
        "/ui/login", data={"username": username, "password": password, "csrf": csrf}, allow_redirects=False
    )


async def test_repeated_failures_delay_the_account_exponentially(gw: UiGateway) -> None:
    for _ in range(5):  # ui.login_max_failures: free
        assert (await _try_login(gw, "olga", "nope-nope-nope")).status == 401
    # Now even the right password is refused without being checked for 1 s, and that is audited.
    blocked = await _try_login(gw, "Olga", PASSWORD)
    assert blocked.status == 429
    assert int(blocked.headers["Retry-After"]) == 1
    async with gw.journal.engine.connect() as conn:
        rows = (await conn.execute(sa.select(ui_audit.c.username, ui_audit.c.outcome))).all()
    assert ("Olga", "throttled") in [tuple(r) for r in rows]
    gw.clock.advance(seconds=1)
    assert (await _try_login(gw, "olga", "nope-nope-nope")).status == 401  # the 6th failure: 2 s
    assert int((await _try_login(gw, "olga", PASSWORD)).headers["Retry-After"]) == 2
    gw.clock.advance(seconds=2)
    assert (await _try_login(gw, "olga", PASSWORD)).status == 303


async def test_a_guesser_cannot_lock_the_admin_out(gw: UiGateway) -> None:
    """Issue 14 finding 9: 5 failures locked `admin` out for 15 minutes, again and again."""
    for _ in range(40):  # a guesser who waits out every delay
        retry = await _try_login(gw, "anna", "nope-nope-nope")
        if retry.status == 429:
            gw.clock.advance(seconds=int(retry.headers["Retry-After"]))
            assert (await _try_login(gw, "anna", "nope-nope-nope")).status == 401
    blocked = await _try_login(gw, "anna", PASSWORD)
    assert blocked.status == 429 and int(blocked.headers["Retry-After"]) <= 60  # ui.login_max_delay_seconds
    gw.clock.advance(seconds=60)
    assert (await _try_login(gw, "anna", PASSWORD)).status == 303


async def test_a_successful_login_clears_the_account_count(gw: UiGateway) -> None:
    for _ in range(4):
        assert (await _try_login(gw, "olga", "nope-nope-nope")).status == 401
    assert (await _try_login(gw, "olga", PASSWORD)).status == 303
    assert (await _try_login(gw, "olga", "nope-nope-nope")).status == 401
    assert (await _try_login(gw, "olga", PASSWORD)).status == 303


async def test_one_address_guessing_many_accounts_is_throttled(gw: UiGateway) -> None:
    for i in range(20):  # 4 x ui.login_max_failures, each account below its own limit
        assert (await _try_login(gw, f"guess-{i % 5}", "nope-nope-nope")).status == 401
    assert (await _try_login(gw, "olga", PASSWORD)).status == 429


async def test_session_cookie_flags_and_logout(gw: UiGateway) -> None:
    csrf = csrf_of(await (await gw.client.get("/ui/login")).text())
    resp = await gw.client.post(
        "/ui/login", data={"username": "olga", "password": PASSWORD, "csrf": csrf}, allow_redirects=False
    )
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/ui" in cookie
    assert "Secure" not in cookie  # plain http in the test; "auto" sets it behind https
    page = await gw.client.get("/ui/overview")
    assert page.status == 200
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    resp = await gw.client.post("/ui/logout", data={"csrf": csrf_of(await page.text())}, allow_redirects=False)
    assert resp.status == 303
    assert (await gw.client.get("/ui/overview", allow_redirects=False)).status == 302


async def test_login_without_csrf_is_refused(gw: UiGateway) -> None:
    await gw.client.get("/ui/login")
    resp = await gw.client.post("/ui/login", data={"username": "olga", "password": PASSWORD}, allow_redirects=False)
    assert resp.status == 403


async def test_overview_numbers_equal_the_journal(gw: UiGateway) -> None:
    await gw.login("victor")
    html = await (await gw.client.get("/ui/overview?from=2026-11-01&to=2026-11-30")).text()
    counts = await gw.journal.counts_by_state()
    assert _field(html, "received") == sum(counts.values()) == len(gw.seeded.ids)
    assert _field(html, "registered") == counts[State.REGISTERED]
    assert _field(html, "failed") == counts[State.FAILED]
    assert _field(html, "rejected") == counts[State.REJECTED]
    assert _field(html, "awaiting") == counts[State.SENT] + counts[State.RECONCILING]
    assert _field(html, "dead") == counts[State.DEAD]
    assert _field(html, "reconciled") == gw.seeded.paths["reconciled"]
    assert "<svg" in html and 'role="img"' in html
    # failed by code, from the seeded plan
    assert re.search(r"INVALID_SIGNATURE</a></td><td class=\"num\">2</td>", html)
    # a period before the data shows zeros
    html = await (await gw.client.get("/ui/overview?from=2025-01-01&to=2025-01-31")).text()
    assert _field(html, "received") == 0


async def test_rejections_and_returns(gw: UiGateway) -> None:
    await gw.login("victor")
    html = await (await gw.client.get("/ui/rejections?from=2026-11-01&to=2026-11-30")).text()
    for cat, n in {"late": 1, "duplicate": 1, "role": 1, "invalid_signature": 0, "other": 0}.items():
        assert re.search(rf'data-category="{cat}">{n}<', html), cat
    # region 50: 2 returns / (3 registered + retry + ... referrals of kind 121): see the seed plan
    table = html.split('id="returns-highest"')[1].split("</table>")[0]
    first_region = re.search(r'<th scope="row">(\w+)</th>', table)
    assert first_region and first_region.group(1) == "50"


async def test_search_by_snils_shows_it_masked(gw: UiGateway) -> None:
    await gw.login("victor")
    csrf = await gw.csrf("/ui/messages")
    resp = await gw.client.post("/ui/messages", data={"csrf": csrf, "patient_id": PATIENT_SNILS})
    html = await resp.text()
    assert "uid-patient-doc" in html
    assert html.count('<a href="/ui/messages/') == 1
    assert "***-***-*** 95" in html
    assert "112-233-445" not in html and "11223344595" not in html


async def test_detail_masks_personal_data(gw: UiGateway) -> None:
    await gw.login("victor")
    sid = gw.seeded.ids["reg-77-0"]
    html = await (await gw.client.get(f"/ui/messages/{sid}")).text()
    assert "ClinicalDocument" in html  # the envelope is shown, pretty-printed
    assert "Иванов" not in html and "Пётр" not in html and "112-233-445" not in html
    assert "viewer-note" in html and "do-resend" not in html
    # viewers do not download raw envelopes
    env = re.search(r"/envelopes/(\d+)", html)
    assert env is None


async def test_viewer_cannot_resend(gw: UiGateway) -> None:
    await gw.login("victor")
    sid = gw.seeded.ids["dead-0"]
    csrf = await gw.csrf(f"/ui/messages/{sid}")
    resp = await gw.client.post(f"/ui/messages/{sid}/resend", data={"csrf": csrf, "comment": "try"})
    assert resp.status == 403
    assert (await gw.journal.get(sid)).state is State.DEAD


async def test_post_without_csrf_is_refused(gw: UiGateway) -> None:
    await gw.login("olga")
    sid = gw.seeded.ids["dead-0"]
    resp = await gw.client.post(f"/ui/messages/{sid}/resend", data={"comment": "no token"})
    assert resp.status == 403
    resp = await gw.client.post(f"/ui/messages/{sid}/resend", data={"comment": "forged", "csrf": "x" * 43})
    assert resp.status == 403
    assert (await gw.journal.get(sid)).state is State.DEAD


async def test_operator_resend_is_audited_in_both_places(gw: UiGateway) -> None:
    await gw.login("olga")
    sid = gw.seeded.ids["dead-0"]
    csrf = await gw.csrf(f"/ui/messages/{sid}")
    before = gw.clock.now()
    resp = await gw.client.post(f"/ui/messages/{sid}/resend", data={"csrf": csrf, "comment": "peer fixed"})
    assert resp.status == 200 and resp.url.query.get("done") == "resend"
    sub = await gw.journal.get(sid)
    assert sub.state is State.QUEUED and sub.next_attempt_at == before
    last = (await gw.journal.events(sid))[-1]
    assert (last.actor, last.from_state, last.to_state, last.message) == (
        "operator:olga",
        State.DEAD,
        State.QUEUED,
        "peer fixed",
    )
    html = await resp.text()
    assert "operator:olga" in html and "peer fixed" in html
    async with gw.journal.engine.connect() as conn:
        row = (await conn.execute(sa.select(ui_audit).where(ui_audit.c.action == "resend"))).one()
    assert (row.username, row.submission_id, row.from_state, row.to_state, row.outcome) == (
        "olga",
        sid,
        "DEAD",
        "QUEUED",
        "ok",
    )
    # a second resend does not apply (QUEUED) and is audited as refused
    resp = await gw.client.post(f"/ui/messages/{sid}/resend", data={"csrf": csrf, "comment": "again"})
    assert resp.url.query.get("done") == "refused"
    assert (await gw.journal.get(sid)).state is State.QUEUED


async def test_resolve_is_a_disposition_and_cancel_a_final_state(gw: UiGateway) -> None:
    await gw.login("olga")
    failed, dead = gw.seeded.ids["fail-77-0"], gw.seeded.ids["dead-0"]
    csrf = await gw.csrf(f"/ui/messages/{failed}")
    resp = await gw.client.post(f"/ui/messages/{failed}/resolve", data={"csrf": csrf, "comment": "sent on paper"})
    assert "sent on paper" in await resp.text()
    events = await gw.journal.events(failed)
    assert events[-1].code == "OPERATOR_RESOLVED" and events[-1].actor == "operator:olga"
    html = await (await gw.client.get("/ui/queues")).text()
    assert _field(html, "dead") == 2
    await gw.client.post(f"/ui/messages/{dead}/cancel", data={"csrf": csrf, "comment": "duplicate of another"})
    html = await (await gw.client.get("/ui/queues")).text()
    assert _field(html, "dead") == 1  # cancelled DEAD items no longer need attention
    cancelled = await gw.journal.get(dead)
    assert cancelled.state is State.CANCELLED and cancelled.outcome_code == "OPERATOR_CANCELLED"
    assert (await gw.journal.events(dead))[-1].to_state is State.CANCELLED
    # cancel does not apply to a registered document
    reg = gw.seeded.ids["reg-77-0"]
    resp = await gw.client.post(f"/ui/messages/{reg}/cancel", data={"csrf": csrf, "comment": "x"})
    assert resp.url.query.get("done") == "refused"


async def test_queues_page_counts(gw: UiGateway) -> None:
    await gw.login("victor")
    html = await (await gw.client.get("/ui/queues")).text()
    counts = await gw.journal.counts_by_state()
    for state in State:
        assert re.search(rf'data-state="{state}">{counts[state]}<', html), state
    assert _field(html, "retry") == counts[State.RETRY_WAIT] == 1


async def test_admin_sees_audit_viewer_does_not(gw: UiGateway) -> None:
    await gw.login("victor")
    assert (await gw.client.get("/ui/audit")).status == 403
    gw.client.session.cookie_jar.clear()
    await gw.login("anna")
    resp = await gw.client.get("/ui/audit")
    assert resp.status == 200 and "anna" in await resp.text()


async def test_language_switch(gw: UiGateway) -> None:
    await gw.login("victor")
    assert "Воронка доставки" in await (await gw.client.get("/ui/overview")).text()
    resp = await gw.client.get("/ui/lang?set=en&next=/ui/overview")
    html = await resp.text()
    assert "Delivery funnel" in html and '<html lang="en">' in html
    resp = await gw.client.get("/ui/lang?set=en&next=https://evil.example/", allow_redirects=False)
    assert resp.headers["Location"] == "/ui/overview"


async def test_language_from_accept_language_unless_chosen(gw: UiGateway) -> None:
    await gw.login("victor")
    pages = {}
    for accept in ("en-US,en;q=0.9", "ru-RU,ru;q=0.9,en;q=0.5", "de-DE", "de, en;q=0.2, ru;q=0.1"):
        resp = await gw.client.get("/ui/overview", headers={"Accept-Language": accept})
        pages[accept] = (resp.headers["Content-Language"], await resp.text())
        assert "Accept-Language" in resp.headers["Vary"]
    lang, html = pages["en-US,en;q=0.9"]
    assert lang == "en" and '<html lang="en">' in html and "Delivery funnel" in html
    lang, html = pages["ru-RU,ru;q=0.9,en;q=0.5"]
    assert lang == "ru" and '<html lang="ru">' in html and "Воронка доставки" in html
    assert pages["de-DE"][0] == "ru"  # neither language asked for: ui.default_language
    assert pages["de, en;q=0.2, ru;q=0.1"][0] == "en"  # quality values decide
    # the switch is an explicit choice and beats the header
    await gw.client.get("/ui/lang?set=ru&next=/ui/overview")
    resp = await gw.client.get("/ui/overview", headers={"Accept-Language": "en-US"})
    assert resp.headers["Content-Language"] == "ru" and '<html lang="ru">' in await resp.text()


async def test_default_language_is_configurable(tmp_path: Path) -> None:
    app = create_app(make_config(tmp_path).with_overrides(ui={"default_language": "en"}))
    async with TestClient(TestServer(app)) as client:
        for accept, expected in ((None, "en"), ("fr", "en"), ("ru", "ru")):
            headers = {"Accept-Language": accept} if accept else {}
            resp = await client.get("/ui/login", headers=headers)
            assert f'<html lang="{expected}">' in await resp.text(), accept


async def test_sla_page(gw: UiGateway) -> None:
    await gw.login("victor")
    html = await (await gw.client.get("/ui/sla?from=2026-11-01&to=2026-11-30")).text()
    assert 'id="sla-stages"' in html


async def test_flk_report_is_masked(gw: UiGateway) -> None:
    await gw.login("victor")
    html = await (await gw.client.get(f"/ui/messages/{gw.seeded.ids['rej-late']}")).text()
    assert "FLK_LATE" in html and "***-***-*** 95" in html
    assert "112-233-445" not in html


def test_embedded_base64_documents_are_not_shown() -> None:
    import base64

    from gateway.ui.render import masked_envelope

    inner = base64.b64encode(
        ("<ClinicalDocument>" + "Иванов 112-233-445 95 " * 20 + "</ClinicalDocument>").encode()
    ).decode()
    soap = f'<Envelope xmlns="urn:x"><Body><document>{inner}</document><data2>{inner}</data2></Body></Envelope>'
    shown = masked_envelope(soap.encode(), "application/soap+xml")
    assert inner not in shown and inner[:40] not in shown and "(base64 &lt;796 bytes" in shown


async def test_message_browser_pages_through_everything(gw: UiGateway) -> None:
    await gw.login("victor")
    csrf = await gw.csrf("/ui/messages")
    seen: list[str] = []
    data = {"csrf": csrf}
    for _ in range(10):
        html = await (await gw.client.post("/ui/messages", data=data)).text()
        seen += re.findall(r'<a href="/ui/messages/([0-9a-f-]{36})">', html)
        m = re.search(r'name="cursor" value="([^"]+)"', html)
        if m is None:
            break
        data = {"csrf": csrf, "cursor": m.group(1)}
    assert len(seen) == len(set(seen)) == len(gw.seeded.ids)
    # filters: a state and a kind
    html = await (await gw.client.post("/ui/messages", data={"csrf": csrf, "state": "DEAD"})).text()
    assert "uid-dead-0" in html and "uid-patient-doc" in html and "uid-reg-77-0" not in html
    html = await (await gw.client.post("/ui/messages", data={"csrf": csrf, "kind": "108"})).text()
    assert html.count('<a href="/ui/messages/') == 3
    bad = await gw.client.post("/ui/messages", data={"csrf": csrf, "cursor": "forged"})
    assert bad.status == 200


async def test_a_resubmitted_version_links_back_to_the_refused_one(gw: UiGateway) -> None:
    """Issue 18: a corrected document under the same localUid is version 2, linked on the page;
    the refused version's timeline names its successor; resending the superseded FAILED one is
    refused and audited."""
    import hashlib

    from gateway.journal.store import Changes
    from gateway.model import SubmissionDraft

    def draft(content: bytes) -> SubmissionDraft:
        return SubmissionDraft("mis-ui", "uid-ui-v", "121", "1.2.643.5.1.13.13.12.2.77.7973",
                               hashlib.sha256(content).hexdigest(), content, region="77")  # fmt: skip

    first, _ = await gw.journal.submit(draft(b"one"))
    now = gw.journal.clock.now()
    for state, changes in (
        (State.VALIDATED, Changes()),
        (State.QUEUED, Changes(next_attempt_at=now)),
        (State.SENT, Changes()),
        (State.FAILED, Changes(outcome_code="VALIDATION_ERROR")),
    ):
        await gw.journal.transition(first.id, state, actor="t", changes=changes)
    second, created = await gw.journal.submit(draft(b"two"))
    assert created and second.version == 2
    await gw.login("olga")
    html = await (await gw.client.get(f"/ui/messages/{second.id}")).text()
    assert 'id="version">2' in html and f'href="/ui/messages/{first.id}" id="supersedes"' in html
    old = await (await gw.client.get(f"/ui/messages/{first.id}")).text()
    assert "superseded by version 2" in old
    csrf = csrf_of(old)
    resp = await gw.client.post(f"/ui/messages/{first.id}/resend", data={"csrf": csrf, "comment": "try"})
    assert resp.url.query.get("done") == "refused" and 'id="flash"' in await resp.text()
    assert (await gw.journal.get(first.id)).state is State.FAILED
    async with gw.journal.engine.connect() as conn:
        audited = (
            await conn.execute(
                sa.select(ui_audit.c.action, ui_audit.c.outcome).where(ui_audit.c.submission_id == first.id)
            )
        ).all()
    assert [tuple(r) for r in audited] == [("resend", "refused")]


async def test_detail_page_says_where_archived_envelopes_went(gw: UiGateway, tmp_path: Path) -> None:
    from datetime import timedelta

    from gateway.journal.archive import ArchivePolicy

    await gw.login("victor")
    sid = gw.seeded.ids["reg-77-0"]
    assert "envelopes-" not in await (await gw.client.get(f"/ui/messages/{sid}")).text()
    later = gw.clock.now() + timedelta(days=1)
    done = await gw.journal.archive(later, policy=ArchivePolicy.ARCHIVE, directory=tmp_path / "cold", actor="t")
    assert done.submissions > 0
    state = await gw.journal.archive_state(sid)
    assert state is not None
    html = await (await gw.client.get(f"/ui/messages/{sid}")).text()
    assert state.ref in html and "Конверты перенесены в архив" in html

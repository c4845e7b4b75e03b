"""The operations console over real HTTP: filtered lists as GET URLs, grouped causes, CSV export
and bulk actions with a preview, each checked against the journal itself."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import sqlalchemy as sa

from gateway.model import State
from gateway.ui.schema import ui_audit

from .conftest import UiGateway, csrf_of

_ID = re.compile(r'<tr data-id="([0-9a-f-]{36})"')


def _total(html: str) -> int:
    m = re.search(r'data-total="(\d+)"', html)
    assert m, "no total on the page"
    return int(m.group(1))


def _ids(html: str) -> set[str]:
    return set(_ID.findall(html))


async def test_a_bookmarked_filter_url_reproduces_the_list(gw: UiGateway) -> None:
    await gw.login("victor")
    url = "/ui/list?state=FAILED&region=77&kind=121"
    first = await (await gw.client.get(url)).text()
    expected = {gw.seeded.ids["fail-77-0"], gw.seeded.ids["fail-77-1"]}
    assert _ids(first) == expected and _total(first) == 2
    # the form shows the filter it came from, so the page can be refined and re-bookmarked
    assert '<option value="FAILED" selected>' in first and 'name="region" size="4" value="77"' in first
    # the same URL in a new session (a colleague's browser) shows the same rows
    await gw.client.post("/ui/logout", data={"csrf": csrf_of(first)})
    await gw.login("olga")
    again = await (await gw.client.get(url)).text()
    assert _ids(again) == expected


async def test_filters_each_narrow_the_list(gw: UiGateway) -> None:
    await gw.login("victor")
    ids = gw.seeded.ids
    cases = {
        "q=uid-reg-50": {ids[f"reg-50-{i}"] for i in range(3)},  # localUid prefix
        "q=1.2.643.5.1.13.13.12.2.50&kind=108": {ids["ret-50-0"], ids["ret-50-1"]},  # OID prefix
        "code=SCHEMA_ERROR": {ids["fail-50-0"]},
        "view=needs-operator": {ids["dead-0"], ids["patient-doc"]},
        "state=SENT&state=RECONCILING": {ids["sent-0"], ids["sent-1"], ids["reconciling-0"]},
        "peer=remd&state=QUEUED": {ids["queued-0"]},
        "mis=nobody": set(),
        "region=KZ": {ids["kz-0"]},
    }
    for query, expected in cases.items():
        html = await (await gw.client.get(f"/ui/list?{query}&per_page=100")).text()
        assert _ids(html) == expected, query
        assert _total(html) == len(expected), query
    # age: everything was seeded within a few hours of the start; 30 h later all is older than 24 h
    gw.clock.advance(hours=30)
    await gw.login("victor")  # the session idled out meanwhile
    html = await (await gw.client.get("/ui/list?age=24&per_page=100")).text()
    assert _total(html) == len(ids)
    html = await (await gw.client.get("/ui/list?age=100&per_page=100")).text()
    assert _total(html) == 0


async def test_pagination_walks_every_row_once(gw: UiGateway) -> None:
    await gw.login("victor")
    seen: list[str] = []
    url = "/ui/list?per_page=7"
    pages = 0
    while url:
        html = await (await gw.client.get(url)).text()
        assert _total(html) == len(gw.seeded.ids)
        seen += _ID.findall(html)
        pages += 1
        nxt = re.search(r'rel="next" href="([^"]+)"', html)
        url = nxt.group(1).replace("&amp;", "&") if nxt else ""
    assert sorted(seen) == sorted(gw.seeded.ids.values()) and pages == -(-len(gw.seeded.ids) // 7)


async def test_non_final_rows_show_age_and_since(gw: UiGateway) -> None:
    gw.clock.advance(hours=2)
    await gw.login("victor")
    html = await (await gw.client.get("/ui/list?view=needs-operator")).text()
    row = html[html.index(f'data-id="{gw.seeded.ids["dead-0"]}"') :].split("</tr>")[0]
    assert re.search(r"<td>\d\d:\d\d</td>", row)  # age
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC \(\d\d:\d\d\)", row)  # in this state since
    assert "mis-alpha" in row and "1.2.643.5.1.13.13.12.2.77.7973" in row and "HTTP_503" in row


async def test_causes_are_grouped_and_explained(gw: UiGateway) -> None:
    await gw.login("victor")
    html = await (await gw.client.get("/ui/list?state=FAILED")).text()
    sums = re.sub(r"<[^>]+>", "", html[html.index('class="cause-sum"') :].split("</p>")[0])
    assert re.sub(r"\s+", " ", sums).strip().endswith("3 Отказ узла = 2 INVALID_SIGNATURE + 1 SCHEMA_ERROR")
    # each code links to its own list
    assert "state=FAILED&amp;code=INVALID_SIGNATURE" in html
    # an HTTP code is explained by its class, in both languages
    await gw.client.get("/ui/lang?set=en&next=/ui/overview")
    html = await (await gw.client.get("/ui/list?state=FAILED")).text()
    assert "Failed" in html and "The code is not in the peer&#39;s table" in html


async def test_csv_export_is_the_whole_filtered_list(gw: UiGateway) -> None:
    await gw.login("victor")
    resp = await gw.client.get("/ui/list.csv?state=REGISTERED&per_page=2")
    assert resp.status == 200 and resp.content_type == "text/csv"
    rows = list(csv.DictReader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
    registered = (await gw.journal.counts_by_state())[State.REGISTERED]
    assert len(rows) == registered  # every page, not the first
    assert {r["state"] for r in rows} == {"REGISTERED"}


async def test_the_outcome_message_is_in_the_readers_language_in_the_list_and_csv(gw: UiGateway) -> None:
    """An operator's cancel is an outcome the gateway words itself: journalled in both languages,
    the CSV's outcome_message column and the list's code cell say it in the UI's language."""
    from gateway.ui.actions import Action, perform

    sid = gw.seeded.ids["dead-0"]
    await perform(gw.journal, sid, Action.CANCEL, username="olga", comment="duplicate of another referral")
    await gw.login("victor")

    async def exported() -> dict[str, str]:
        resp = await gw.client.get("/ui/list.csv?state=CANCELLED")
        rows = list(csv.DictReader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
        return {r["id"]: r["outcome_message"] for r in rows}

    await gw.client.get("/ui/lang?set=ru&next=/ui/overview")
    assert (await exported())[sid] == "отменено оператором шлюза"
    html = await (await gw.client.get("/ui/list?state=CANCELLED")).text()
    assert 'title="отменено оператором шлюза">OPERATOR_CANCELLED<' in html
    await gw.client.get("/ui/lang?set=en&next=/ui/overview")
    assert (await exported())[sid] == "cancelled by the gateway operator"
    html = await (await gw.client.get("/ui/list?state=CANCELLED")).text()
    assert 'title="cancelled by the gateway operator"' in html and "отменено" not in html
    # the MIS's notice still carries the journalled message, as before
    assert (await gw.journal.get(sid)).outcome_message == "cancelled by the gateway operator"


async def test_bulk_resend_of_a_filter_with_preview_and_audit(gw: UiGateway) -> None:
    await gw.login("olga")
    page = await (await gw.client.get("/ui/list?view=needs-operator")).text()
    csrf = csrf_of(page)
    resp = await gw.client.post(
        "/ui/bulk/preview", data={"csrf": csrf, "filter": "view=needs-operator", "scope": "filter", "action": "resend"}
    )
    html = await resp.text()
    assert 'data-applicable="2"' in html and "2 документов будут отправлены повторно" in html
    ids = re.search(r'name="ids" value="([^"]*)"', html)
    assert ids and set(ids.group(1).split(",")) == {gw.seeded.ids["dead-0"], gw.seeded.ids["patient-doc"]}
    # no comment: nothing happens
    resp = await gw.client.post(
        "/ui/bulk/apply", data={"csrf": csrf, "action": "resend", "ids": ids.group(1), "filter": "view=needs-operator"}
    )
    assert resp.url.query.get("done") == "comment"
    assert (await gw.journal.get(gw.seeded.ids["dead-0"])).state is State.DEAD
    resp = await gw.client.post(
        "/ui/bulk/apply",
        data={
            "csrf": csrf,
            "action": "resend",
            "ids": ids.group(1),
            "filter": "view=needs-operator",
            "comment": "peer up",
        },
    )
    assert resp.url.query.get("n") == "2" and resp.url.query.get("view") == "needs-operator"
    assert _total(await resp.text()) == 0
    for label in ("dead-0", "patient-doc"):
        sid = gw.seeded.ids[label]
        assert (await gw.journal.get(sid)).state is State.QUEUED
        assert (await gw.journal.events(sid))[-1].actor == "operator:olga"
    async with gw.journal.engine.connect() as conn:
        rows = (await conn.execute(sa.select(ui_audit).where(ui_audit.c.action.in_(["resend", "bulk-resend"])))).all()
    assert sorted(r.action for r in rows) == ["bulk-resend", "resend", "resend"]
    assert all(r.username == "olga" and "peer up" in (r.comment or "") for r in rows)


async def test_bulk_on_ticked_rows_counts_what_does_not_apply(gw: UiGateway) -> None:
    await gw.login("olga")
    csrf = await gw.csrf("/ui/list")
    ticked = [gw.seeded.ids["queued-0"], gw.seeded.ids["retry-0"], gw.seeded.ids["reg-77-0"]]
    resp = await gw.client.post(
        "/ui/bulk/preview",
        data=[("csrf", csrf), ("filter", ""), ("scope", "selected"), ("action", "cancel")]
        + [("id", i) for i in ticked],
    )
    html = await resp.text()
    assert 'data-applicable="2"' in html and 'data-matched="3"' in html and "1 Зарегистрирован" in html


async def test_a_viewer_cannot_preview_or_apply(gw: UiGateway) -> None:
    await gw.login("victor")
    csrf = await gw.csrf("/ui/list")
    for path in ("/ui/bulk/preview", "/ui/bulk/apply"):
        resp = await gw.client.post(path, data={"csrf": csrf, "action": "resend", "scope": "filter", "comment": "x"})
        assert resp.status == 403, path
    assert (await gw.journal.get(gw.seeded.ids["dead-0"])).state is State.DEAD


async def test_needs_an_operator_is_counted_once_everywhere(gw: UiGateway) -> None:
    await gw.login("olga")
    dead = gw.seeded.ids["dead-0"]
    csrf = await gw.csrf(f"/ui/messages/{dead}")
    await gw.client.post(f"/ui/messages/{dead}/resolve", data={"csrf": csrf, "comment": "handled by phone"})
    period = "from=2026-11-01&to=2026-11-30"
    overview = await (await gw.client.get(f"/ui/overview?{period}")).text()
    queues = await (await gw.client.get("/ui/queues")).text()
    listed = await (await gw.client.get(f"/ui/list?view=needs-operator&{period}")).text()
    n_overview = int(re.search(r'data-field="dead">(\d+)<', overview).group(1))  # type: ignore[union-attr]
    n_queues = int(re.search(r'data-field="dead">(\d+)<', queues).group(1))  # type: ignore[union-attr]
    assert n_overview == n_queues == _total(listed) == 1
    assert int(re.search(r'data-field="closed">(\d+)<', overview).group(1)) == 1  # type: ignore[union-attr]


async def test_overview_tiles_link_to_lists_with_the_same_count(gw: UiGateway) -> None:
    await gw.login("victor")
    html = await (await gw.client.get("/ui/overview?from=2026-11-01&to=2026-11-30")).text()
    for name in ("received", "registered", "reconciled", "failed", "rejected", "awaiting", "in_progress", "dead"):
        link = re.search(rf'href="([^"]+)" data-link="{name}"', html)
        assert link, name
        shown = int(re.search(rf'data-field="{name}">(\d+)<', html).group(1))  # type: ignore[union-attr]
        listed = await (await gw.client.get(link.group(1).replace("&amp;", "&"))).text()
        assert _total(listed) == shown, name
    # a per-region cell and a per-code row land on their lists too
    region_cell = re.search(r'href="(/ui/list\?[^"]*region=50[^"]*)">(\d+)</a>', html)
    assert region_cell
    assert _total(await (await gw.client.get(region_cell.group(1).replace("&amp;", "&"))).text()) == int(
        region_cell.group(2)
    )


async def test_rejection_categories_link_to_their_lists(gw: UiGateway) -> None:
    await gw.login("victor")
    html = await (await gw.client.get("/ui/rejections?from=2026-11-01&to=2026-11-30")).text()
    link = re.search(r'href="(/ui/list\?state=REJECTED&amp;category=duplicate[^"]*)"', html)
    assert link
    listed = await (await gw.client.get(link.group(1).replace("&amp;", "&"))).text()
    assert _ids(listed) == {gw.seeded.ids["rej-dup"]}


async def test_sla_and_audit_exports(gw: UiGateway) -> None:
    await gw.login("anna")
    resp = await gw.client.get("/ui/audit.csv")
    assert resp.status == 200
    rows = list(csv.DictReader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
    assert any(r["action"] == "login" and r["username"] == "anna" for r in rows)
    resp = await gw.client.get("/ui/sla.csv?from=2026-11-01&to=2026-11-30")
    assert resp.status == 200 and (await resp.read()).decode("utf-8-sig").startswith("stage,id,local_uid")
    await gw.login("victor")
    assert (await gw.client.get("/ui/audit.csv")).status == 403


async def test_unattributed_peer_message_listed_and_attached(gw: UiGateway) -> None:
    from gateway.journal.inbox import Inbox
    from gateway.model import EnvelopeIn

    body = b'<?xml version="1.0"?><callback><localUid>uid-dead-0</localUid><snils>112-233-445 95</snils></callback>'
    inbox = Inbox(gw.journal)
    assert await inbox.unattributed(
        peer="remd", peer_message_id="m-1", relates_to="urn:uuid:nothing-we-sent", local_uid="uid-dead-0",
        envelopes=[EnvelopeIn("in", "remd", "application/xml", body)],
    )  # fmt: skip
    (entry,) = await inbox.entries(kind="unattributed")
    await gw.login("victor")
    queues = await (await gw.client.get("/ui/queues")).text()
    assert 'data-field="unattributed">1<' in queues and 'href="/ui/unattributed"' in queues
    html = await (await gw.client.get("/ui/unattributed")).text()
    assert f'data-id="{entry.id}"' in html and "urn:uuid:nothing-we-sent" in html
    detail = await (await gw.client.get(f"/ui/unattributed/{entry.id}")).text()
    assert "callback" in detail and "112-233-445" not in detail  # shown masked
    assert 'id="attach-form"' not in detail  # a viewer may look, not attach
    resp = await gw.client.post(
        f"/ui/unattributed/{entry.id}/attach",
        data={"csrf": csrf_of(detail), "submission": "uid-dead-0", "comment": "x"},
    )
    assert resp.status == 403
    await gw.login("olga")
    csrf = await gw.csrf(f"/ui/unattributed/{entry.id}")
    resp = await gw.client.post(
        f"/ui/unattributed/{entry.id}/attach",
        data={"csrf": csrf, "submission": "uid-dead-0", "comment": "the late REMD callback for it"},
    )
    sid = gw.seeded.ids["dead-0"]
    assert str(resp.url).endswith(f"/ui/messages/{sid}?done=attached")
    last = (await gw.journal.events(sid))[-1]
    assert (last.kind, last.code, last.actor) == ("attached", "OPERATOR_ATTACHED", "operator:olga")
    envelopes = await gw.journal.envelopes(sid)
    assert await gw.journal.envelope_body(envelopes[-1].id) == body  # the exact bytes, now on the submission
    assert (await gw.journal.get(sid)).state is State.DEAD  # recorded, not applied
    (moved,) = await inbox.entries(kind="attached")
    assert moved.submission_id == sid and moved.event_id == last.id
    # attaching it again is refused, and nothing is added
    resp = await gw.client.post(
        f"/ui/unattributed/{entry.id}/attach", data={"csrf": csrf, "submission": sid, "comment": "again"}
    )
    assert resp.url.query.get("done") == "refused"
    assert (await gw.journal.events(sid))[-1].id == last.id
    async with gw.journal.engine.connect() as conn:
        audited = (await conn.execute(sa.select(ui_audit).where(ui_audit.c.action == "attach"))).all()
    assert [(a.username, a.submission_id) for a in audited] == [("olga", sid)]


async def test_admin_manages_users_and_disabling_ends_sessions(gw: UiGateway) -> None:
    import aiohttp

    from .conftest import PASSWORD

    # victor signs in in his own browser
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as victor:
        form = await (await victor.get(gw.client.make_url("/ui/login"))).text()
        await victor.post(
            gw.client.make_url("/ui/login"), data={"username": "victor", "password": PASSWORD, "csrf": csrf_of(form)}
        )
        assert (await victor.get(gw.client.make_url("/ui/overview"))).url.path == "/ui/overview"
        # an operator may not manage users
        await gw.login("olga")
        assert (await gw.client.get("/ui/users")).status == 403
        await gw.login("anna")
        page = await (await gw.client.get("/ui/users")).text()
        assert 'data-user="victor"' in page
        csrf = csrf_of(page)
        resp = await gw.client.post("/ui/users/victor/disable", data={"csrf": csrf})
        assert resp.url.query.get("done") == "disable"
        # his very next request finds no session
        after = await victor.get(gw.client.make_url("/ui/overview"))
        assert after.url.path == "/ui/login"
    # create, change role, reset password, enable — each audited
    resp = await gw.client.post(
        "/ui/users", data={"csrf": csrf, "username": "nina", "role": "viewer", "password": "nina's long password"}
    )
    assert resp.url.query.get("done") == "created"
    resp = await gw.client.post(
        "/ui/users", data={"csrf": csrf, "username": "nina", "role": "viewer", "password": "x" * 12}
    )
    assert resp.url.query.get("done") == "exists"
    await gw.client.post("/ui/users/nina/role", data={"csrf": csrf, "role": "operator"})
    await gw.client.post("/ui/users/nina/password", data={"csrf": csrf, "password": "another long password"})
    await gw.client.post("/ui/users/victor/enable", data={"csrf": csrf})
    resp = await gw.client.post("/ui/users/anna/disable", data={"csrf": csrf})
    assert resp.url.query.get("done") == "self"
    users = {u.username: u for u in await gw.users.list_users()}
    assert str(users["nina"].role) == "operator" and not users["victor"].disabled and not users["anna"].disabled
    assert await gw.users.verify("nina", "another long password") is not None
    async with gw.journal.engine.connect() as conn:
        rows = (await conn.execute(sa.select(ui_audit.c.action).where(ui_audit.c.action.like("user-%")))).all()
    assert sorted(r.action for r in rows) == [
        "user-create",
        "user-disable",
        "user-enable",
        "user-password",
        "user-role",
    ]


async def test_overview_trends_and_auto_refresh_switch(gw: UiGateway) -> None:
    await gw.login("victor")
    html = await (await gw.client.get("/ui/overview?from=2026-11-01&to=2026-11-30")).text()
    assert html.count('class="chart trend"') == 2
    received = len(gw.seeded.ids)
    assert f"Принято: {received}</text>" in html  # the legend's totals: every seeded arrival, per hour and day
    assert 'data-peer="remd"' in html
    assert '<meta http-equiv="refresh" content="60">' in html and 'id="updated-at"' in html
    resp = await gw.client.get("/ui/refresh?set=off&next=/ui/overview")
    html = await resp.text()
    assert resp.url.path == "/ui/overview" and 'http-equiv="refresh"' not in html and "выключено" in html
    resp = await gw.client.get("/ui/refresh?set=off&next=https://evil.example/")
    assert resp.url.path == "/ui/overview"  # no open redirect


async def test_funnel_bars_link_to_their_lists(gw: UiGateway) -> None:
    await gw.login("victor")
    html = await (await gw.client.get("/ui/overview?from=2026-11-01&to=2026-11-30")).text()
    svg = html[html.index('aria-labelledby="funnel-t') :].split("</svg>")[0]
    links = re.findall(r'<a href="([^"]+)">', svg)
    assert len(links) == 9
    dead = next(link for link in links if "view=needs-operator" in link)
    assert _total(await (await gw.client.get(dead.replace("&amp;", "&"))).text()) == 2


async def test_lists_name_organisations_from_the_register(tmp_path: Path) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from gateway.app import create_app
    from gateway.appkeys import JOURNAL_KEY
    from gateway.ui.users import Role, UserStore

    from .conftest import PASSWORD, make_config
    from .seed import ORG_50, ORG_77, StepClock, seed, start_time

    register = tmp_path / "frmo.tsv"
    register.write_text(f"oid\tname\n{ORG_77}\tГБУЗ «Городская поликлиника № 7»\n", encoding="utf-8")
    clock = StepClock(start_time())
    app = create_app(make_config(tmp_path).with_overrides(ui={"organisations_file": str(register)}), clock=clock)
    async with TestClient(TestServer(app)) as client:
        await seed(app[JOURNAL_KEY], clock)
        await UserStore(app[JOURNAL_KEY].engine, clock=clock).add("victor", PASSWORD, Role.VIEWER)
        form = await (await client.get("/ui/login")).text()
        await client.post("/ui/login", data={"username": "victor", "password": PASSWORD, "csrf": csrf_of(form)})
        html = await (await client.get("/ui/list?q=uid-dead-0")).text()
        assert "ГБУЗ «Городская поликлиника № 7»" in html and ORG_77 in html
        html = await (await client.get("/ui/list?q=uid-reg-50-0")).text()
        assert 'data-field="org-name"' not in html and ORG_50 in html  # not in the register: the OID
        rows = list(
            csv.DictReader(io.StringIO((await (await client.get("/ui/list.csv?region=77")).read()).decode("utf-8-sig")))
        )
        assert {r["organization_name"] for r in rows} == {"ГБУЗ «Городская поликлиника № 7»"}
        # an updated register is read without a restart
        register.write_text(f"oid\tname\n{ORG_50}\tГБУЗ МО «Больница 1001»\n", encoding="utf-8")
        html = await (await client.get("/ui/list?q=uid-reg-50-0")).text()
        assert "ГБУЗ МО «Больница 1001»" in html

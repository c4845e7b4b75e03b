"""The operator UI's pages (server-rendered with Jinja2, no script) as an aiohttp sub-application
mounted at /ui, so the API's own middlewares and routes stay as they are."""

from __future__ import annotations

import math
import secrets
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Final

import jinja2
import sqlalchemy as sa
from aiohttp import web

from gateway.appkeys import JOURNAL_KEY, WORKERS_KEY
from gateway.common.pii import mask_iin, mask_snils, mask_text, normalise_person_id
from gateway.documents.kinds import KIND_TABLE
from gateway.errors import NotFound
from gateway.inbound.contract import InboundReason, InboundState
from gateway.journal.inbound import InboundJournal
from gateway.journal.outcome_texts import event_message
from gateway.journal.schema import peer_inbox
from gateway.journal.store import InvalidCursor, Journal, SearchQuery
from gateway.model import State
from gateway.monitoring.ksi import KsiStage, ksi_report
from gateway.monitoring.stuck import stuck_counts, stuck_items, stuck_policy
from gateway.peers.mount import PEERS_KEY
from gateway.ui import actions, queries, trends
from gateway.ui.alerts import alert_rows
from gateway.ui.client_address import client_address
from gateway.ui.config import AlertsConfig
from gateway.ui.i18n import translate
from gateway.ui.lists import funnel_query
from gateway.ui.queries import read
from gateway.ui.render import masked_envelope, masked_json
from gateway.ui.session import (
    CSRF_FIELD,
    LANG_COOKIE,
    LOGIN_CSRF_COOKIE,
    PREFIX,
    SESSION_COOKIE,
    UI_KEY,
    current_language,
    current_session,
    is_https,
    require,
)
from gateway.ui.svg import bar_chart, line_chart, share_chart
from gateway.ui.users import Role
from gateway.ui.vendor import vendor_routes
from gateway.validation.contract import CATEGORIES, message_in_language, report_in_language

__all__ = ["ALERTS_CONFIG_KEY", "build_ui_app", "forbidden"]

ALERTS_CONFIG_KEY: Final = web.AppKey("ui_alerts_config", AlertsConfig)
_TEMPLATES: Final = Path(__file__).with_name("templates")
STATIC_DIR: Final = Path(__file__).with_name("static")
_ENV: Final = jinja2.Environment(
    loader=jinja2.FileSystemLoader(_TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_DEFAULT_DAYS: Final = 30
_VENDOR_UPLOAD: Final = 9 * 1024 * 1024  # the vendor page's upload (8 MiB) and its form
_FUNNEL_FIELDS: Final = (
    "received",
    "registered",
    "reconciled",
    "failed",
    "rejected",
    "awaiting",
    "in_progress",
    "dead",
    "closed",
)

_KINDS: Final = sorted((k for k in KIND_TABLE.values() if k.submitted), key=lambda k: k.code)  # submissions
REFRESH_COOKIE: Final = "mseg_refresh"
_REFRESH_SECONDS: Final = 60

routes = web.RouteTableDef()


# ------------------------------------------------------------------------------------- helpers


def _fmt_dt(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def _fmt_share(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def _fmt_age(seconds: float) -> str:
    minutes = int(seconds // 60)
    days, rem = divmod(minutes, 1440)
    hours, mins = divmod(rem, 60)
    return f"{days} d {hours:02d}:{mins:02d}" if days else f"{hours:02d}:{mins:02d}"


def render(request: web.Request, template: str, *, status: int = 200, **context: Any) -> web.Response:
    lang = current_language(request)
    session = current_session(request)
    html = _ENV.get_template(template).render(
        t=lambda key: translate(lang, key),
        lang=lang,
        session=session,
        csrf_field=CSRF_FIELD,
        csrf=session.csrf_token if session else context.pop("login_csrf", ""),
        path=request.path_qs,
        prefix=PREFIX,
        fmt_dt=_fmt_dt,
        fmt_share=_fmt_share,
        fmt_age=_fmt_age,
        mask=mask_text,
        is_operator=session is not None and session.role.at_least(Role.OPERATOR),
        is_admin=session is not None and session.role.at_least(Role.ADMIN),
        all_kinds=_KINDS,
        refresh_seconds=0 if request.cookies.get(REFRESH_COOKIE) == "off" else _REFRESH_SECONDS,
        rendered_at=_journal(request).clock.now() if JOURNAL_KEY in request.config_dict else None,
        **context,
    )
    return web.Response(text=html, content_type="text/html", charset="utf-8", status=status)


def forbidden(request: web.Request, key: str) -> web.Response:
    return render(request, "error.html", status=403, message_key=key)


def _not_found(request: web.Request) -> web.Response:
    return render(request, "error.html", status=404, message_key="err.not_found")


def _journal(request: web.Request) -> Journal:
    return request.config_dict[JOURNAL_KEY]


def _parse_day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def period(request: web.Request) -> tuple[date, date, datetime, datetime]:
    """The period the page covers: ``from``..``to`` (inclusive dates, UTC), by default the last
    30 days up to today."""
    today = _journal(request).clock.now().astimezone(UTC).date()
    to = _parse_day(request.query.get("to")) or today
    frm = _parse_day(request.query.get("from")) or to - timedelta(days=_DEFAULT_DAYS - 1)
    if frm > to:
        frm, to = to, frm
    since = datetime.combine(frm, time.min, tzinfo=UTC)
    until = datetime.combine(to + timedelta(days=1), time.min, tzinfo=UTC)
    return frm, to, since, until


def _clean(value: str | None, limit: int = 200) -> str | None:
    value = (value or "").strip()
    return value[:limit] or None


# ----------------------------------------------------------------------------------- sign in/out


@routes.get("/")
async def index(_: web.Request) -> web.Response:
    raise web.HTTPFound(f"{PREFIX}/overview")


@routes.get("/login")
async def login_form(request: web.Request) -> web.Response:
    if current_session(request) is not None:
        raise web.HTTPFound(f"{PREFIX}/overview")
    return _login_page(request, failed=False)


def _login_page(request: web.Request, *, failed: bool, retry_after: float | None = None) -> web.Response:
    token = secrets.token_urlsafe(32)
    status = 429 if retry_after is not None else 401 if failed else 200
    minutes = None if retry_after is None else max(1, math.ceil(retry_after / 60))
    response = render(request, "login.html", status=status, failed=failed, throttled_minutes=minutes, login_csrf=token)
    if retry_after is not None:
        response.headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    _set_cookie(request, response, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


def _set_cookie(request: web.Request, response: web.StreamResponse, name: str, value: str, *, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PREFIX,
        httponly=True,
        samesite="Strict",
        secure=is_https(request, request.config_dict[UI_KEY].config),
    )


@routes.post("/login")
async def login(request: web.Request) -> web.Response:
    form = await request.post()
    username = str(form.get("username", ""))[:80]
    password = str(form.get("password", ""))
    state = request.config_dict[UI_KEY]
    store = state.user_store(request)
    throttle = state.login_throttle(request)
    keys = throttle.keys(username, client_address(request))
    journal = _journal(request)
    retry_after = throttle.retry_after(keys)
    if retry_after is not None:
        await actions.audit(journal.engine, journal, username=username or "?", action="login", outcome="throttled")
        return _login_page(request, failed=True, retry_after=retry_after)
    user = await store.verify(username, password) if username and password else None
    await actions.audit(
        journal.engine, journal, username=username or "?", action="login", outcome="ok" if user else "refused"
    )
    if user is None:
        throttle.failed(keys)
        return _login_page(request, failed=True)
    throttle.succeeded(username)
    token, _ = await store.open_session(user)
    response = web.HTTPSeeOther(f"{PREFIX}/overview")
    _set_cookie(request, response, SESSION_COOKIE, token, max_age=int(store.max_age.total_seconds()))
    response.del_cookie(LOGIN_CSRF_COOKIE, path=PREFIX)
    raise response


@routes.post("/logout")
async def logout(request: web.Request) -> web.Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await request.config_dict[UI_KEY].user_store(request).close_session(token)
    response = web.HTTPSeeOther(f"{PREFIX}/login")
    response.del_cookie(SESSION_COOKIE, path=PREFIX)
    raise response


@routes.get("/refresh")
async def switch_refresh(request: web.Request) -> web.Response:
    """Auto-refresh of the dashboards on (default) or off, remembered in a cookie."""
    target = request.query.get("next", f"{PREFIX}/overview")
    if not target.startswith(f"{PREFIX}/") or target.startswith("//"):  # no open redirect
        target = f"{PREFIX}/overview"
    response = web.HTTPFound(target)
    response.set_cookie(
        REFRESH_COOKIE, "off" if request.query.get("set") == "off" else "on", max_age=365 * 86400, path=PREFIX,
        samesite="Strict", httponly=True,
    )  # fmt: skip
    raise response


@routes.get("/lang")
async def switch_language(request: web.Request) -> web.Response:
    lang = request.query.get("set", "ru")
    target = request.query.get("next", f"{PREFIX}/overview")
    if not target.startswith(f"{PREFIX}/") or target.startswith("//"):  # no open redirect
        target = f"{PREFIX}/overview"
    response = web.HTTPFound(target)
    if lang in ("ru", "en"):
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, path=PREFIX, samesite="Strict", httponly=True)
    raise response


# ------------------------------------------------------------------------------------ dashboards


@routes.get("/overview")
async def overview_page(request: web.Request) -> web.Response:
    frm, to, since, until = period(request)
    kind = _clean(request.query.get("kind"), 40)
    region = _clean(request.query.get("region"), 20)
    journal = _journal(request)
    now = journal.clock.now()
    async with read(journal.engine) as conn:
        data = await queries.overview(conn, since=since, until=until, kind=kind, region=region)
        stuck = await stuck_counts(conn, stuck_policy(request.config_dict), now)
        hourly = await trends.trend(conn, since=now - timedelta(hours=47), until=now + timedelta(hours=1), unit="hour")
        daily = await trends.trend(conn, since=since, until=min(until, now + timedelta(days=1)), unit="day")
        per_peer = await trends.peer_trends(conn, since=since, until=until)
    lang = current_language(request)
    f = data.total
    chart = bar_chart(
        translate(lang, "funnel.chart"),
        [(translate(lang, f"funnel.{name}"), getattr(f, name), f"bar-{name}") for name in _FUNNEL_FIELDS],
        chart_id="funnel",
        links=[
            f"{PREFIX}/list?" + funnel_query(name, since=frm, until=to, kind=kind, region=region)
            for name in _FUNNEL_FIELDS
        ],
    )

    charts = {
        name: line_chart(
            translate(lang, f"trend.{name}"),
            t.buckets,
            [(translate(lang, f"funnel.{s}"), t.series[s], f"s-{s}") for s in trends.SERIES],
            chart_id=f"trend-{name}",
        )
        for name, t in (("hourly", hourly), ("daily", daily))
    }

    def funnel(name: str, **more: Any) -> str:
        base: dict[str, Any] = {"kind": kind, "region": region, **more}
        return funnel_query(name, since=frm, until=to, **base)

    return render(
        request, "overview.html", data=data, chart=chart, fields=_FUNNEL_FIELDS, frm=frm, to=to,
        kind=kind or "", region=region or "", stuck_total=sum(stuck.values()), funnel=funnel,
        trend_charts=charts, per_peer=per_peer, refreshing=True,
    )  # fmt: skip


@routes.get("/rejections")
async def rejections_page(request: web.Request) -> web.Response:
    frm, to, since, until = period(request)
    async with read(_journal(request).engine) as conn:
        total, per_region = await queries.rejections(conn, since=since, until=until)
        returns = await queries.returns_by_region(conn, since=since, until=until)
    lang = current_language(request)
    chart = bar_chart(
        translate(lang, "rej.title"),
        [(translate(lang, f"cat.{c}"), total[c], "bar-rejected") for c in CATEGORIES],
        chart_id="rejections",
        links=[f"{PREFIX}/list?state=REJECTED&category={c}&from={frm}&to={to}" for c in CATEGORIES],
    )
    ranked = [r for r in returns if r.share is not None]
    return render(
        request, "rejections.html", total=total, per_region=per_region, categories=CATEGORIES, chart=chart,
        returns=returns, highest=ranked[:5], lowest=list(reversed(ranked[-5:])), frm=frm, to=to,
    )  # fmt: skip


@routes.get("/sla")
async def sla_page(request: web.Request) -> web.Response:
    frm, to, since, until = period(request)
    journal = _journal(request)
    async with read(journal.engine) as conn:
        report = await queries.sla_report(conn, since=since, until=until, now=journal.clock.now())
    return render(request, "sla.html", report=report, frm=frm, to=to)


@routes.get("/ksi")
async def ksi_page(request: web.Request) -> web.Response:
    frm, to, since, until = period(request)
    journal = _journal(request)
    async with read(journal.engine) as conn:
        report = await ksi_report(conn, now=journal.clock.now(), since=since, until=until)
    lang = current_language(request)
    days = sorted({d for stage in KsiStage for d, _, _ in report.series(stage)})
    lines = []
    for stage in KsiStage:
        points = {d: (w / m if m else None) for d, m, w in report.series(stage)}
        lines.append((translate(lang, f"stage.{stage}"), [(f"{d:%d.%m}", points.get(d)) for d in days]))
    chart = share_chart(translate(lang, "ksi.chart"), lines, chart_id="ksi-chart") if days else None
    return render(request, "ksi.html", report=report, stages=list(KsiStage), chart=chart, frm=frm, to=to)


_STUCK_LIMIT: Final = 200


@routes.get("/queues")
async def queues_page(request: web.Request) -> web.Response:
    journal = _journal(request)
    now = journal.clock.now()
    async with read(journal.engine) as conn:
        qs = await queries.queue_status(conn)
        errors = await queries.peer_errors(conn, since=now - timedelta(hours=1))
        policy = stuck_policy(request.config_dict)
        stuck = await stuck_items(conn, policy, now, limit=_STUCK_LIMIT)
        stuck_total = sum((await stuck_counts(conn, policy, now)).values())
        unattributed = int(
            (
                await conn.execute(
                    sa.select(sa.func.count()).select_from(peer_inbox).where(peer_inbox.c.kind == "unattributed")
                )
            ).scalar_one()
        )
    peers = []
    for name, peer in sorted(request.config_dict.get(PEERS_KEY, {}).items()):
        snap = peer.breaker.snapshot()
        err = errors.get(name)
        peers.append({"name": name, "snap": snap, "errors": err})
    return render(
        request, "queues.html", qs=qs, states=list(State), peers=peers, now=now,
        oldest_age=qs.oldest_age_seconds(now), stuck=stuck, stuck_total=stuck_total, refreshing=True,
        unattributed=unattributed,
    )  # fmt: skip


# ---------------------------------------------------------------------------------- messages


_PATIENT_LIMIT: Final = 500
_SEARCH_FIELDS: Final = ("local_uid", "emdr_id", "organization", "kind", "state", "from", "to", "patient_id")


@routes.get("/messages")
async def messages_form(request: web.Request) -> web.Response:
    """The search form and the newest submissions. Searches are POSTed: a SNILS/IIN must never
    appear in a URL (URLs end up in access logs and browser history)."""
    journal = _journal(request)
    items, cursor = await journal.search(SearchQuery(limit=request.config_dict[UI_KEY].config.page_size))
    return render(request, "messages.html", items=items, cursor=cursor, form=dict.fromkeys(_SEARCH_FIELDS, ""),
                  states=list(State), searched=False)  # fmt: skip


@routes.post("/messages")
async def messages_search(request: web.Request) -> web.Response:
    form_data = await request.post()
    form = {k: str(form_data.get(k, "")).strip()[:200] for k in _SEARCH_FIELDS}
    state = form["state"]
    since_day, until_day = _parse_day(form["from"]), _parse_day(form["to"])
    query = SearchQuery(
        local_uid=form["local_uid"] or None,
        peer_registration_id=form["emdr_id"] or None,
        organization_oid=form["organization"] or None,
        kind=form["kind"] or None,
        states=(State(state),) if state in State.__members__ else (),
        patient_id=form["patient_id"] or None,
        since=datetime.combine(since_day, time.min, tzinfo=UTC) if since_day else None,
        until=datetime.combine(until_day + timedelta(days=1), time.min, tzinfo=UTC) if until_day else None,
        cursor=str(form_data.get("cursor", "")) or None,
        # A patient has few documents: one page, so the identifier never travels in a form again.
        limit=_PATIENT_LIMIT if form["patient_id"] else request.config_dict[UI_KEY].config.page_size,
    )
    try:
        items, cursor = await _journal(request).search(query)
    except InvalidCursor:  # a forged or stale cursor: an empty page, not an error page
        items, cursor = [], None
    # The identifier is searched for, never echoed back: the form comes back with it masked.
    shown = dict(form)
    shown["patient_id"] = ""
    masked_id = _mask_person_id(form["patient_id"]) if form["patient_id"] else ""
    if form["patient_id"]:
        cursor = None
    return render(request, "messages.html", items=items, cursor=cursor, form=shown, masked_id=masked_id,
                  states=list(State), searched=True)  # fmt: skip


def _mask_person_id(value: str) -> str:
    digits = normalise_person_id(value)
    return mask_iin(digits) if len(digits) == 12 else mask_snils(digits)


def _report_of(events: list[Any]) -> dict[str, Any] | None:
    for ev in reversed(events):
        report = ev.details.get("report") if isinstance(ev.details, dict) else None
        if isinstance(report, dict):
            return report
    return None


@routes.get("/messages/{sid}")
async def message_detail(request: web.Request) -> web.Response:
    journal = _journal(request)
    sid = request.match_info["sid"]
    try:
        sub = await journal.get(sid)
    except NotFound:
        return _not_found(request)
    events = await journal.events(sid)
    envelopes = await journal.envelopes(sid)
    shown_envelopes = []
    for env in envelopes:
        body = await journal.envelope_body(env.id)
        shown_envelopes.append({"meta": env, "text": masked_envelope(body, env.content_type)})
    lang = current_language(request)
    report = _report_of(events)
    if report is not None:
        report = report_in_language(report, lang)
    timeline = [
        {
            "ev": ev,
            "message": mask_text(message_in_language(event_message(ev.message, ev.details, lang), report, lang) or ""),
            "details": masked_json(ev.details) if ev.details and "report" not in ev.details else "",
        }
        for ev in events
    ]
    findings = [
        {k: mask_text(str(v)) if v is not None else "" for k, v in f.items()} for f in (report or {}).get("flk", [])
    ]
    report_rest = masked_json({k: v for k, v in report.items() if k != "flk"}) if report else ""
    return render(
        request, "detail.html", sub=sub, timeline=timeline, envelopes=shown_envelopes, findings=findings,
        report=report, report_rest=report_rest, disposition=await actions.disposition(journal.engine, sid),
        audit=await actions.audit_entries(journal.engine, submission_id=sid), archived=await journal.archive_state(sid),
        flash=request.query.get("done", ""), resendable=sub.state in actions.RESENDABLE,
        cancellable=sub.state in actions.CANCELLABLE,
    )  # fmt: skip


@routes.get("/messages/{sid}/envelopes/{eid}")
async def envelope_download(request: web.Request) -> web.StreamResponse:
    """The exact bytes exchanged, for operators (they hold personal data: downloads are audited)."""
    session = require(request, Role.OPERATOR)
    if session is None:
        return forbidden(request, "err.forbidden")
    journal = _journal(request)
    sid = request.match_info["sid"]
    try:
        eid = int(request.match_info["eid"])
    except ValueError:
        return _not_found(request)
    metas = {e.id: e for e in await journal.envelopes(sid)}
    if eid not in metas:
        return _not_found(request)
    body = await journal.envelope_body(eid)
    await actions.audit(
        journal.engine, journal, username=session.username, action="download", outcome="ok", submission_id=sid,
        comment=f"envelope {eid}",
    )  # fmt: skip
    ext = "json" if "json" in metas[eid].content_type else "xml"
    return web.Response(
        body=body,
        content_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="envelope-{eid}.{ext}"'},
    )


@routes.post("/messages/{sid}/{action}")
async def message_action(request: web.Request) -> web.Response:
    session = require(request, Role.OPERATOR)
    if session is None:
        return forbidden(request, "err.forbidden")
    try:
        action = actions.Action(request.match_info["action"])
    except ValueError:
        return _not_found(request)
    form = await request.post()
    comment = str(form.get("comment", "")).strip()[:2000]
    sid = request.match_info["sid"]
    if not comment:
        raise web.HTTPSeeOther(f"{PREFIX}/messages/{sid}?done=comment")
    journal = _journal(request)
    try:
        result = await actions.perform(journal, sid, action, username=session.username, comment=comment)
    except NotFound:
        return _not_found(request)
    except actions.ActionRefused:
        raise web.HTTPSeeOther(f"{PREFIX}/messages/{sid}?done=refused") from None
    if result.to_state is State.QUEUED:
        sub = await journal.get(sid)
        loop = request.config_dict[WORKERS_KEY].get(f"delivery:{sub.destination}") if sub.destination else None
        if loop is not None:
            loop.wake()
    raise web.HTTPSeeOther(f"{PREFIX}/messages/{sid}?done={action}")


# ------------------------------------------------------------------------- inbound documents
# Documents addressed to our organisations: flagged ones wait here for an operator, who releases
# (offer to the MIS with the flag) or dismisses (keep, never offer) them, audited. No patient data
# is shown; reasons, events and envelopes are masked.

_INBOUND_LIMIT: Final = 200
_INBOUND_ACTIONS: Final = ("release", "dismiss")


def _inbound(request: web.Request) -> InboundJournal:
    return InboundJournal(_journal(request))


@routes.get("/inbound")
async def inbound_list(request: web.Request) -> web.Response:
    state = request.query.get("state", str(InboundState.FLAGGED))
    states = [InboundState(state)] if state in set(InboundState) else []
    reason = request.query.get("reason") or None
    inbound = _inbound(request)
    items = await inbound.listing(
        states=states, reason=reason if reason in set(InboundReason) else None, limit=_INBOUND_LIMIT
    )
    rows = [{"r": r, "reason_message": mask_text(r.reason_message or "")} for r in items]
    return render(
        request, "inbound.html", rows=rows, counts=await inbound.counts(), state=state if states else "",
        states=[str(s) for s in InboundState], reasons=[str(r) for r in InboundReason],
    )  # fmt: skip


@routes.get("/inbound/{iid}")
async def inbound_detail(request: web.Request) -> web.Response:
    inbound = _inbound(request)
    iid = request.match_info["iid"]
    record = await inbound.get(iid)
    if record is None:
        return _not_found(request)
    content = await inbound.content(iid)
    envelopes = [
        {"direction": e["direction"], "text": masked_envelope(e["body"], e["content_type"])}
        for e in (content.envelopes if content is not None else ())
    ]
    events = [
        {"e": e, "message": mask_text(e.message or ""), "details": masked_json(e.details) if e.details else ""}
        for e in await inbound.events(iid)
    ]
    return render(
        request, "inbound_detail.html", r=record, events=events, envelopes=envelopes,
        reason_message=mask_text(record.reason_message or ""),
        report=masked_json(record.report) if record.report else "",
        signatures=len(content.signatures) if content is not None else 0,
        flash=request.query.get("done", ""),
    )  # fmt: skip


@routes.post("/inbound/{iid}/{action}")
async def inbound_action(request: web.Request) -> web.Response:
    session = require(request, Role.OPERATOR)
    if session is None:
        return forbidden(request, "err.forbidden")
    action = request.match_info["action"]
    iid = request.match_info["iid"]
    if action not in _INBOUND_ACTIONS:
        return _not_found(request)
    form = await request.post()
    comment = str(form.get("comment", "")).strip()[:2000]
    if not comment:
        raise web.HTTPSeeOther(f"{PREFIX}/inbound/{iid}?done=comment")
    journal = _journal(request)
    inbound = InboundJournal(journal)
    record = await inbound.get(iid)
    if record is None:
        return _not_found(request)
    actor = actions.actor_name(session.username)
    try:
        if action == "release":
            await inbound.release(iid, actor, comment)
        else:
            await inbound.dismiss(iid, actor, comment)
        outcome = "ok"
    except ValueError:
        outcome = "refused"
    await actions.audit(
        journal.engine, journal, username=session.username, action=f"inbound-{action}", outcome=outcome,
        submission_id=iid, comment=comment,
    )  # fmt: skip
    if outcome == "refused":
        raise web.HTTPSeeOther(f"{PREFIX}/inbound/{iid}?done=refused")
    loop = request.config_dict[WORKERS_KEY].get("inbound-notifier")
    if loop is not None:
        loop.wake()
    raise web.HTTPSeeOther(f"{PREFIX}/inbound/{iid}?done={action}")


# ------------------------------------------------------------------------------- alerts, audit


@routes.get("/alerts")
async def alerts_page(request: web.Request) -> web.Response:
    config = request.config_dict[ALERTS_CONFIG_KEY]
    rows = await alert_rows(_journal(request).engine, config)
    return render(
        request, "alerts.html", rows=rows, now=_journal(request).clock.now(), webhook=bool(config.webhook_url),
        flash=request.query.get("done", ""), refreshing=True,
    )  # fmt: skip


@routes.get("/audit")
async def audit_page(request: web.Request) -> web.Response:
    if require(request, Role.ADMIN) is None:
        return forbidden(request, "err.forbidden")
    entries = await actions.audit_entries(_journal(request).engine, limit=500)
    return render(request, "audit.html", entries=entries)


def build_ui_app(*, middlewares: list[Any]) -> web.Application:
    """The /ui sub-application with its routes and static assets."""
    app = web.Application(middlewares=middlewares, client_max_size=_VENDOR_UPLOAD)
    app.router.add_routes(routes)
    app.router.add_routes(vendor_routes)
    app.router.add_static("/static", STATIC_DIR, append_version=True)
    return app

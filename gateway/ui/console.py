"""The operations console's pages: filtered lists as GET URLs (bookmarkable), their CSV export,
grouped causes, and bulk actions with a preview. Mounted into the /ui sub-application by
:func:`gateway.ui.setup.setup_ui`, next to :mod:`gateway.ui.web`'s pages."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Final
from urllib.parse import parse_qsl, urlencode

from aiohttp import web
from multidict import MultiDict

from gateway.appkeys import JOURNAL_KEY, WORKERS_KEY
from gateway.common.pii import mask_text
from gateway.errors import ConcurrentUpdate, NotFound
from gateway.journal.inbox import Inbox
from gateway.journal.store import Journal, SearchQuery
from gateway.model import FINAL_STATES, State
from gateway.monitoring.stuck import StuckPolicy, stuck_policy
from gateway.peers.codes import CodeTable
from gateway.peers.mount import INSTANCES_KEY
from gateway.peers.registry import PeerInstance
from gateway.ui import actions, alerts, bulk, queries
from gateway.ui.causes import group_causes
from gateway.ui.lists import COUNT_CAP, ListFilter, fetch_page, fetch_rows
from gateway.ui.organisations import OrganisationRegister
from gateway.ui.queries import read
from gateway.ui.render import masked_envelope
from gateway.ui.session import PREFIX, UI_KEY, current_language, require
from gateway.ui.unattributed import ATTACHED, UNATTRIBUTED, attach, entry, peer_refusals
from gateway.ui.users import Role, UserExists
from gateway.ui.web import ALERTS_CONFIG_KEY, forbidden, period, render

__all__ = ["routes"]

routes = web.RouteTableDef()
_CSV_LIMIT: Final = 100_000
_CSV_COLUMNS: Final = (
    "id", "local_uid", "source_system", "organization_oid", "region", "kind", "destination", "state",
    "attempts", "outcome_code", "created_at", "updated_at", "disposition",
)  # fmt: skip


def _journal(request: web.Request) -> Journal:
    return request.config_dict[JOURNAL_KEY]


def _instances(request: web.Request) -> dict[str, PeerInstance]:
    return request.config_dict.get(INSTANCES_KEY) or {}


def _tables(request: web.Request) -> Mapping[str, CodeTable]:
    return {name: inst.codes for name, inst in _instances(request).items()}


def _peer_names(request: web.Request) -> list[str]:
    return sorted(_instances(request))


def _filter_of(request: web.Request) -> ListFilter:
    return ListFilter.from_query(request.query, per_page=request.config_dict[UI_KEY].config.page_size)


def flash_of(request: web.Request) -> str:
    return request.query.get("done", "")


def _policy(request: web.Request) -> StuckPolicy:
    return stuck_policy(request.config_dict)


_REGISTERS: dict[str, OrganisationRegister] = {}


def _organisations(request: web.Request) -> dict[str, str]:
    path = request.config_dict[UI_KEY].config.organisations_file
    register = _REGISTERS.setdefault(path, OrganisationRegister(path))
    return register.names()


@routes.get("/list")
async def list_page(request: web.Request) -> web.Response:
    f = _filter_of(request)
    journal = _journal(request)
    now = journal.clock.now()
    async with read(journal.engine) as conn:
        page = await fetch_page(conn, f, now=now, stuck=_policy(request))
    return render(
        request, "list.html", page=page, f=f, now=now, states=list(State), final=FINAL_STATES,
        peers=_peer_names(request),
        causes=group_causes(page.causes, _tables(request), current_language(request)),
        flash=request.query.get("done", ""),
        org_names=_organisations(request),
        done_n=request.query.get("n", ""), done_refused=request.query.get("refused", ""),
        csv_url=f"{PREFIX}/list.csv?{f.query_string(page=1)}", refreshing=not flash_of(request),
        cap=COUNT_CAP, cap_text=f"{COUNT_CAP:,}".replace(",", "\u00a0"),
    )  # fmt: skip


@routes.get("/list.csv")
async def list_csv(request: web.Request) -> web.Response:
    """The whole filtered list (every page, up to 100 000 rows) as CSV, the outcome message in the
    reader's language. No column holds personal data by design; every value still goes through the
    masker, so a SNILS typed into a localUid (or quoted in a peer's message) is masked."""
    f = ListFilter.from_query(request.query, per_page=1)
    journal = _journal(request)
    now = journal.clock.now()
    rows: list[list[object]] = []
    names = _organisations(request)
    lang = current_language(request)
    async with read(journal.engine) as conn:
        async for chunk in fetch_rows(
            conn, replace(f, page=1, after=None, before=None), now=now, stuck=_policy(request)
        ):
            rows.extend(
                [*(getattr(row, c) for c in _CSV_COLUMNS), names.get(row.organization_oid), row.outcome_in(lang)]
                for row in chunk
            )
            if len(rows) >= _CSV_LIMIT:
                del rows[_CSV_LIMIT:]
                break
    # outcome_message last, in the reader's language (the UI's): added columns go at the end so
    # spreadsheets built on the earlier ones keep working
    return _csv_response((*_CSV_COLUMNS, "organization_name", "outcome_message"), rows, "submissions.csv")


def _csv_response(header: Sequence[str], rows: Iterable[Sequence[object]], filename: str) -> web.Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow(
            ["" if v is None else mask_text(v.isoformat() if isinstance(v, datetime) else str(v)) for v in row]
        )
    return web.Response(
        body=out.getvalue().encode("utf-8-sig"),  # the BOM makes spreadsheet programs read UTF-8
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@routes.get("/sla.csv")
async def sla_csv(request: web.Request) -> web.Response:
    """Every overdue item of the SLA page's period, both stages."""
    frm, to, since, until = period(request)
    journal = _journal(request)
    async with read(journal.engine) as conn:
        report = await queries.sla_report(
            conn, since=since, until=until, now=journal.clock.now(), overdue_limit=_CSV_LIMIT
        )
    rows = [
        (str(stage), i.id, i.local_uid, i.kind, i.region, i.state, i.started_at, i.deadline, i.done_at)
        for stage, s in report.stages.items()
        for i in s.overdue
    ]
    header = ("stage", "id", "local_uid", "kind", "region", "state", "received_at", "deadline", "done_at")
    return _csv_response(header, rows, f"sla-overdue-{frm}-{to}.csv")


@routes.get("/audit.csv")
async def audit_csv(request: web.Request) -> web.Response:
    """The operator audit trail (admins only, like the page)."""
    if require(request, Role.ADMIN) is None:
        return forbidden(request, "err.forbidden")
    entries = await actions.audit_entries(_journal(request).engine, limit=_CSV_LIMIT)
    header = ("at", "username", "action", "submission_id", "from_state", "to_state", "outcome", "comment")
    return _csv_response(header, ([e[c] for c in header] for e in entries), "audit.csv")


def _selection(form: Mapping[str, str], ids: list[str], per_page: int) -> ListFilter:
    """The filter the bulk form carries (its list's query string), narrowed to the ticked rows
    unless the operator chose the whole filter."""
    f = ListFilter.from_query(MultiDict(parse_qsl(form.get("filter", ""))), per_page=per_page)
    if form.get("scope") == "filter":
        return f
    return replace(f, ids=tuple(ids[: bulk.MAX_BULK]) or ("-",))


@routes.post("/bulk/preview")
async def bulk_preview(request: web.Request) -> web.Response:
    session = require(request, Role.OPERATOR)
    if session is None:
        return forbidden(request, "err.forbidden")
    data = await request.post()
    form = {k: str(v) for k, v in data.items() if k != "id"}
    try:
        action = actions.Action(form.get("action", ""))
    except ValueError:
        return forbidden(request, "err.not_found")
    ids = [str(v) for v in data.getall("id", [])]
    selection = _selection(form, ids, request.config_dict[UI_KEY].config.page_size)
    journal = _journal(request)
    plan = await bulk.preview(journal, action, selection, now=journal.clock.now(), stuck=_policy(request))
    back = f"{PREFIX}/list?{form.get('filter', '')}"
    return render(request, "bulk.html", plan=plan, back=back, filter_qs=form.get("filter", ""))


@routes.post("/bulk/apply")
async def bulk_apply(request: web.Request) -> web.Response:
    session = require(request, Role.OPERATOR)
    if session is None:
        return forbidden(request, "err.forbidden")
    data = await request.post()
    try:
        action = actions.Action(str(data.get("action", "")))
    except ValueError:
        return forbidden(request, "err.not_found")
    comment = str(data.get("comment", "")).strip()[:2000]
    filter_qs = str(data.get("filter", ""))
    ids = [i for i in str(data.get("ids", "")).split(",") if i][: bulk.MAX_BULK]
    if not comment:
        raise web.HTTPSeeOther(f"{PREFIX}/list?{_with(filter_qs, done='comment')}")
    journal = _journal(request)
    loops = request.config_dict[WORKERS_KEY]

    def wake(result: bulk.BulkResult) -> None:
        for destination in result.queued_destinations:
            loop = loops.get(f"delivery:{destination}")
            if loop is not None:
                loop.wake()

    result = await bulk.run(journal, action, ids, username=session.username, comment=comment, after_batch=wake)
    raise web.HTTPSeeOther(
        f"{PREFIX}/list?{_with(filter_qs, done=f'bulk-{action}', n=str(result.ok), refused=str(result.refused))}"
    )


def _with(qs: str, **extra: str) -> str:
    pairs = [(k, v) for k, v in parse_qsl(qs) if k not in extra and k != "page"]
    return urlencode(pairs + list(extra.items()))


# ------------------------------------------------------------------ unattributed peer messages


@routes.get("/unattributed")
async def unattributed_page(request: web.Request) -> web.Response:
    journal = _journal(request)
    peer = (request.query.get("peer") or "").strip()[:80] or None
    shown = request.query.get("kind") if request.query.get("kind") in (UNATTRIBUTED, ATTACHED) else UNATTRIBUTED
    entries = await Inbox(journal).entries(kind=shown, peer=peer, limit=500)
    refusals = await peer_refusals(journal, limit=100)
    return render(
        request, "unattributed.html", entries=entries, refusals=refusals, peer=peer or "", shown=shown,
        peers=_peer_names(request), flash=request.query.get("done", ""),
    )  # fmt: skip


@routes.get("/unattributed/{eid}")
async def unattributed_detail(request: web.Request) -> web.Response:
    journal = _journal(request)
    try:
        found, content_type = await entry(journal, request.match_info["eid"])
    except NotFound:
        return render(request, "error.html", status=404, message_key="err.not_found")
    body = await Inbox(journal).body(found.id)
    text = masked_envelope(body, content_type or "") if body else ""
    return render(request, "unattributed_detail.html", e=found, text=text, flash=request.query.get("done", ""))


@routes.post("/unattributed/{eid}/attach")
async def unattributed_attach(request: web.Request) -> web.Response:
    session = require(request, Role.OPERATOR)
    if session is None:
        return forbidden(request, "err.forbidden")
    eid = request.match_info["eid"]
    form = await request.post()
    comment = str(form.get("comment", "")).strip()[:2000]
    target = str(form.get("submission", "")).strip()[:200]
    back = f"{PREFIX}/unattributed/{eid}"
    if not comment or not target:
        raise web.HTTPSeeOther(f"{back}?done=comment")
    journal = _journal(request)
    sid = await _submission_named(journal, target)
    if sid is None:
        raise web.HTTPSeeOther(f"{back}?done=no-submission")
    try:
        await attach(journal, eid, sid, username=session.username, comment=comment)
    except NotFound:
        return render(request, "error.html", status=404, message_key="err.not_found")
    except ConcurrentUpdate:
        raise web.HTTPSeeOther(f"{back}?done=refused") from None
    raise web.HTTPSeeOther(f"{PREFIX}/messages/{sid}?done=attached")


async def _submission_named(journal: Journal, name: str) -> str | None:
    """A submission by its id, or by a localUid that names exactly one."""
    try:
        return (await journal.get(name)).id
    except NotFound:
        pass
    items, _ = await journal.search(SearchQuery(local_uid=name, limit=2))
    return items[0].id if len(items) == 1 else None


# ------------------------------------------------------------------------ alerts: ack, silence


@routes.post("/alerts/{name}/{verb}")
async def alert_action(request: web.Request) -> web.Response:
    session = require(request, Role.OPERATOR)
    if session is None:
        return forbidden(request, "err.forbidden")
    name, verb = request.match_info["name"], request.match_info["verb"]
    if verb not in ("ack", "silence", "unsilence"):
        return render(request, "error.html", status=404, message_key="err.not_found")
    form = await request.post()
    journal = _journal(request)
    config = request.config_dict[ALERTS_CONFIG_KEY]
    now = journal.clock.now()
    comment = str(form.get("comment", "")).strip()[:500]
    try:
        if verb == "ack":
            if not await alerts.acknowledge(journal.engine, config, name, username=session.username, now=now):
                raise web.HTTPSeeOther(f"{PREFIX}/alerts?done=refused")
        elif verb == "silence":
            if not comment:
                raise web.HTTPSeeOther(f"{PREFIX}/alerts?done=comment")
            try:
                hours = min(24 * 30, max(0.25, float(str(form.get("hours", "1")))))
            except ValueError:
                hours = 1.0
            until = now + timedelta(hours=hours)
            await alerts.silence(journal.engine, config, name, username=session.username, until=until,
                                 comment=comment, now=now)  # fmt: skip
        else:
            await alerts.silence(journal.engine, config, name, username=session.username, until=None,
                                 comment="", now=now)  # fmt: skip
    except alerts.NoSuchRule:
        return render(request, "error.html", status=404, message_key="err.not_found")
    await actions.audit(
        journal.engine, journal, username=session.username, action=f"alert-{verb}", outcome="ok",
        comment=f"{name}: {comment}" if comment else name,
    )  # fmt: skip
    raise web.HTTPSeeOther(f"{PREFIX}/alerts?done={verb}")


# ---------------------------------------------------------------------------- users (admins)


@routes.get("/users")
async def users_page(request: web.Request) -> web.Response:
    if require(request, Role.ADMIN) is None:
        return forbidden(request, "err.forbidden")
    found = await request.config_dict[UI_KEY].user_store(request).list_users()
    return render(request, "users.html", users=found, roles=list(Role), flash=request.query.get("done", ""))


@routes.post("/users")
async def users_create(request: web.Request) -> web.Response:
    session = require(request, Role.ADMIN)
    if session is None:
        return forbidden(request, "err.forbidden")
    form = await request.post()
    username = str(form.get("username", "")).strip()[:80]
    password = str(form.get("password", ""))
    role = str(form.get("role", ""))
    if not username or role not in Role.__members__.values():
        raise web.HTTPSeeOther(f"{PREFIX}/users?done=invalid")
    store = request.config_dict[UI_KEY].user_store(request)
    try:
        await store.add(username, password, Role(role))
    except UserExists:
        raise web.HTTPSeeOther(f"{PREFIX}/users?done=exists") from None
    except ValueError:
        raise web.HTTPSeeOther(f"{PREFIX}/users?done=password") from None
    await _audit_user(request, session.username, "user-create", f"{username} ({role})")
    raise web.HTTPSeeOther(f"{PREFIX}/users?done=created")


@routes.post("/users/{username}/{verb}")
async def users_change(request: web.Request) -> web.Response:
    session = require(request, Role.ADMIN)
    if session is None:
        return forbidden(request, "err.forbidden")
    username, verb = request.match_info["username"], request.match_info["verb"]
    form = await request.post()
    store = request.config_dict[UI_KEY].user_store(request)
    if verb in ("disable", "role") and username == session.username:
        raise web.HTTPSeeOther(f"{PREFIX}/users?done=self")  # an admin cannot lock themselves out
    if verb == "role":
        role = str(form.get("role", ""))
        if role not in Role.__members__.values():
            raise web.HTTPSeeOther(f"{PREFIX}/users?done=invalid")
        found, detail = await store.set_role(username, Role(role)), f"{username} -> {role}"
    elif verb == "password":
        try:
            found = await store.set_password(username, str(form.get("password", "")))
        except ValueError:
            raise web.HTTPSeeOther(f"{PREFIX}/users?done=password") from None
        detail = username
    elif verb in ("disable", "enable"):
        found, detail = await store.set_disabled(username, verb == "disable"), username
    else:
        return render(request, "error.html", status=404, message_key="err.not_found")
    if not found:
        return render(request, "error.html", status=404, message_key="err.not_found")
    await _audit_user(request, session.username, f"user-{verb}", detail)
    raise web.HTTPSeeOther(f"{PREFIX}/users?done={verb}")


async def _audit_user(request: web.Request, admin: str, action: str, detail: str) -> None:
    journal = _journal(request)
    await actions.audit(journal.engine, journal, username=admin, action=action, outcome="ok", comment=detail)

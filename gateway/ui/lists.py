"""Lists of submissions that answer an operator's questions: which, whose, since when, why.

A :class:`ListFilter` is read from a URL's query string and written back to one, so every list is a
bookmarkable GET URL; the UI page, its CSV export, the bulk actions, the operator API and the CLI
(``mse-gateway ops``) all select through :func:`conditions`, so "these 37 documents" means the same
rows everywhere. Personal identifiers (SNILS/IIN) are never a filter here: they are searched by
their keyed hash through the POSTed search form only.

**The one counting rule.** "Needs an operator" is a DEAD submission without an operator's
disposition (:func:`needs_operator`); the overview's tile, the queue page, the alert and the list
behind them all use it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.journal.schema import events, submissions
from gateway.model import FINAL_STATES, State
from gateway.monitoring.stuck import StuckPolicy
from gateway.ui.schema import ui_dispositions
from gateway.validation.contract import CATEGORIES

__all__ = [
    "FUNNEL_FILTERS",
    "MAX_PER_PAGE",
    "VIEWS",
    "ListFilter",
    "ListPage",
    "ListRow",
    "conditions",
    "count",
    "fetch_page",
    "funnel_query",
    "matching_ids",
    "needs_operator",
    "row_json",
    "undisposed",
]

_S = submissions.c
_D = ui_dispositions.c
MAX_PER_PAGE: Final = 500
# Named selections behind the dashboards' tiles.
VIEWS: Final = ("needs-operator", "stuck", "flagged", "closed")
_ORDERS: Final = ("new", "old")


_DISPOSED = ui_dispositions.alias("disposed")  # aliased: a list also joins ui_dispositions itself


def undisposed() -> sa.ColumnElement[bool]:
    """No operator has marked the submission resolved."""
    return ~sa.exists().where(_DISPOSED.c.submission_id == _S.id)


def needs_operator() -> sa.ColumnElement[bool]:
    """The one rule for "needs an operator": DEAD and not resolved by an operator."""
    return sa.and_(_S.state == str(State.DEAD), undisposed())


def _closed() -> sa.ColumnElement[bool]:
    """Closed by an operator: cancelled, or a DEAD one marked resolved."""
    return sa.or_(_S.state == str(State.CANCELLED), sa.and_(_S.state == str(State.DEAD), ~undisposed()))


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _text(raw: str | None, limit: int) -> str | None:
    value = (raw or "").strip()[:limit]
    return value or None


def _positive_int(raw: str | None, default: int, *, upper: int) -> int:
    try:
        value = int(raw) if raw else default
    except ValueError:
        return default
    return max(1, min(value, upper))


def _hours(raw: str | None) -> float | None:
    try:
        value = float(raw) if raw else None
    except ValueError:
        return None
    return value if value is not None and 0 < value < 1e6 else None


@dataclass(frozen=True)
class ListFilter:
    """What a list shows. Every field has a query parameter of the same meaning (see
    :meth:`from_query`); empty fields do not filter."""

    states: tuple[State, ...] = ()
    code: str | None = None  # the last code (outcome_code), exactly
    mis: str | None = None  # the sending system (source_system), exactly
    region: str | None = None
    kind: str | None = None
    peer: str | None = None  # destination
    q: str | None = None  # prefix of the localUid or of the organisation's OID
    min_age_hours: float | None = None  # received at least this long ago
    since: date | None = None  # received on or after this UTC day
    until: date | None = None  # received on or before this UTC day (inclusive)
    view: str | None = None  # one of VIEWS
    source: str | None = None  # how the outcome became known (outcome_source)
    category: str | None = None  # rejection category (gateway.validation.contract.CATEGORIES)
    order: str = "new"
    page: int = 1
    per_page: int = 50
    ids: tuple[str, ...] = field(default=(), compare=False)  # an explicit selection (bulk actions)

    @classmethod
    def from_query(cls, query: Mapping[str, str] | Any, *, per_page: int = 50) -> ListFilter:
        """Parse a query string (aiohttp's MultiDict or a plain mapping); unknown or malformed
        values are dropped rather than refused, so a hand-edited URL still shows a list."""
        getall = getattr(query, "getall", None)
        raw_states: list[str] = list(getall("state", [])) if getall else [query.get("state", "")]
        states = tuple(
            dict.fromkeys(State(s) for part in raw_states for s in str(part).split(",") if s in State.__members__)
        )
        view = query.get("view")
        order = query.get("order") or "new"
        return cls(
            states=states,
            code=_text(query.get("code"), 120),
            mis=_text(query.get("mis"), 200),
            region=_text(query.get("region"), 20),
            kind=_text(query.get("kind"), 40),
            peer=_text(query.get("peer"), 80),
            q=_text(query.get("q"), 200),
            min_age_hours=_hours(query.get("age")),
            since=_day(query.get("from")),
            until=_day(query.get("to")),
            view=view if view in VIEWS else None,
            source=_text(query.get("source"), 20),
            category=query.get("category") if query.get("category") in CATEGORIES else None,
            order=order if order in _ORDERS else "new",
            page=_positive_int(query.get("page"), 1, upper=1_000_000),
            per_page=_positive_int(query.get("per_page"), per_page, upper=MAX_PER_PAGE),
        )

    def params(self) -> list[tuple[str, str]]:
        """The query parameters that reproduce this filter (page and size included)."""
        out: list[tuple[str, str]] = [("state", str(s)) for s in self.states]
        for name, value in (
            ("code", self.code),
            ("mis", self.mis),
            ("region", self.region),
            ("kind", self.kind),
            ("peer", self.peer),
            ("q", self.q),
            ("age", f"{self.min_age_hours:g}" if self.min_age_hours else None),
            ("from", self.since.isoformat() if self.since else None),
            ("to", self.until.isoformat() if self.until else None),
            ("view", self.view),
            ("source", self.source),
            ("category", self.category),
            ("order", self.order if self.order != "new" else None),
            ("page", str(self.page) if self.page != 1 else None),
            ("per_page", str(self.per_page)),
        ):
            if value:
                out.append((name, value))
        return out

    def query_string(self, **changes: Any) -> str:
        return urlencode((replace(self, **changes) if changes else self).params())


# The list behind each tile of the overview's funnel (gateway.ui.queries.Funnel): the same partition.
FUNNEL_FILTERS: Final[Mapping[str, Mapping[str, Any]]] = {
    "received": {},
    "registered": {"states": (State.REGISTERED,)},
    "reconciled": {"states": (State.REGISTERED,), "source": "reconciled"},
    "failed": {"states": (State.FAILED,)},
    "rejected": {"states": (State.REJECTED,)},
    "awaiting": {"states": (State.SENT, State.RECONCILING)},
    "in_progress": {"states": (State.RECEIVED, State.VALIDATED, State.QUEUED, State.RETRY_WAIT)},
    "dead": {"view": "needs-operator"},
    "closed": {"view": "closed"},
}


def funnel_query(name: str, *, since: date, until: date, kind: str | None, region: str | None, **more: Any) -> str:
    """The query string of the list behind funnel tile ``name`` for the overview's period
    (inclusive UTC days) and filters."""
    values = {**FUNNEL_FILTERS[name], **more}
    return ListFilter(since=since, until=until, kind=kind or None, region=region or None, **values).query_string()


def conditions(f: ListFilter, *, now: datetime, stuck: StuckPolicy | None = None) -> list[sa.ColumnElement[bool]]:
    """The WHERE clauses of ``f`` (``stuck`` is needed for ``view=stuck``)."""
    out: list[sa.ColumnElement[bool]] = []
    if f.states:
        out.append(_S.state.in_([str(s) for s in f.states]))
    for column, value in (
        (_S.outcome_code, f.code),
        (_S.source_system, f.mis),
        (_S.region, f.region),
        (_S.kind, f.kind),
        (_S.destination, f.peer),
        (_S.outcome_source, f.source),
    ):
        if value is not None:
            out.append(column == value)
    if f.q:
        out.append(
            sa.or_(
                _S.local_uid.startswith(f.q, autoescape=True),
                _S.organization_oid.startswith(f.q, autoescape=True),
            )
        )
    if f.min_age_hours:
        out.append(_S.created_at <= now - timedelta(hours=f.min_age_hours))
    if f.since:
        out.append(_S.created_at >= datetime.combine(f.since, time.min, tzinfo=UTC))
    if f.until:
        out.append(_S.created_at < datetime.combine(f.until + timedelta(days=1), time.min, tzinfo=UTC))
    if f.view == "needs-operator":
        out.append(needs_operator())
    elif f.view == "flagged":
        out.append(sa.and_(_S.flagged.is_(True), undisposed()))
    elif f.view == "closed":
        out.append(_closed())
    elif f.view == "stuck":
        out.append((stuck or StuckPolicy()).condition(now))
    if f.category:
        out.append(_rejected_as(f.category))
    if f.ids:
        out.append(_S.id.in_(list(f.ids)))
    return out


def _rejected_as(category: str) -> sa.ColumnElement[bool]:
    """Rejected with this category, as the rejections page counts it (the REJECTED event's
    ``details.category``; an unknown one counts as "other")."""
    cat = events.c.details["category"].as_string()
    known = [c for c in CATEGORIES if c != "other"]
    match = sa.or_(cat.is_(None), cat.not_in(known)) if category == "other" else cat == category
    return sa.exists().where(events.c.submission_id == _S.id, events.c.to_state == str(State.REJECTED), match)


@dataclass(frozen=True, slots=True)
class ListRow:
    id: str
    local_uid: str
    source_system: str
    organization_oid: str
    region: str | None
    kind: str
    destination: str | None
    state: State
    attempts: int
    outcome_code: str | None
    flagged: bool
    created_at: datetime
    updated_at: datetime
    disposition: str | None

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    def age_seconds(self, now: datetime) -> float:
        return max(0.0, (now - self.created_at).total_seconds())

    def in_state_seconds(self, now: datetime) -> float:
        """How long it has been in its current state ("stuck since" ``updated_at``)."""
        return max(0.0, (now - self.updated_at).total_seconds())


def row_json(r: ListRow) -> dict[str, Any]:
    """A row as the operator API and ``ops list --json`` give it."""
    return {
        "id": r.id,
        "local_uid": r.local_uid,
        "source_system": r.source_system,
        "organization_oid": r.organization_oid,
        "region": r.region,
        "kind": r.kind,
        "peer": r.destination,
        "state": str(r.state),
        "attempts": r.attempts,
        "last_code": r.outcome_code,
        "disposition": r.disposition,
        "created_at": r.created_at.isoformat(),
        "state_since": r.updated_at.isoformat(),
    }


@dataclass(frozen=True)
class ListPage:
    rows: list[ListRow]
    total: int
    causes: list[tuple[str, str | None, int]]  # (state, code, count), largest first
    filter: ListFilter

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.filter.per_page))


_COLUMNS: Final = (
    _S.id, _S.local_uid, _S.source_system, _S.organization_oid, _S.region, _S.kind, _S.destination, _S.state,
    _S.attempts, _S.outcome_code, _S.flagged, _S.created_at, _S.updated_at,
)  # fmt: skip


async def count(conn: AsyncConnection, where: Sequence[sa.ColumnElement[bool]]) -> int:
    return int((await conn.execute(sa.select(sa.func.count()).select_from(submissions).where(*where))).scalar_one())


async def fetch_page(
    conn: AsyncConnection, f: ListFilter, *, now: datetime, stuck: StuckPolicy | None = None
) -> ListPage:
    """One page of the list, its total and its causes (state and last code, grouped)."""
    where = conditions(f, now=now, stuck=stuck)
    total = await count(conn, where)
    order = (_S.created_at.asc(), _S.id.asc()) if f.order == "old" else (_S.created_at.desc(), _S.id.desc())
    stmt = (
        sa.select(*_COLUMNS, _D.disposition)
        .select_from(submissions.outerjoin(ui_dispositions, _D.submission_id == _S.id))
        .where(*where)
        .order_by(*order)
        .limit(f.per_page)
        .offset((f.page - 1) * f.per_page)
    )
    rows = [
        ListRow(**{**r._mapping, "state": State(r.state), "flagged": bool(r.flagged)})
        for r in (await conn.execute(stmt)).all()
    ]
    grouped = sa.select(_S.state, _S.outcome_code, sa.func.count()).where(*where).group_by(_S.state, _S.outcome_code)
    causes = sorted(
        ((str(s), c, int(n)) for s, c, n in (await conn.execute(grouped)).all()),
        key=lambda x: (-x[2], x[0], x[1] or ""),
    )
    return ListPage(rows, total, causes, f)


async def matching_ids(
    conn: AsyncConnection, f: ListFilter, *, now: datetime, stuck: StuckPolicy | None = None, limit: int = 100_000
) -> list[str]:
    """Every id the filter selects (all pages), oldest first: what a bulk action acts on."""
    stmt = (
        sa.select(_S.id)
        .where(*conditions(f, now=now, stuck=stuck))
        .order_by(_S.created_at.asc(), _S.id.asc())
        .limit(limit)
    )
    return [str(r[0]) for r in (await conn.execute(stmt)).all()]

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

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from gateway.journal.schema import events, submissions
from gateway.model import FINAL_STATES, State, text_in
from gateway.monitoring.stuck import StuckPolicy
from gateway.ui.schema import ui_dispositions
from gateway.validation.contract import CATEGORIES

__all__ = [
    "COUNT_CAP",
    "FUNNEL_FILTERS",
    "MAX_PER_PAGE",
    "VIEWS",
    "ListFilter",
    "ListPage",
    "ListRow",
    "conditions",
    "count",
    "fetch_page",
    "fetch_rows",
    "funnel_query",
    "list_statements",
    "matching_ids",
    "needs_operator",
    "row_json",
    "row_key",
    "starts_with",
    "undisposed",
]

_S = submissions.c
_D = ui_dispositions.c
MAX_PER_PAGE: Final = 500
# Counts stop here: a list of more shows "more than 10 000" (and no grouped causes) instead of
# counting a million rows on every page view. It is also the most one bulk action takes
# (gateway.ui.bulk.MAX_BULK), so a count an operator can act on is always exact.
COUNT_CAP: Final = 10_000
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


def _key_text(raw: str | None) -> str | None:
    return raw.strip()[:120] if raw and _parse_key(raw) is not None else None


def row_key(created_at: datetime, sid: str) -> str:
    """A row's place in a list's order (created_at, then id), as a URL's cursor."""
    return f"{created_at.astimezone(UTC).isoformat()}~{sid}"


def _parse_key(raw: str) -> tuple[datetime, str] | None:
    at, sep, sid = raw.strip().partition("~")
    if not sep or not sid or len(sid) > 36:
        return None
    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)), sid


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
    # Keyset pagination: the page after (or before) the row with this key, "<created_at>~<id>"
    # (see :func:`row_key`); the page number is then only shown, not used to skip rows.
    after: str | None = None
    before: str | None = None
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
            after=_key_text(query.get("after")),
            before=_key_text(query.get("before")),
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
            ("after", self.after),
            ("before", self.before),
        ):
            if value:
                out.append((name, value))
        return out

    def query_string(self, **changes: Any) -> str:
        """The query string with ``changes``; a new page number without a cursor drops the cursor
        (``page=1`` is the list's first page, not "page 1 after this row")."""
        if "page" in changes and "after" not in changes and "before" not in changes:
            changes.update(after=None, before=None)
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
        out.append(sa.or_(starts_with(_S.local_uid, f.q), starts_with(_S.organization_oid, f.q)))
    if f.min_age_hours:
        out.append(_S.created_at <= now - timedelta(hours=f.min_age_hours))
    if f.since:
        out.append(_S.created_at >= datetime.combine(f.since, time.min, tzinfo=UTC))
    if f.until:
        out.append(_S.created_at < datetime.combine(f.until + timedelta(days=1), time.min, tzinfo=UTC))
    if f.view == "needs-operator":
        out.append(needs_operator())
    elif f.view == "flagged":
        out.append(sa.and_(_S.flagged == sa.true(), undisposed()))
    elif f.view == "closed":
        # The state range first, so the count and the causes seek those two states' rows instead
        # of scanning the (state, ...) index for the OR (0.37 s over 1,000,000 rows on SQLite).
        if not f.states:
            out.append(_S.state.in_([str(State.CANCELLED), str(State.DEAD)]))
        out.append(_closed())
    elif f.view == "stuck":
        out.append((stuck or StuckPolicy()).condition(now))
    if f.category:
        out.append(_rejected_as(f.category))
    if f.ids:
        out.append(_S.id.in_(list(f.ids)))
    return out


def starts_with(column: sa.ColumnElement[str], prefix: str) -> sa.ColumnElement[bool]:
    """``column`` begins with ``prefix`` (case-sensitive, on both databases), as a range an index
    can seek: ``prefix <= column < next(prefix)``, where next() raises the last character by one.
    In code-point order — SQLite's BINARY collation and PostgreSQL's ``text_pattern_ops``
    operators, which migration 0014's prefix indexes use — exactly the strings starting with
    ``prefix`` fall in that range. A ``LIKE 'prefix%'`` would do on PostgreSQL only with the
    pattern as a literal (not a bound parameter) and never on SQLite, whose LIKE ignores case."""
    last = ord(prefix[-1])
    if last >= 0x10FFFF or 0xD7FF <= last < 0xE000:  # no next character to bound the range by
        return column.startswith(prefix, autoescape=True)
    upper = prefix[:-1] + chr(last + 1)
    return sa.and_(
        _PrefixAtLeast(column, sa.literal(prefix, sa.String())), _PrefixBelow(column, sa.literal(upper, sa.String()))
    )


class _PrefixAtLeast(FunctionElement[Any]):
    """``column >= value`` compared by code point: PostgreSQL's ``~>=~`` (an operator of
    ``text_pattern_ops``), SQLite's own ``>=`` (BINARY collation)."""

    # Not Boolean: SQLite (no native boolean) would compare a Boolean-typed function with "= 1",
    # and SQLite seeks no index for "(x >= ?) = 1".
    type = sa.types.NullType()
    inherit_cache = True
    name = "prefix_at_least"


class _PrefixBelow(FunctionElement[Any]):
    """``column < value`` compared by code point: PostgreSQL's ``~<~``, SQLite's ``<``."""

    type = sa.types.NullType()
    inherit_cache = True
    name = "prefix_below"


def _binary(op: str) -> Any:
    def render(element: FunctionElement[Any], compiler: Any, **kw: Any) -> str:
        column, value = list(element.clauses)
        return f"{compiler.process(column, **kw)} {op} {compiler.process(value, **kw)}"

    return render


compiles(_PrefixAtLeast)(_binary(">="))
compiles(_PrefixBelow)(_binary("<"))
compiles(_PrefixAtLeast, "postgresql")(_binary("~>=~"))
compiles(_PrefixBelow, "postgresql")(_binary("~<~"))


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
    outcome_message: str | None = None
    outcome_text: Mapping[str, str] | None = None  # both languages when the gateway wrote it

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    def outcome_in(self, language: str) -> str | None:
        """The outcome message in ``language`` when it was journalled in both, else as journalled."""
        return text_in(self.outcome_text, language, self.outcome_message)

    def age_seconds(self, now: datetime) -> float:
        return max(0.0, (now - self.created_at).total_seconds())

    def in_state_seconds(self, now: datetime) -> float:
        """How long it has been in its current state ("stuck since" ``updated_at``)."""
        return max(0.0, (now - self.updated_at).total_seconds())


def row_json(r: ListRow, language: str = "en") -> dict[str, Any]:
    """A row as the operator API and ``ops list --json`` give it (``last_message`` in ``language``
    when the gateway wrote it in both, else as journalled)."""
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
        "last_message": r.outcome_in(language),
        "disposition": r.disposition,
        "created_at": r.created_at.isoformat(),
        "state_since": r.updated_at.isoformat(),
    }


@dataclass(frozen=True)
class ListPage:
    rows: list[ListRow]
    total: int  # exact up to COUNT_CAP; COUNT_CAP + 1 means "more than COUNT_CAP"
    causes: list[tuple[str, str | None, int]]  # (state, code, count), largest first; empty when capped
    filter: ListFilter
    has_next: bool = False
    has_prev: bool = False

    @property
    def capped(self) -> bool:
        """The list holds more than :data:`COUNT_CAP` rows: ``total`` is a lower bound."""
        return self.total > COUNT_CAP

    @property
    def pages(self) -> int:
        """Pages of the counted rows (of the first COUNT_CAP when capped)."""
        return max(1, -(-min(self.total, COUNT_CAP) // self.filter.per_page))

    def next_query(self) -> str:
        """The next page's query string: keyset (after the last row shown), never an OFFSET."""
        last = self.rows[-1]
        return self.filter.query_string(page=self.filter.page + 1, after=row_key(last.created_at, last.id), before=None)

    def prev_query(self) -> str:
        if self.filter.page <= 2:
            return self.filter.query_string(page=1)
        first = self.rows[0] if self.rows else None
        if first is None:
            return self.filter.query_string(page=1)
        return self.filter.query_string(
            page=self.filter.page - 1, before=row_key(first.created_at, first.id), after=None
        )


_COLUMNS: Final = (
    _S.id, _S.local_uid, _S.source_system, _S.organization_oid, _S.region, _S.kind, _S.destination, _S.state,
    _S.attempts, _S.outcome_code, _S.flagged, _S.created_at, _S.updated_at, _S.outcome_message, _S.outcome_text,
)  # fmt: skip


async def count(conn: AsyncConnection, where: Sequence[sa.ColumnElement[bool]]) -> int:
    return int((await conn.execute(sa.select(sa.func.count()).select_from(submissions).where(*where))).scalar_one())


def _past(key: str, *, newer_first: bool) -> sa.ColumnElement[bool] | None:
    """Rows after ``key`` in the list's order. Written as ``created_at <= t AND (created_at < t OR
    id < i)`` rather than a row-value comparison so both databases seek the filter's
    (column, created_at) index by ``created_at``."""
    parsed = _parse_key(key)
    if parsed is None:
        return None
    at, sid = parsed
    if newer_first:
        return sa.and_(_S.created_at <= at, sa.or_(_S.created_at < at, _S.id < sid))
    return sa.and_(_S.created_at >= at, sa.or_(_S.created_at > at, _S.id > sid))


def _rows_statement(f: ListFilter, *, now: datetime, stuck: StuckPolicy | None, limit: int) -> sa.Select[Any]:
    newer_first = f.order != "old"
    backwards = f.before is not None and f.after is None
    cursor = f.before if backwards else f.after
    # Paging backwards reads the rows before the cursor in the opposite order (then reversed).
    descending = newer_first != backwards
    extra: list[sa.ColumnElement[bool]] = []
    if cursor is not None:
        past = _past(cursor, newer_first=descending)
        if past is not None:
            extra.append(past)
    offset = 0
    if cursor is None and f.page > 1:
        # A bookmarked page number: an OFFSET, bounded by the counted rows so no URL makes the
        # database skip a million rows; the pager's own links carry a cursor instead.
        offset = min(f.page - 1, COUNT_CAP // f.per_page) * f.per_page

    def ordered(source: Any) -> tuple[Any, Any]:
        if descending:
            return source.created_at.desc(), source.id.desc()
        return source.created_at.asc(), source.id.asc()

    def part(states: tuple[State, ...], n: int) -> sa.Select[Any]:
        where = conditions(replace(f, states=states), now=now, stuck=stuck)
        return (
            sa.select(*_COLUMNS, _D.disposition)
            .select_from(submissions.outerjoin(ui_dispositions, _D.submission_id == _S.id))
            .where(*where, *extra)
            .order_by(*ordered(_S))
            .limit(n)
        )

    # "Closed" is CANCELLED, or DEAD and resolved: read as those two states' ranges, like a
    # two-state list (the OR alone made SQLite sort every closed row: 0.6 s over 1,000,000).
    states = f.states or ((State.CANCELLED, State.DEAD) if f.view == "closed" else ())
    if len(states) < 2:
        stmt = part(f.states, limit)
        return stmt.offset(offset) if offset else stmt
    # Several states: each state's newest rows from its own (state, created_at) range, merged. One
    # "state IN (...)" would read every row of those states and sort them (0.47 s for SENT and
    # RECONCILING over 1,000,000 rows on SQLite).
    merged = sa.union_all(*(sa.select(part((s,), limit + offset).subquery()) for s in states)).subquery()
    stmt = sa.select(merged).order_by(*ordered(merged.c)).limit(limit)
    return stmt.offset(offset) if offset else stmt


def list_statements(f: ListFilter, *, now: datetime, stuck: StuckPolicy | None = None) -> dict[str, sa.Select[Any]]:
    """The statements a list page runs: the capped count, the page's rows and the grouped causes
    (the plan test in tests/ui/test_list_plans.py EXPLAINs these)."""
    where = conditions(f, now=now, stuck=stuck)
    capped = sa.select(sa.literal(1).label("one")).select_from(submissions).where(*where).limit(COUNT_CAP + 1)
    return {
        "count": sa.select(sa.func.count()).select_from(capped.subquery()),
        "rows": _rows_statement(f, now=now, stuck=stuck, limit=f.per_page + 1),
        "causes": sa.select(_S.state, _S.outcome_code, sa.func.count())
        .where(*where)
        .group_by(_S.state, _S.outcome_code),
    }


def _list_row(r: Any) -> ListRow:
    return ListRow(**{**r._mapping, "state": State(r.state), "flagged": bool(r.flagged)})


async def fetch_page(
    conn: AsyncConnection, f: ListFilter, *, now: datetime, stuck: StuckPolicy | None = None
) -> ListPage:
    """One page of the list, its total (capped at :data:`COUNT_CAP`) and its causes (state and
    last code, grouped; only for lists within the cap)."""
    stmts = list_statements(f, now=now, stuck=stuck)
    total = int((await conn.execute(stmts["count"])).scalar_one())
    rows = [_list_row(r) for r in (await conn.execute(stmts["rows"])).all()]
    more = len(rows) > f.per_page
    rows = rows[: f.per_page]
    backwards = f.before is not None and f.after is None
    if backwards:
        rows.reverse()
        has_prev, has_next = more, True
    else:
        has_prev, has_next = f.page > 1 or f.after is not None, more
    causes: list[tuple[str, str | None, int]] = []
    if total <= COUNT_CAP:
        causes = sorted(
            ((str(s), c, int(n)) for s, c, n in (await conn.execute(stmts["causes"])).all()),
            key=lambda x: (-x[2], x[0], x[1] or ""),
        )
    return ListPage(rows, total, causes, f, has_next=has_next, has_prev=has_prev)


async def fetch_rows(
    conn: AsyncConnection, f: ListFilter, *, now: datetime, stuck: StuckPolicy | None = None, chunk: int = 1000
) -> AsyncIterator[list[ListRow]]:
    """Every row of the list (no count, no causes), ``chunk`` at a time by keyset: what the CSV
    export reads. Each chunk starts after the last row of the one before, so the cost of a chunk
    does not grow with how far into the list it is."""
    cursor: str | None = None
    while True:
        stmt = _rows_statement(replace(f, page=1, after=cursor, before=None), now=now, stuck=stuck, limit=chunk)
        rows = [_list_row(r) for r in (await conn.execute(stmt)).all()]
        if rows:
            yield rows
        if len(rows) < chunk:
            return
        cursor = row_key(rows[-1].created_at, rows[-1].id)


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

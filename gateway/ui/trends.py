"""Trends for the overview: received / registered / rejected / failed per hour (the last 48 hours)
and per day (the overview's period), and per peer the error rate and the time to registration.

Counting is SQL (GROUP BY a truncated timestamp, per dialect) over indexed columns: arrivals by
``submissions.created_at``, outcomes by the timeline's ``events (to_state, at)``; Python only
fills the empty buckets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.journal.schema import events, submissions
from gateway.model import State

__all__ = ["SERIES", "PeerTrend", "Trend", "peer_trends", "trend"]

Unit = Literal["hour", "day"]
SERIES: Final = ("received", "registered", "rejected", "failed")
_OUTCOMES: Final = {str(State.REGISTERED): "registered", str(State.REJECTED): "rejected", str(State.FAILED): "failed"}
_S = submissions.c
_E = events.c


def _bucket(column: Any, unit: Unit, dialect: str) -> Any:
    """The timestamp truncated to its hour or day, as text ``YYYY-MM-DD[ HH]`` on both databases."""
    if dialect == "postgresql":
        fmt = "YYYY-MM-DD HH24" if unit == "hour" else "YYYY-MM-DD"
        return sa.func.to_char(sa.func.timezone("UTC", column), fmt)
    return sa.func.strftime("%Y-%m-%d %H" if unit == "hour" else "%Y-%m-%d", column)


def _key(at: datetime, unit: Unit) -> str:
    return at.strftime("%Y-%m-%d %H" if unit == "hour" else "%Y-%m-%d")


@dataclass
class Trend:
    unit: Unit
    buckets: list[str]  # keys in time order
    series: dict[str, list[int]] = field(default_factory=dict)  # name -> count per bucket


async def trend(conn: AsyncConnection, *, since: datetime, until: datetime, unit: Unit) -> Trend:
    """Counts per bucket in ``[since, until)``: arrivals, and the outcomes reached in each bucket."""
    dialect = conn.dialect.name
    step = timedelta(hours=1) if unit == "hour" else timedelta(days=1)
    start = since.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if unit == "day":
        start = start.replace(hour=0)
    keys: list[str] = []
    at = start
    while at < until:
        keys.append(_key(at, unit))
        at += step
    index = {k: i for i, k in enumerate(keys)}
    out = Trend(unit, keys, {name: [0] * len(keys) for name in SERIES})
    b = _bucket(_S.created_at, unit, dialect)
    arrivals = sa.select(b, sa.func.count()).where(_S.created_at >= since, _S.created_at < until).group_by(b)
    for key, n in (await conn.execute(arrivals)).all():
        if key in index:
            out.series["received"][index[key]] += int(n)
    e = _bucket(_E.at, unit, dialect)
    outcomes = (
        sa.select(e, _E.to_state, sa.func.count())
        .where(_E.to_state.in_(list(_OUTCOMES)), _E.at >= since, _E.at < until)
        .group_by(e, _E.to_state)
    )
    for key, state, n in (await conn.execute(outcomes)).all():
        if key in index:
            out.series[_OUTCOMES[state]][index[key]] += int(n)
    return out


@dataclass(frozen=True)
class PeerTrend:
    peer: str
    sends: int
    errors: int
    registered: int
    mean_minutes: float | None  # arrival to registration, mean over those registered in the period

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.sends if self.sends else None


def _minutes_between(start: Any, end: Any, dialect: str) -> Any:
    if dialect == "postgresql":
        return sa.func.extract("epoch", end - start) / 60.0
    return (sa.func.julianday(end) - sa.func.julianday(start)) * 1440.0


async def peer_trends(conn: AsyncConnection, *, since: datetime, until: datetime) -> list[PeerTrend]:
    """Per destination in ``[since, until)``: sends (transitions out of QUEUED), errors (a send put
    into RETRY_WAIT or refused: FAILED), registrations and the mean time from arrival to them."""
    dialect = conn.dialect.name
    joined = events.join(submissions, _S.id == _E.submission_id)
    dest = sa.func.coalesce(_S.destination, "—")
    sends = (
        sa.select(
            dest,
            sa.func.count(),
            sa.func.sum(sa.case((_E.to_state.in_([str(State.RETRY_WAIT), str(State.FAILED)]), 1), else_=0)),
        )
        .select_from(joined)
        .where(_E.from_state == str(State.QUEUED), _E.at >= since, _E.at < until)
        .group_by(dest)
    )
    late_failures = (
        sa.select(dest, sa.func.count())
        .select_from(joined)
        .where(_E.from_state == str(State.SENT), _E.to_state == str(State.FAILED), _E.at >= since, _E.at < until)
        .group_by(dest)
    )
    registered = (
        sa.select(dest, sa.func.count(), sa.func.avg(_minutes_between(_S.created_at, _E.at, dialect)))
        .select_from(joined)
        .where(_E.to_state == str(State.REGISTERED), _E.at >= since, _E.at < until)
        .group_by(dest)
    )
    acc: dict[str, dict[str, Any]] = {}
    for peer, n, errors in (await conn.execute(sends)).all():
        acc.setdefault(peer, {}).update(sends=int(n), errors=int(errors or 0))
    for peer, n in (await conn.execute(late_failures)).all():
        row = acc.setdefault(peer, {})
        row["errors"] = row.get("errors", 0) + int(n)
    for peer, n, mean in (await conn.execute(registered)).all():
        acc.setdefault(peer, {}).update(registered=int(n), mean=float(mean) if mean is not None else None)
    return [
        PeerTrend(peer, v.get("sends", 0), v.get("errors", 0), v.get("registered", 0), v.get("mean"))
        for peer, v in sorted(acc.items())
    ]

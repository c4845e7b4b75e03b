"""Stuck documents: a submission waiting for a peer (QUEUED, RETRY_WAIT, SENT, RECONCILING) for
longer than that peer's ``stuck_after_hours`` (counted from its arrival), or waiting for a
destination that is not a running peer (disabled, no URL) whatever its age.

One predicate serves the UI list, the ``mse_gateway_stuck_submissions`` gauge and the ``stuck``
alert condition, so the three always agree. Each submission has one destination, so counting by
destination counts each stuck submission once.

The query is ``state IN (...)`` — the leading column of ``ix_submissions_due`` — then ``created_at``
and ``destination`` on the rows of those states only (the backlog, not the journal's history).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.journal.schema import submissions
from gateway.model import State

__all__ = ["WAITING", "StuckItem", "StuckPolicy", "stuck_counts", "stuck_items", "stuck_policy"]

WAITING: Final = (State.QUEUED, State.RETRY_WAIT, State.SENT, State.RECONCILING)
NO_PEER: Final = "none"  # the label of submissions without a destination
_S = submissions.c


@dataclass(frozen=True)
class StuckPolicy:
    """Running peers and their ``stuck_after_hours``; any other destination is not running."""

    after_hours: Mapping[str, float] = field(default_factory=dict)

    def condition(self, now: datetime) -> sa.ColumnElement[bool]:
        per_peer = [
            sa.and_(_S.destination == name, _S.created_at < now - timedelta(hours=hours))
            for name, hours in sorted(self.after_hours.items())
        ]
        not_running = sa.or_(_S.destination.is_(None), _S.destination.not_in(sorted(self.after_hours)))
        return sa.and_(_S.state.in_([str(s) for s in WAITING]), sa.or_(not_running, *per_peer))

    def reason(self, destination: str | None) -> str:
        if destination is None:
            return "no destination"
        hours = self.after_hours.get(destination)
        if hours is None:
            return f"peer {destination} is not running"
        return f"waiting longer than {hours:g} h"


@dataclass(frozen=True, slots=True)
class StuckItem:
    id: str
    local_uid: str
    kind: str
    organization_oid: str
    region: str | None
    destination: str | None
    state: str
    attempts: int
    created_at: datetime
    updated_at: datetime
    reason: str


def stuck_policy(app: Mapping[Any, Any]) -> StuckPolicy:
    """The policy of a running gateway app (or a request's ``config_dict``): the peers whose
    adapters were built (the usable ones), each with its ``stuck_after_hours``."""
    from gateway.peers.mount import INSTANCES_KEY, PEERS_KEY  # peers -> delivery -> monitoring

    instances = app.get(INSTANCES_KEY, {})
    running = app.get(PEERS_KEY, {})
    return StuckPolicy({name: instances[name].settings.stuck_after_hours for name in running if name in instances})


async def stuck_counts(conn: AsyncConnection, policy: StuckPolicy, now: datetime) -> dict[str, int]:
    """Stuck submissions by destination (``none`` when unrouted)."""
    dest = sa.func.coalesce(_S.destination, NO_PEER)
    rows = await conn.execute(sa.select(dest, sa.func.count()).where(policy.condition(now)).group_by(dest))
    return {str(d): int(n) for d, n in rows.all()}


async def stuck_items(
    conn: AsyncConnection, policy: StuckPolicy, now: datetime, *, limit: int = 200, peer: str | None = None
) -> list[StuckItem]:
    """The oldest stuck submissions first."""
    stmt: Any = sa.select(
        _S.id, _S.local_uid, _S.kind, _S.organization_oid, _S.region, _S.destination, _S.state, _S.attempts,
        _S.created_at, _S.updated_at,
    ).where(policy.condition(now))  # fmt: skip
    if peer:
        stmt = stmt.where(_S.destination == peer)
    rows = await conn.execute(stmt.order_by(_S.created_at).limit(limit))
    return [StuckItem(**r._mapping, reason=policy.reason(r.destination)) for r in rows.all()]

"""Bulk operator actions (resend, mark resolved, cancel) on a selection or a whole filter.

One code path for the UI, the operator API and the CLI: :func:`preview` says how many of the
selected submissions the action applies to ("37 documents will be resent"), :func:`run` carries it
out in batches through :func:`gateway.ui.actions.perform`, so every document gets its own timeline
entry and audit row, exactly as if an operator had acted on it alone. A bulk run also leaves one
summary row in the audit trail (action ``bulk-<action>``).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

import sqlalchemy as sa

from gateway.errors import NotFound
from gateway.journal.schema import submissions
from gateway.journal.store import Journal
from gateway.model import State
from gateway.monitoring.stuck import StuckPolicy
from gateway.ui import actions
from gateway.ui.lists import ListFilter, conditions
from gateway.ui.queries import read

__all__ = ["BATCH", "MAX_BULK", "BulkResult", "Preview", "preview", "run"]

BATCH: Final = 100  # documents per batch; the loop yields between batches
MAX_BULK: Final = 10_000  # documents per bulk action: a larger filter must be narrowed first
_S = submissions.c


@dataclass(frozen=True)
class Preview:
    action: actions.Action
    matched: int  # selected by the filter or the selection
    ids: list[str]  # those the action applies to, oldest first (at most MAX_BULK)
    not_applicable: dict[str, int]  # state -> count of selected ones it does not apply to
    truncated: bool = False

    @property
    def applicable(self) -> int:
        return len(self.ids)


@dataclass
class BulkResult:
    action: actions.Action
    ok: int = 0
    refused: int = 0
    missing: int = 0
    queued_destinations: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return self.ok + self.refused + self.missing


async def preview(
    journal: Journal,
    action: actions.Action,
    selection: ListFilter,
    *,
    now: datetime,
    stuck: StuckPolicy | None = None,
) -> Preview:
    """What ``action`` would do to the submissions ``selection`` picks (its ``ids`` narrow it to
    an explicit selection). Nothing is changed."""
    where = conditions(selection, now=now, stuck=stuck)
    stmt = (
        sa.select(_S.id, _S.state, _S.flagged)
        .where(*where)
        .order_by(_S.created_at.asc(), _S.id.asc())
        .limit(MAX_BULK * 4 + 1)
    )
    async with read(journal.engine) as conn:
        rows = (await conn.execute(stmt)).all()
    ids: list[str] = []
    skipped: Counter[str] = Counter()
    for row in rows:
        if actions.applies(action, State(row.state), bool(row.flagged)):
            ids.append(str(row.id))
        else:
            skipped[str(row.state)] += 1
    truncated = len(ids) > MAX_BULK or len(rows) > MAX_BULK * 4
    return Preview(action, len(rows), ids[:MAX_BULK], dict(skipped), truncated)


async def run(
    journal: Journal,
    action: actions.Action,
    ids: Sequence[str],
    *,
    username: str,
    comment: str,
    batch: int = BATCH,
    after_batch: Callable[[BulkResult], None] | None = None,
) -> BulkResult:
    """Apply ``action`` to each of ``ids`` (each audited on its own); a document whose state moved
    since the preview is refused and counted, not forced. ``after_batch`` runs after each batch
    (the UI wakes the delivery loops there)."""
    if not comment.strip():
        raise ValueError("a bulk action needs a comment")
    result = BulkResult(action)
    for start in range(0, min(len(ids), MAX_BULK), batch):
        for sid in ids[start : start + batch]:
            try:
                done = await actions.perform(journal, sid, action, username=username, comment=comment)
            except NotFound:
                result.missing += 1
                continue
            except actions.ActionRefused:
                result.refused += 1
                continue
            result.ok += 1
            if done.to_state is State.QUEUED:
                sub = await journal.get(sid)
                if sub.destination:
                    result.queued_destinations[sub.destination] += 1
        if after_batch is not None:
            after_batch(result)
        await asyncio.sleep(0)  # let the event loop serve pages between batches
    await actions.audit(
        journal.engine, journal, username=username, action=f"bulk-{action}", outcome="ok",
        comment=f"{result.ok} done, {result.refused} refused, {result.missing} missing: {comment}",
    )  # fmt: skip
    return result

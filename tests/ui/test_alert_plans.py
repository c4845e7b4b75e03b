"""The alert evaluation reads only what it is about, whatever the journal's size: every statement
``alerts.measure`` runs is served by an index search, or by a scan of a partial index holding only
the backlog's rows — read from the databases' own query plans (EXPLAIN), not timed. On PostgreSQL
sequential scans are switched off for the EXPLAIN, so a "Seq Scan" left in a plan means no index
can serve the query. And the bounded SLA count agrees with the full 30-day report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.common.secrets import DeploymentSecret
from gateway.journal.engine import create_engine
from gateway.journal.migrate import upgrade
from gateway.journal.schema import submissions
from gateway.journal.store import Journal
from gateway.monitoring.stuck import StuckPolicy
from gateway.ui import queries
from gateway.ui.alerts import measure
from gateway.ui.queries import read

from .seed import StepClock, seed, start_time

# Tables that grow with the journal's history (``disposed`` is ui_dispositions' alias).
GROWING = {"submissions", "events", "ksi_marks", "envelopes", "payloads", "ui_dispositions", "disposed"}
# Partial indexes over rows that leave them as they finish (migration 0015).
PARTIAL = {"ix_submissions_unregistered", "ix_submissions_failed", "ix_submissions_flagged"}


def _sqlite_problems(plan: list[Any]) -> list[str]:
    out = []
    for row in plan:
        detail = str(row[-1])
        words = detail.split()
        if words[:1] != ["SCAN"] or len(words) < 2 or words[1] not in GROWING:
            continue
        index = words[-1] if "INDEX" in words else None
        if index not in PARTIAL:
            out.append(detail)
    return out


def _pg_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _pg_nodes(child)


def _pg_problems(plan: Any) -> list[str]:
    out = []
    for node in _pg_nodes(plan[0]["Plan"]):
        kind, relation, index = node["Node Type"], node.get("Relation Name"), node.get("Index Name")
        if kind == "Seq Scan" and relation in GROWING:
            out.append(f"Seq Scan on {relation}")
        elif index is not None and "Index Cond" not in node and index not in PARTIAL:
            out.append(f"{kind} over the whole of {index}")  # a full index scan reads every row too
    return out


async def _statements(engine: AsyncEngine, journal: Journal) -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []

    def hook(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        seen.append((statement, parameters))

    sa.event.listen(engine.sync_engine, "before_cursor_execute", hook)
    try:
        await measure(journal, 0, StuckPolicy({"remd": 1.0}), alerting={"remd": frozenset({"INVALID_SIGNATURE"})})
    finally:
        sa.event.remove(engine.sync_engine, "before_cursor_execute", hook)
    return [(s, p) for s, p in seen if s.lstrip().upper().startswith("SELECT")]


async def test_every_alert_query_searches_an_index(db_url: str, secret: DeploymentSecret) -> None:
    engine = create_engine(db_url)
    await upgrade(engine)
    clock = StepClock(start_time())
    journal = Journal(engine, secret, clock=clock)
    try:
        seeded = await seed(journal, clock)
        async with engine.begin() as conn:
            await conn.execute(
                submissions.update().where(submissions.c.id == seeded.ids["sent-0"]).values(flagged=True)
            )
        clock.advance(days=3)
        statements = await _statements(engine, journal)
        assert len(statements) >= 7, statements  # status (3), SLA, stuck, KSI (2), refusals
        problems: dict[str, list[str]] = {}
        async with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                await conn.exec_driver_sql("SET enable_seqscan = off")
            for statement, params in statements:
                if engine.dialect.name == "sqlite":
                    plan = (await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)).all()
                    found = _sqlite_problems(plan)
                else:
                    raw = (await conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, params)).scalar_one()
                    found = _pg_problems(json.loads(raw) if isinstance(raw, str) else raw)
                if found:
                    problems[statement] = found
        assert problems == {}, problems
    finally:
        await engine.dispose()


def test_the_plan_check_can_fail() -> None:
    assert _sqlite_problems([(2, 0, 0, "SCAN submissions")]) == ["SCAN submissions"]
    assert _sqlite_problems([(2, 0, 0, "SCAN submissions USING COVERING INDEX ix_submissions_due")])
    assert not _sqlite_problems([(2, 0, 0, "SCAN submissions USING INDEX ix_submissions_unregistered")])
    assert not _sqlite_problems([(2, 0, 0, "SEARCH submissions USING INDEX ix_submissions_due (state=?)")])
    seq = [{"Plan": {"Node Type": "Aggregate", "Plans": [{"Node Type": "Seq Scan", "Relation Name": "events"}]}}]
    assert _pg_problems(seq) == ["Seq Scan on events"]
    full = [{"Plan": {"Node Type": "Index Only Scan", "Relation Name": "submissions", "Index Name": "ix_x"}}]
    assert _pg_problems(full) == ["Index Only Scan over the whole of ix_x"]


async def test_bounded_sla_count_agrees_with_the_report(db_url: str, secret: DeploymentSecret) -> None:
    engine = create_engine(db_url)
    await upgrade(engine)
    clock = StepClock(start_time())
    journal = Journal(engine, secret, clock=clock)
    try:
        await seed(journal, clock)
        for days in (0, 3, 40):  # none late yet; the open ones late; all of them out of the window
            now = clock.now() + timedelta(days=days)
            since = now - timedelta(days=30)
            async with read(engine) as conn:
                report = await queries.sla_report(conn, since=since, until=None, now=now, overdue_limit=0)
                bounded = await queries.sla_open_overdue(conn, since=since, now=now)
            assert bounded == {stage: s.open_overdue for stage, s in report.stages.items()}
            # the seeded plan leaves 8 submissions open (sent, reconciling, retry, dead, queued, received)
            assert sum(bounded.values()) == {0: 0, 3: 8, 40: 0}[days]
    finally:
        await engine.dispose()

"""The operator lists stay index-backed (issue 19; docs/benchmarks.md, "Operator lists over
1,000,000 rows"): EXPLAIN each list's statements on SQLite and PostgreSQL and check that the
submissions table is reached through the index meant for the filter, never by a full scan. Not a
timed test: a plan that loses its index fails here whatever the machine's speed.

On PostgreSQL the test turns sequential scans off, so the plan shows whether an index *can* serve
the statement (with a few rows the planner would rightly prefer a scan); a statement no index
serves still shows a Seq Scan and fails.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

import pytest
import sqlalchemy as sa
from multidict import MultiDict
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.journal.engine import create_engine
from gateway.journal.store import Journal
from gateway.model import State
from gateway.ui import lists
from gateway.ui.lists import ListFilter, fetch_page, list_statements, row_key

from .conftest import UiGateway
from .test_operations import _at

NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)
KEY = row_key(NOW - timedelta(days=3), "7b0c2f5e-0000-4000-8000-000000000000")

# filter -> the indexes that may serve it (the rows statement; the count uses the same WHERE)
CASES: list[tuple[str, ListFilter, set[str]]] = [
    ("no filter", ListFilter(), {"ix_submissions_created_id"}),
    ("no filter, keyset page", ListFilter(after=KEY, page=7), {"ix_submissions_created_id"}),
    ("no filter, oldest first", ListFilter(order="old", before=KEY, page=3), {"ix_submissions_created_id"}),
    ("state", ListFilter(states=(State.DEAD,)), {"ix_submissions_state_created"}),
    ("states", ListFilter(states=(State.SENT, State.RECONCILING)), {"ix_submissions_state_created"}),
    ("code", ListFilter(code="HTTP_503"), {"ix_submissions_code_created"}),
    ("MIS", ListFilter(mis="mis-01"), {"ix_submissions_source_created"}),
    ("region", ListFilter(region="77"), {"ix_submissions_region_created"}),
    ("kind", ListFilter(kind="108"), {"ix_submissions_kind_created"}),
    ("peer", ListFilter(peer="shep"), {"ix_submissions_destination_created"}),
    ("age", ListFilter(min_age_hours=720), {"ix_submissions_created_id", "ix_submissions_overview"}),
    ("period", ListFilter(since=NOW.date(), until=NOW.date()), {"ix_submissions_created_id",
                                                                "ix_submissions_overview"}),
    ("needs an operator", ListFilter(view="needs-operator"), {"ix_submissions_state_created"}),
    ("flagged", ListFilter(view="flagged"), {"ix_submissions_flagged_updated", "ix_submissions_flagged"}),
    ("closed", ListFilter(view="closed"), {"ix_submissions_state_created"}),
]  # fmt: skip
# The prefix search is an OR of two ranges: both columns' indexes (the PostgreSQL-only
# text_pattern_ops ones there; SQLite's BINARY ones led by the column here).
PREFIX = {
    "postgresql": {"ix_submissions_local_uid_prefix", "ix_submissions_oid_prefix"},
    "sqlite": {"ix_submissions_local_uid", "ix_submissions_org_kind"},
}


async def _plan(conn: AsyncConnection, stmt: sa.Select[Any]) -> str:
    compiled = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    if conn.dialect.name == "postgresql":
        await conn.execute(sa.text("SET LOCAL enable_seqscan = off"))
        rows = (await conn.execute(sa.text("EXPLAIN " + compiled))).all()
    else:
        rows = (await conn.execute(sa.text("EXPLAIN QUERY PLAN " + compiled))).all()
    return "\n".join(str(r[-1]) for r in rows)


def _submissions_indexes(plan: str) -> set[str]:
    """The indexes of ``submissions`` the plan reads; a full scan of the table fails the test."""
    assert not re.search(r"Seq Scan on submissions|SCAN submissions(?! USING)", plan), plan
    return set(re.findall(r"\b((?:ix|uq|pk)_submissions\w*)", plan))


@pytest.mark.parametrize(("label", "f", "expected"), CASES, ids=[c[0] for c in CASES])
async def test_each_list_filter_reads_its_index(
    journal: Journal, label: str, f: ListFilter, expected: set[str]
) -> None:
    stmts = list_statements(f, now=NOW)
    async with journal.engine.begin() as conn:
        plan = await _plan(conn, stmts["rows"])
        assert _submissions_indexes(plan) & expected, f"{label}: expected one of {expected}\n{plan}"
        count_plan = await _plan(conn, stmts["count"])
        assert _submissions_indexes(count_plan), f"{label}: the count scans the table\n{count_plan}"


async def test_prefix_search_reads_both_prefix_indexes(journal: Journal) -> None:
    f = ListFilter(q="1.2.643.5.1.13.13.12.2.77")
    async with journal.engine.begin() as conn:
        plan = await _plan(conn, list_statements(f, now=NOW)["rows"])
        expected = PREFIX[conn.dialect.name]
        assert expected <= _submissions_indexes(plan), f"expected {expected}\n{plan}"


@pytest.mark.postgres
async def test_postgres_prefix_index_is_text_pattern_ops(pg_url: str, secret: Any) -> None:
    """PostgreSQL's LIKE/range over a non-C collation seeks only a text_pattern_ops btree: the
    migration creates it, and the plan of the bare prefix condition uses it (Index Cond with the
    pattern operators), on the real planner (sequential scans allowed, a table of 5,000 rows)."""
    engine = create_engine(pg_url)
    try:
        async with engine.begin() as conn:
            found = await conn.execute(
                sa.text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'submissions'")
            )
            defs = {str(n): str(d) for n, d in found.all()}
            for name in ("ix_submissions_local_uid_prefix", "ix_submissions_oid_prefix"):
                assert "text_pattern_ops" in defs[name], defs[name]
            await conn.execute(
                sa.text(
                    "INSERT INTO submissions (id, source_system, local_uid, kind, organization_oid, state, attempts,"
                    " content_hash, origin, reconcile_attempts, resubmits, flagged, created_at, updated_at, version)"
                    " SELECT md5(i::text), 'mis', md5(i::text || 'u'), '121', '1.2.643.' || i, 'REGISTERED', 1,"
                    " 'h', 'rest', 0, 0, false, now(), now(), 1 FROM generate_series(1, 5000) i"
                )
            )
            await conn.execute(sa.text("ANALYZE submissions"))
            cond = lists.starts_with(lists.submissions.c.local_uid, "abc")
            stmt = sa.select(lists.submissions.c.id).where(cond)
            compiled = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
            plan = "\n".join(r[0] for r in (await conn.execute(sa.text("EXPLAIN " + compiled))).all())
        assert "ix_submissions_local_uid_prefix" in plan and "~>=~" in plan, plan
    finally:
        await engine.dispose()


async def test_prefix_search_is_exact_and_literal(journal: Journal) -> None:
    """A prefix matches exactly the strings it begins, case-sensitively, with % and _ as plain
    characters — the same on both databases."""
    ids = {uid: await _at(journal, State.DEAD, local_uid=uid) for uid in ("abc-1", "abd-2", "ABC-3", "ab%x", "ab_y")}
    async with journal.engine.connect() as conn:

        async def found(q: str) -> set[str]:
            page = await fetch_page(conn, ListFilter(q=q, per_page=50), now=NOW + timedelta(days=1))
            return {r.local_uid for r in page.rows}

        assert await found("abc") == {"abc-1"}
        assert await found("ab") == {"abc-1", "abd-2", "ab%x", "ab_y"}
        assert await found("ab%") == {"ab%x"}
        assert await found("ab_") == {"ab_y"}
        assert await found("1.2.643.5.1.13.13.12.2.77") == set(ids)  # the OID's prefix


async def test_keyset_pages_walk_the_whole_list_and_back(journal: Journal, monkeypatch: pytest.MonkeyPatch) -> None:
    """Next/previous links carry the row key, not an OFFSET; walking them visits every row once
    in order. Counts stop at COUNT_CAP: beyond it the total is a lower bound and causes are not
    grouped (both stated in the UI)."""
    made = [await _at(journal, State.DEAD) for _ in range(7)]
    now = NOW + timedelta(days=1)
    async with journal.engine.connect() as conn:
        full = await fetch_page(conn, ListFilter(view="needs-operator", per_page=50), now=now)
        assert full.total == 7 and not full.capped and {r.id for r in full.rows} == set(made)
        seen: list[str] = []
        f = ListFilter(view="needs-operator", per_page=3)
        pages = []
        while True:
            page = await fetch_page(conn, f, now=now)
            pages.append(page)
            seen += [r.id for r in page.rows]
            if not page.has_next:
                break
            f = ListFilter.from_query(MultiDict(parse_qsl(page.next_query())))
            assert f.after and f.page == len(pages) + 1
        assert seen == [r.id for r in full.rows] and len(pages) == 3
        back = await fetch_page(conn, ListFilter.from_query(MultiDict(parse_qsl(pages[-1].prev_query()))), now=now)
        assert [r.id for r in back.rows] == [r.id for r in pages[1].rows] and back.has_prev and back.has_next

        monkeypatch.setattr(lists, "COUNT_CAP", 5)
        capped = await fetch_page(conn, ListFilter(view="needs-operator", per_page=2), now=now)
        assert capped.capped and capped.total == 6 and capped.causes == [] and capped.pages == 3


async def test_a_capped_list_says_so_in_both_languages(gw: UiGateway, monkeypatch: pytest.MonkeyPatch) -> None:
    """Over the cap the page states "more than N", shows no causes but a note why, and its
    pager still walks on by keyset."""
    await gw.login("victor")
    monkeypatch.setattr(lists, "COUNT_CAP", 3)
    html = await (await gw.client.get("/ui/list?per_page=2")).text()
    assert 'data-capped="' in html and 'id="causes-capped"' in html and 'id="cause-table"' not in html
    assert "более" in html or "more than" in html
    nxt = re.search(r'rel="next" href="([^"]+)"', html)
    assert nxt and "after=" in nxt.group(1)
    other = "en" if "более" in html else "ru"
    await gw.client.get(f"/ui/lang?set={other}&next=/ui/list")
    html2 = await (await gw.client.get("/ui/list?per_page=2")).text()
    assert ("more than" if other == "en" else "более") in html2
    monkeypatch.setattr(lists, "COUNT_CAP", 10_000)
    html3 = await (await gw.client.get("/ui/list?per_page=2")).text()
    assert 'data-capped="' not in html3 and 'id="causes-capped"' not in html3

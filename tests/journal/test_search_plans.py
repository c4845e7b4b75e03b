"""The duplicate and late-arrival rules search the journal by patient and by localUid for every
document; on SQLite, which plans without statistics, those searches must use the patient and
localUid indexes, not ix_submissions_kind_created (it serves the ORDER BY, and read every row of
the kind: 2–3 s per search over 1,000,000 rows). Read from SQLite's own plan, not timed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa

from gateway.common.secrets import DeploymentSecret
from gateway.journal.engine import create_engine
from gateway.journal.migrate import upgrade
from gateway.journal.store import Journal, SearchQuery


@pytest.fixture
async def sqlite_journal(sqlite_url: str, secret: DeploymentSecret) -> AsyncIterator[Journal]:
    # SQLite only: PostgreSQL plans by its statistics, and the index hint is SQLite's.
    engine = create_engine(sqlite_url)
    await upgrade(engine)
    try:
        yield Journal(engine, secret)
    finally:
        await engine.dispose()


async def _plan_of_search(journal: Journal, query: SearchQuery) -> str:
    seen: list[tuple[str, Any]] = []

    def grab(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM submissions" in statement:
            seen.append((statement, parameters))

    sa.event.listen(journal.engine.sync_engine, "before_cursor_execute", grab)
    try:
        await journal.search(query)
    finally:
        sa.event.remove(journal.engine.sync_engine, "before_cursor_execute", grab)
    (statement, parameters), *_ = seen
    async with journal.engine.connect() as conn:
        raw = await conn.get_raw_connection()
        cursor = raw.driver_connection._conn.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)  # type: ignore[union-attr]
        return " | ".join(str(row[-1]) for row in cursor.fetchall())


@pytest.mark.parametrize(
    ("query", "index"),
    [
        # the duplicate rule: the document's own kind; the late-arrival rule: the four decisions
        (SearchQuery(kinds=("35",), patient_id="112-233-445 95", limit=20), "ix_submissions_patient_key"),
        (
            SearchQuery(kinds=("35", "108", "187", "130"), patient_id="112-233-445 95", limit=80),
            "ix_submissions_patient_key",
        ),
        (
            SearchQuery(kind="121", organization_oid="1.2.643.5.1.13.13.12.2.77.9001", local_uid="u-1", limit=20),
            "ix_submissions_local_uid",
        ),
    ],
)
async def test_rule_searches_use_their_index(sqlite_journal: Journal, query: SearchQuery, index: str) -> None:
    plan = await _plan_of_search(sqlite_journal, query)
    assert f"USING INDEX {index}" in plan, plan

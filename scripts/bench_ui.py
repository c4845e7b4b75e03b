"""Benchmark: render the overview page over 100,000 journal rows.

Seeds a fresh SQLite journal (or ``--database-url``) with N submissions spread over 90 days,
12 kinds x regions and every state, plus a REJECTED event per rejected submission, by bulk INSERT
(the journal's own submit path would take minutes and is not what is measured). Then signs in and
times ``GET /ui/overview`` (the default 30-day period and a 90-day period) end to end over HTTP:
SQL, folding, template; and the other pages and a /metrics scrape for comparison.

    .venv/bin/python scripts/bench_ui.py --rows 100000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import statistics
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from gateway.appkeys import JOURNAL_KEY
from gateway.config import load_config
from gateway.journal.schema import events, submissions
from gateway.model import State
from gateway.ui.users import Role, UserStore
from gateway.validation.contract import CATEGORIES

KINDS = ["121", "121", "121", "109", "108", "35", "kz-031u"]
REGIONS = [f"{n:02d}" for n in range(1, 90)] + ["KZ"]
STATES = [
    (State.REGISTERED, 60), (State.FAILED, 5), (State.REJECTED, 8), (State.SENT, 10), (State.RECONCILING, 2),
    (State.QUEUED, 5), (State.RETRY_WAIT, 3), (State.DEAD, 2), (State.RECEIVED, 5),
]  # fmt: skip


async def seed(engine: Any, rows: int, now: datetime) -> None:
    rng = random.Random(7)
    population = [s for s, w in STATES for _ in range(w)]
    batch: list[dict[str, Any]] = []
    evs: list[dict[str, Any]] = []
    for i in range(rows):
        state = rng.choice(population)
        created = now - timedelta(seconds=rng.randint(0, 90 * 86400))
        sid = str(uuid.UUID(int=rng.getrandbits(128)))
        batch.append(
            {
                "id": sid, "source_system": "bench", "local_uid": f"b-{i}", "kind": rng.choice(KINDS),
                "organization_oid": f"1.2.643.5.1.13.13.12.2.{rng.randint(1, 89)}.{rng.randint(1, 500)}",
                "patient_key": None, "region": rng.choice(REGIONS), "destination": "remd", "state": str(state),
                "attempts": 1, "content_hash": "0" * 64,
                "outcome_code": "INVALID_SIGNATURE" if state is State.FAILED else None,
                "outcome_source": rng.choice(["callback", "peer", "reconciled"]) if state is State.REGISTERED else None,
                "created_at": created, "updated_at": created,
            }
        )  # fmt: skip
        if state is State.REJECTED:
            evs.append(
                {
                    "submission_id": sid, "at": created, "kind": "state", "from_state": "RECEIVED",
                    "to_state": "REJECTED", "actor": "bench", "details": {"category": rng.choice(CATEGORIES)},
                }
            )  # fmt: skip
        if len(batch) >= 5000:
            await _flush(engine, batch, evs)
    await _flush(engine, batch, evs)


async def _flush(engine: Any, batch: list[dict[str, Any]], evs: list[dict[str, Any]]) -> None:
    async with engine.begin() as conn:
        if batch:
            await conn.execute(submissions.insert(), batch)
        if evs:
            await conn.execute(events.insert(), evs)
    batch.clear()
    evs.clear()


async def analyze(engine: Any) -> None:
    """What autovacuum (PostgreSQL) or a periodic ANALYZE (SQLite) does after a bulk load:
    planner statistics, and on PostgreSQL the visibility map index-only scans need."""
    async with engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        if engine.dialect.name == "postgresql":
            for table in ("submissions", "events"):
                await auto.execute(sa.text(f"VACUUM ANALYZE {table}"))
        else:
            await auto.execute(sa.text("ANALYZE"))


async def run(rows: int, repeats: int, database_url: str | None, *, with_analyze: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        storage: dict[str, Any] = {"data_dir": tmp}
        if database_url:
            storage["database_url"] = database_url
        config = load_config(environ={}).with_overrides(
            storage=storage, workers={"enabled": False}, peers={"remd": {"enabled": False}}
        )
        app = create_app(config)
        async with TestClient(TestServer(app)) as client:
            journal = app[JOURNAL_KEY]
            now = journal.clock.now()
            t0 = time.perf_counter()
            await seed(journal.engine, rows, now)
            seeded_s = time.perf_counter() - t0
            if with_analyze:
                await analyze(journal.engine)
            await UserStore(journal.engine).add("bench", "bench-password", Role.VIEWER)
            form = await (await client.get("/ui/login")).text()
            m = re.search(r'name="csrf" value="([^"]+)"', form)
            assert m
            await client.post("/ui/login", data={"username": "bench", "password": "bench-password", "csrf": m.group(1)})
            results: dict[str, Any] = {
                "rows": rows,
                "database": journal.engine.dialect.name,
                "seed_seconds": round(seeded_s, 2),
            }
            frm90 = (now - timedelta(days=89)).date().isoformat()
            for label, path in (
                ("overview_30d", "/ui/overview"),
                ("overview_90d", f"/ui/overview?from={frm90}"),
                ("rejections_90d", f"/ui/rejections?from={frm90}"),
                ("queues", "/ui/queues"),
                ("sla_30d", "/ui/sla"),
                ("metrics", "/metrics"),
            ):
                timings = []
                for _ in range(repeats):
                    t = time.perf_counter()
                    resp = await client.get(path)
                    await resp.read()
                    assert resp.status == 200, resp.status
                    timings.append(time.perf_counter() - t)
                results[label] = {
                    "median_s": round(statistics.median(timings), 4),
                    "max_s": round(max(timings), 4),
                    "runs": repeats,
                }
            return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--database-url", default=None, help="e.g. postgresql+asyncpg://... (default: SQLite)")
    parser.add_argument("--no-analyze", action="store_true", help="skip (VACUUM) ANALYZE after seeding")
    args = parser.parse_args()
    result = asyncio.run(run(args.rows, args.repeats, args.database_url, with_analyze=not args.no_analyze))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

"""Cost of one alert evaluation over a pre-loaded journal, in-process (CPU seconds, so a loaded
machine moves it less than wall time): the path ``alerts.measure`` took before issue 20 (the whole
``queue_status`` and the full 30-day ``sla_report``) against ``measure`` now, and the overview
page's queries for comparison; with the tracemalloc peak and the process's max RSS after each.

    .venv/bin/python scripts/alert_cost.py sqlite+aiosqlite:////tmp/j.sqlite3 200000

The journal is pre-loaded as ``bench journal-growth`` does (gateway.bench.growth); 0 rows re-uses
an existing one.
"""

from __future__ import annotations

import asyncio
import resource
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from datetime import timedelta

from gateway.bench.growth import preload_journal
from gateway.common.secrets import DeploymentSecret
from gateway.journal.engine import create_engine
from gateway.journal.store import Journal
from gateway.monitoring.stuck import StuckPolicy, stuck_counts
from gateway.ui import queries, trends
from gateway.ui.alerts import measure
from gateway.ui.queries import read


async def main(url: str, rows: int) -> None:
    if rows:
        print("preload s", await preload_journal(url, rows), flush=True)
    engine = create_engine(url)
    journal = Journal(engine, DeploymentSecret(b"k" * 32))
    policy = StuckPolicy({"remd": 72.0})

    async def before() -> None:
        now = journal.clock.now()
        async with read(engine) as conn:
            await queries.queue_status(conn, list_limit=0)
            await queries.sla_report(conn, since=now - timedelta(days=30), until=None, now=now, overdue_limit=0)

    async def now_() -> None:
        await measure(journal, 0, policy, alerting={"remd": frozenset({"INVALID_SIGNATURE"})})

    async def overview() -> None:
        now = journal.clock.now()
        since, until = now - timedelta(days=30), now + timedelta(days=1)
        async with read(engine) as conn:
            await queries.overview(conn, since=since, until=until)
            await stuck_counts(conn, policy, now)
            await trends.trend(conn, since=now - timedelta(hours=47), until=now + timedelta(hours=1), unit="hour")
            await trends.trend(conn, since=since, until=until, unit="day")
            await trends.peer_trends(conn, since=since, until=until)

    steps: list[tuple[str, Callable[[], Awaitable[None]]]] = [
        ("measure now (cold)", now_), ("overview", overview), ("overview", overview),
        ("measure before issue 20", before), ("measure now", now_),
    ]  # fmt: skip
    for label, step in steps:
        tracemalloc.start()
        cpu, wall = time.process_time(), time.perf_counter()
        await step()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{label}: cpu {cpu:.3f} s, wall {wall:.3f} s, tracemalloc peak {peak / 2**20:.1f} MiB, "
              f"max RSS {maxrss:.0f} MB", flush=True)  # fmt: skip
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))

"""`mse-gateway bench journal-growth`: does the gateway stay as fast when the journal is large?

Two delivery benches in one run (:mod:`gateway.bench.delivery`, the same documents and process
layout): one on an empty journal, one on a journal pre-loaded with ``rows`` submissions in the
states a journal that has run for months holds — mostly final (registered, rejected, failed),
some open (sent and awaiting an answer, waiting for a retry, reconciling, dead) — spread over
the past 90 days. The pre-load is a bulk INSERT, not the API: the journal's own submit path would
take hours for a million rows and is not what is measured. Open rows are due in the future (an
answer deadline, a retry time), as most of a real journal's open rows are, so they add to the
journal's size without adding work during the bench.

What is pre-loaded: submission rows only. Their events, payloads and envelopes are not: the hot
path reaches those by submission id (an index look-up whose cost grows with the log of the table,
not its size), while the submission table is where claims, the journal rules and the UI scan.

After each delivery run, with the gateway still up, the bench signs in to the operator UI and
times the overview (30 days), the newest page of the message list and a search by state and kind,
and reads the gateway's resident memory.
"""

from __future__ import annotations

import random
import re
import statistics
import time
import uuid
from datetime import timedelta
from typing import Any

import aiohttp
import sqlalchemy as sa

from gateway.bench.delivery import DeliveryBench, run_delivery_bench
from gateway.common.clock import SystemClock
from gateway.config import GatewayConfig
from gateway.journal.engine import create_engine
from gateway.journal.migrate import upgrade
from gateway.journal.schema import submissions
from gateway.model import State
from gateway.sandbox.simulate import Progress
from gateway.ui.users import Role, UserStore

__all__ = ["preload_journal", "run_growth_bench"]

_USER, _PASSWORD = "bench-viewer", "bench-viewer-password-1"
# State mix of a journal that has run for months (percent); the open ones wait for a future time.
_MIX = [
    (State.REGISTERED, 86), (State.REJECTED, 5), (State.FAILED, 3), (State.SENT, 3),
    (State.RETRY_WAIT, 1), (State.RECONCILING, 1), (State.DEAD, 1),
]  # fmt: skip
_KINDS = ["121", "121", "121", "35", "35", "108", "109", "187", "130"]
_BATCH = 10_000


async def preload_journal(url: str, rows: int, *, seed: int = 20, progress: Progress | None = None) -> float:
    """Migrate the journal at ``url`` and bulk-insert ``rows`` submissions; returns the seconds it
    took."""
    progress = progress or Progress()
    engine = create_engine(url)
    started = time.monotonic()
    try:
        await upgrade(engine)
        rng = random.Random(seed)
        population = [s for s, weight in _MIX for _ in range(weight)]
        now = SystemClock().now()
        progress.stage("pre-loading the journal", rows)
        batch: list[dict[str, Any]] = []
        for i in range(rows):
            state = rng.choice(population)
            created = now - timedelta(seconds=rng.randint(3600, 90 * 86400))
            later = now + timedelta(days=rng.randint(1, 30))
            batch.append(
                {
                    "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "source_system": "preloaded",
                    "local_uid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "kind": rng.choice(_KINDS),
                    "organization_oid": f"1.2.643.5.1.13.13.12.2.{rng.randint(1, 89)}.{rng.randint(1, 2000)}",
                    "patient_key": f"{rng.getrandbits(256):064x}",
                    "region": f"{rng.randint(1, 89):02d}",
                    "destination": "remd",
                    "state": str(state),
                    "attempts": 1,
                    "content_hash": f"{rng.getrandbits(256):064x}",
                    "peer_registration_id": f"E-{i}" if state is State.REGISTERED else None,
                    "outcome_code": "success" if state is State.REGISTERED else None,
                    "next_attempt_at": later if state in (State.RETRY_WAIT, State.RECONCILING) else None,
                    "answer_deadline": later if state in (State.SENT, State.RECONCILING) else None,
                    "created_at": created,
                    "updated_at": created,
                }
            )
            if len(batch) >= _BATCH:
                async with engine.begin() as conn:
                    await conn.execute(submissions.insert(), batch)
                batch.clear()
                progress.update(i + 1)
        if batch:
            async with engine.begin() as conn:
                await conn.execute(submissions.insert(), batch)
        progress.update(rows)
        # What autovacuum (PostgreSQL) or a periodic ANALYZE (SQLite) does after a bulk load.
        async with engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.execute(
                sa.text("VACUUM ANALYZE submissions" if engine.dialect.name == "postgresql" else "ANALYZE")
            )
    finally:
        await engine.dispose()
    return round(time.monotonic() - started, 1)


async def _add_viewer(config: GatewayConfig) -> None:
    engine = create_engine(config.database_url)
    try:
        await upgrade(engine)
        await UserStore(engine).add(_USER, _PASSWORD, Role.VIEWER)
    finally:
        await engine.dispose()


_CSRF = re.compile(r'name="([^"]*csrf[^"]*)" value="([^"]+)"')


async def time_ui(base: str, *, repeats: int = 3) -> dict[str, Any]:
    """Sign in as the bench's viewer and time the operator pages a journal's size could slow:
    median seconds over ``repeats`` requests each, end to end over HTTP."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(f"{base}/ui/login") as resp:
            found = _CSRF.search(await resp.text())
        assert found, "no CSRF field on the login page"
        login = {"username": _USER, "password": _PASSWORD, found.group(1): found.group(2)}
        async with http.post(f"{base}/ui/login", data=login) as resp:
            await resp.read()
        async with http.get(f"{base}/ui/messages") as resp:
            found = _CSRF.search(await resp.text())
        assert found, "not signed in to the UI (no CSRF field on the messages page)"
        search = {"state": "FAILED", "kind": "121", found.group(1): found.group(2)}
        out: dict[str, Any] = {}
        for label, method, path, data in (
            ("ui_overview_s", "GET", "/ui/overview", None),
            ("ui_messages_s", "GET", "/ui/messages", None),
            ("message_search_s", "POST", "/ui/messages", search),
        ):
            timings = []
            for _ in range(repeats):
                started = time.perf_counter()
                async with http.request(method, f"{base}{path}", data=data) as resp:
                    await resp.read()
                    if resp.status != 200:
                        raise RuntimeError(f"{method} {path}: HTTP {resp.status}")
                timings.append(time.perf_counter() - started)
            out[label] = round(statistics.median(timings), 4)
        return out


async def run_growth_bench(
    *,
    rows: int,
    count: int,
    database_url: str = "",
    empty_database_url: str = "",
    processes: int = 1,
    validation_processes: int = 0,
    concurrency: int = 32,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The delivery bench on an empty journal, then on one pre-loaded with ``rows`` submissions
    (``empty_database_url`` / ``database_url``: two fresh PostgreSQL databases, or both empty for
    SQLite files of their own), and how the second compares."""
    progress = progress or Progress()
    preload_seconds: list[float] = []

    async def viewer(config: GatewayConfig) -> None:
        await _add_viewer(config)

    async def grown(config: GatewayConfig) -> None:
        preload_seconds.append(await preload_journal(config.database_url, rows, progress=progress))
        await _add_viewer(config)

    async def ui(urls: list[str]) -> dict[str, Any]:
        return await time_ui(urls[0])

    runs: list[DeliveryBench] = []
    for url, before in ((empty_database_url, viewer), (database_url, grown)):
        runs.append(
            await run_delivery_bench(
                count=count,
                database_url=url,
                processes=processes,
                validation_processes=validation_processes,
                concurrency=concurrency,
                progress=progress,
                before_run=before,
                after_run=ui,
            )
        )
    empty, full = (r.to_json() for r in runs)
    ratio = None
    if empty["documents_per_s"] and full["documents_per_s"]:
        ratio = round(full["documents_per_s"] / empty["documents_per_s"], 3)
    return {
        "rows": rows,
        "preload_seconds": preload_seconds[0] if preload_seconds else None,
        "documents_per_s_ratio": ratio,
        "empty": empty,
        "preloaded": full,
    }

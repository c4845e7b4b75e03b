"""Benchmark: every operations-console list page over a 1,000,000-row journal (issue 19).

``seed`` fills a journal (a SQLite file or a PostgreSQL database) with N submissions spread over
90 days — a months-old journal's state mix, 12 sending systems (MIS), 90 regions, 5 peers, the
codes FAILED/DEAD/REJECTED rows carry — plus a REJECTED event per rejected row, an operator
disposition on a fifth of the DEAD rows, an audit trail and unattributed peer messages. It is a
bulk load (``COPY`` on PostgreSQL, one ``executemany`` transaction on SQLite), not the API: the
submit path would take hours for a million rows and is not what is measured. Then ``ANALYZE``
(what autovacuum or a periodic ANALYZE does after a bulk load).

``time`` starts the gateway on that journal (workers off), signs in as an admin over real HTTP on
loopback and times each page (median of ``--repeats`` requests; the first request of each page is
a warm-up and not counted). ``--explain`` prints each list query's plan instead.

    python scripts/bench_console.py seed --database-url sqlite:////tmp/console/journal.db --rows 1000000
    python scripts/bench_console.py time --database-url sqlite:////tmp/console/journal.db
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import aiohttp
import sqlalchemy as sa
from aiohttp.test_utils import TestServer

import gateway.ui.schema  # noqa: F401 - the UI tables on the shared metadata
from gateway.api.operator_tokens import OperatorTokenStore, TokenRole
from gateway.app import create_app
from gateway.appkeys import JOURNAL_KEY
from gateway.config import load_config
from gateway.journal.engine import create_engine
from gateway.journal.migrate import upgrade
from gateway.journal.schema import events, peer_inbox, submissions
from gateway.model import State
from gateway.ui.schema import ui_audit, ui_dispositions
from gateway.ui.users import Role, UserStore

MIS = [f"mis-{n:02d}" for n in range(1, 13)]
MIS_WEIGHTS = [30, 20, 12, 8, 6, 5, 5, 4, 4, 3, 2, 1]
KINDS = ["121", "121", "121", "35", "35", "108", "109", "187", "130", "kz-031u"]
REGIONS = [f"{n:02d}" for n in range(1, 90)] + ["KZ"]
PEERS = ["remd"] * 16 + ["smev3", "smev3", "shep", "eaviias"]
STATES = [
    (State.REGISTERED, 843), (State.REJECTED, 50), (State.FAILED, 30), (State.SENT, 30), (State.RETRY_WAIT, 10),
    (State.RECONCILING, 10), (State.DEAD, 10), (State.QUEUED, 5), (State.RECEIVED, 5), (State.CANCELLED, 2),
    (State.VALIDATED, 5),
]  # fmt: skip
CODES = {
    State.FAILED: ["INVALID_SIGNATURE", "DOCUMENT_TYPE_NOT_FOUND", "ORGANIZATION_NOT_FOUND", "INVALID_XML", "HTTP_400"],
    State.DEAD: ["HTTP_503", "HTTP_503", "RATE_LIMIT", "NETWORK_ERROR", "HTTP_502"],
    State.RETRY_WAIT: ["HTTP_503", "RATE_LIMIT", "NETWORK_ERROR"],
    State.REJECTED: ["FLK_SCHEMA", "FLK_SCHEMATRON", "DUPLICATE", "SIGNATURE"],
    State.CANCELLED: ["OPERATOR_CANCELLED"],
}
CATEGORIES = ["schema", "schematron", "signature", "duplicate", "other"]
ADMIN, PASSWORD = "bench-admin", "bench-admin-password-1"
_BATCH = 20_000


def _rows(rows: int, now: datetime) -> Iterator[tuple[dict[str, Any], str | None]]:
    """The submissions, each with its rejection category (or None)."""
    rng = random.Random(rows)
    population = [s for s, w in STATES for _ in range(w)]
    for _ in range(rows):
        state = rng.choice(population)
        created = now - timedelta(seconds=rng.randint(60, 90 * 86400))
        updated = min(now, created + timedelta(seconds=rng.randint(1, 7200)))
        future = now + timedelta(days=rng.randint(1, 30))
        codes = CODES.get(state)
        yield (
            {
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "source_system": rng.choices(MIS, MIS_WEIGHTS)[0],
                "local_uid": uuid.UUID(int=rng.getrandbits(128), version=4).hex,
                "kind": rng.choice(KINDS),
                "organization_oid": f"1.2.643.5.1.13.13.12.2.{rng.randint(1, 89)}.{rng.randint(1, 2000)}",
                "patient_key": f"{rng.getrandbits(256):064x}",
                "region": rng.choice(REGIONS),
                "destination": rng.choice(PEERS),
                "state": str(state),
                "attempts": rng.randint(1, 8) if state is State.DEAD else 1,
                "content_hash": f"{rng.getrandbits(256):064x}",
                "outcome_code": rng.choice(codes) if codes else None,
                "outcome_source": "peer" if state is State.REGISTERED else None,
                "next_attempt_at": future if state in (State.RETRY_WAIT, State.RECONCILING) else None,
                "answer_deadline": future if state in (State.SENT, State.RECONCILING) else None,
                "flagged": rng.random() < 0.0005,
                "created_at": created,
                "updated_at": updated,
                "origin": "rest",
                "reconcile_attempts": 0,
                "resubmits": 0,
                "version": 1,
            },
            rng.choice(CATEGORIES) if state is State.REJECTED else None,
        )


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):  # stored as naive UTC text, as gateway.journal.schema.UtcDateTime does
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


async def _bulk(conn: Any, table: sa.Table, data: list[dict[str, Any]]) -> None:
    """Insert ``data`` by the database's bulk path: COPY on PostgreSQL, one executemany of plain
    tuples on SQLite (SQLAlchemy's per-row type processing took most of the load's time)."""
    columns = list(data[0])
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    if conn.dialect.name == "postgresql":
        await driver.copy_records_to_table(table.name, records=[tuple(r[c] for c in columns) for r in data],
                                           columns=columns)  # fmt: skip
    else:
        marks = ", ".join("?" for _ in columns)
        await driver.executemany(
            f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608 - names from the metadata
            [tuple(_sqlite_value(r[c]) for c in columns) for r in data],
        )


async def _drop_indexes(engine: Any) -> list[str]:
    """Drop the submissions table's secondary indexes and return their DDL: building an index once
    over a loaded table is far cheaper than maintaining ~17 of them row by row."""
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            found = await conn.execute(
                sa.text(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'submissions' "
                    "AND indexname LIKE 'ix_%'"
                )
            )
        else:
            found = await conn.execute(
                sa.text(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'submissions' "
                    "AND sql IS NOT NULL AND name LIKE 'ix_%'"
                )
            )
        ddl = [(str(n), str(d)) for n, d in found.all()]
        for name, _ in ddl:
            await conn.execute(sa.text(f"DROP INDEX {name}"))
    return [d for _, d in ddl]


async def seed(url: str, rows: int) -> dict[str, Any]:
    engine = create_engine(url)
    started = time.monotonic()
    now = datetime.now(UTC)
    try:
        await upgrade(engine)
        await UserStore(engine).add(ADMIN, PASSWORD, Role.ADMIN)
        indexes = await _drop_indexes(engine)
        rng = random.Random(20)
        subs: list[dict[str, Any]] = []
        evs: list[dict[str, Any]] = []
        disp: list[dict[str, Any]] = []
        for n, (row, category) in enumerate(_rows(rows, now), start=1):
            subs.append(row)
            if category is not None:
                evs.append(
                    {
                        "submission_id": row["id"], "at": row["updated_at"], "kind": "state",
                        "from_state": "RECEIVED", "to_state": "REJECTED", "actor": "bench",
                        "details": {"category": category},
                    }
                )  # fmt: skip
            if row["state"] == "DEAD" and rng.random() < 0.2:
                disp.append(
                    {
                        "submission_id": row["id"], "disposition": "resolved", "username": ADMIN,
                        "at": row["updated_at"], "comment": "bench",
                    }
                )  # fmt: skip
            if len(subs) >= _BATCH or n == rows:
                async with engine.begin() as conn:
                    await _bulk(conn, submissions, subs)
                    if evs:
                        await conn.execute(events.insert(), evs)
                    if disp:
                        await conn.execute(ui_dispositions.insert(), disp)
                subs.clear()
                evs.clear()
                disp.clear()
                print(f"\r{n} rows", end="", flush=True)
        print()
        async with engine.begin() as conn:
            for ddl in indexes:
                await conn.execute(sa.text(ddl))
        # An audit trail of a busy year (200,000 operator actions) and 20,000 unattributed messages.
        audit = [
            {
                "at": now - timedelta(seconds=rng.randint(0, 365 * 86400)), "username": f"op-{rng.randint(1, 9)}",
                "action": rng.choice(["resend", "resolve", "cancel", "login"]),
                "submission_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "from_state": "DEAD", "to_state": "QUEUED", "comment": "bench", "outcome": "ok",
            }
            for _ in range(200_000)
        ]  # fmt: skip
        inbox = [
            {
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "peer": rng.choice(PEERS),
                "peer_message_id": f"m-{i}", "kind": "unattributed" if i % 2 else "outcome",
                "relates_to": f"r-{i}", "local_uid": f"u-{i}",
                "recorded_at": now - timedelta(seconds=rng.randint(0, 90 * 86400)), "size": 0,
            }
            for i in range(40_000)
        ]  # fmt: skip
        for table, data in ((ui_audit, audit), (peer_inbox, inbox)):
            for i in range(0, len(data), _BATCH):
                async with engine.begin() as conn:
                    await conn.execute(table.insert(), data[i : i + _BATCH])
        async with engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.execute(sa.text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    finally:
        await engine.dispose()
    return {"rows": rows, "seed_seconds": round(time.monotonic() - started, 1)}


async def _probe(url: str) -> dict[str, str]:
    """Values that exist in the seeded journal, for the prefix searches."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            uid = (await conn.execute(sa.select(submissions.c.local_uid).limit(1))).scalar_one()
            oid = (await conn.execute(sa.select(submissions.c.organization_oid).limit(1))).scalar_one()
    finally:
        await engine.dispose()
    return {"uid": str(uid)[:6], "oid": str(oid)}


def pages(probe: dict[str, str]) -> list[tuple[str, str]]:
    return [
        ("list, no filter", "/ui/list"),
        ("list, state=DEAD", "/ui/list?state=DEAD"),
        ("list, state=SENT,RECONCILING", "/ui/list?state=SENT&state=RECONCILING"),
        ("list, code=HTTP_503", "/ui/list?code=HTTP_503"),
        ("list, mis=mis-09", "/ui/list?mis=mis-09"),
        ("list, region=77", "/ui/list?region=77"),
        ("list, kind=108", "/ui/list?kind=108"),
        ("list, peer=shep", "/ui/list?peer=shep"),
        ("list, age>=720 h", "/ui/list?age=720"),
        ("list, from/to one day", "/ui/list?from={d}&to={d}"),
        ("list, localUid prefix", f"/ui/list?q={probe['uid']}"),
        ("list, OID prefix", f"/ui/list?q={probe['oid']}"),
        ("list, state=DEAD+mis+region", "/ui/list?state=DEAD&mis=mis-01&region=50"),
        ("list, page 2000 (deep)", "/ui/list?page=2000"),
        ("list, keyset page 60 days deep", "/ui/list?page=2000&after={k}"),
        ("list, last page, state=REGISTERED", "/ui/list?state=REGISTERED&page=16800"),
        ("list, view=needs-operator", "/ui/list?view=needs-operator"),
        ("list, view=stuck", "/ui/list?view=stuck"),
        ("list, view=closed", "/ui/list?view=closed"),
        ("list, REJECTED category=schema", "/ui/list?state=REJECTED&category=schema"),
        ("CSV, state=DEAD", "/ui/list.csv?state=DEAD"),
        ("CSV, region=77", "/ui/list.csv?region=77"),
        ("unattributed", "/ui/unattributed"),
        ("audit log", "/ui/audit"),
        ("messages (newest)", "/ui/messages"),
        ("queues", "/ui/queues"),
        ("overview (30 days)", "/ui/overview"),
        ("operator API, state=DEAD", "/api/v1/operator/submissions?state=DEAD"),
    ]


_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def time_pages(url: str, repeats: int, only: str | None) -> dict[str, Any]:
    probe = await _probe(url)
    day = (datetime.now(UTC) - timedelta(days=10)).date().isoformat()
    deep = f"{(datetime.now(UTC) - timedelta(days=60)).isoformat()}~ffffffff-ffff-4fff-bfff-ffffffffffff"
    with tempfile.TemporaryDirectory() as tmp:
        config = load_config(environ={}).with_overrides(
            storage={"data_dir": tmp, "database_url": url}, workers={"enabled": False},
            peers={"remd": {"enabled": False}},
        )  # fmt: skip
        app = create_app(config)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        base = f"http://127.0.0.1:{server.port}"
        out: dict[str, Any] = {
            "database": url.split(":", 1)[0],
            "machine": f"{platform.machine()}, {os.cpu_count()} CPU, Python {platform.python_version()}",
            "load_before": os.getloadavg(),
            "pages": {},
        }
        try:
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
                async with http.get(f"{base}/ui/login") as resp:
                    found = _CSRF.search(await resp.text())
                assert found
                login = {"username": ADMIN, "password": PASSWORD, "csrf": found.group(1)}
                async with http.post(f"{base}/ui/login", data=login) as resp:
                    await resp.read()
                token = await _operator_token(app)
                for label, path in pages(probe):
                    if only and only not in label:
                        continue
                    path = path.replace("{d}", day).replace("{k}", quote(deep))
                    headers = {"Authorization": f"Bearer {token}"} if path.startswith("/api/") else {}
                    timings = []
                    size = 0
                    for i in range(repeats + 1):
                        started = time.perf_counter()
                        async with http.get(f"{base}{path}", headers=headers) as resp:
                            body = await resp.read()
                            if resp.status != 200:
                                raise RuntimeError(f"{path}: HTTP {resp.status}")
                        if i:
                            timings.append(time.perf_counter() - started)
                        size = len(body)
                    out["pages"][label] = {
                        "path": path, "median_s": round(statistics.median(timings), 3),
                        "max_s": round(max(timings), 3), "bytes": size,
                    }  # fmt: skip
                    print(f"{label:40} {out['pages'][label]['median_s']:.3f} s  {path}", flush=True)
        finally:
            await server.close()
    out["load_after"] = os.getloadavg()
    return out


async def _operator_token(app: Any) -> str:
    """The bench's own read-only operator API token."""
    tokens = OperatorTokenStore(app[JOURNAL_KEY].engine)
    return await tokens.add(f"bench-{uuid.uuid4().hex[:8]}", TokenRole.READER)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["seed", "time"])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default=None, help="time only the pages whose label contains this")
    args = parser.parse_args()
    if args.command == "seed":
        result = asyncio.run(seed(args.database_url, args.rows))
    else:
        result = asyncio.run(time_pages(args.database_url, args.repeats, args.only))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

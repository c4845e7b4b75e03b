"""Shared fixtures: real SQLite and real PostgreSQL journals.

PostgreSQL tests run whenever GATEWAY_TEST_PG_DSN is set (``.ci/run`` always sets it). Without it
they skip locally with a visible reason, and *fail* when CI=true: CI must never pass by skipping
them. Isolation: one template database is migrated per run, and each test gets its own clone
(``CREATE DATABASE … TEMPLATE …``), dropped afterwards.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from gateway.common.secrets import DeploymentSecret
from gateway.journal.engine import create_engine, normalise_url
from gateway.journal.migrate import upgrade
from gateway.journal.store import Journal

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
PG_ENV = "GATEWAY_TEST_PG_DSN"


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(normalise_url(url))
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(dsn: str, *statements: str) -> None:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_dsn() -> str:
    dsn = os.environ.get(PG_ENV)
    if not dsn:
        if _in_ci():
            pytest.fail(f"{PG_ENV} is not set: CI must run the PostgreSQL tests, not skip them")
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/test)")
    return dsn


@pytest.fixture(scope="session")
def pg_template(pg_dsn: str) -> Iterator[str]:
    """A migrated template database for this run; removed at the end."""
    name = f"mseg_tmpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = _asyncpg_dsn(pg_dsn)

    async def create() -> None:
        await _admin(admin, f'CREATE DATABASE "{name}"')
        engine = create_engine(_asyncpg_dsn(pg_dsn, name))
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    try:
        asyncio.run(create())
    except (OSError, asyncpg.PostgresError) as exc:  # unreachable server: an error, never a skip
        pytest.fail(f"PostgreSQL at {PG_ENV} is unreachable: {exc}")
    yield name
    asyncio.run(_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def pg_url(pg_dsn: str, pg_template: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test."""
    name = f"mseg_t_{uuid.uuid4().hex[:12]}"
    admin = _asyncpg_dsn(pg_dsn)
    asyncio.run(_admin(admin, f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    yield normalise_url(_asyncpg_dsn(pg_dsn, name))
    asyncio.run(_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def pg_empty_url(pg_dsn: str) -> Iterator[str]:
    """A fresh, *unmigrated* PostgreSQL database (for migration tests)."""
    name = f"mseg_e_{uuid.uuid4().hex[:12]}"
    admin = _asyncpg_dsn(pg_dsn)
    asyncio.run(_admin(admin, f'CREATE DATABASE "{name}"'))
    yield normalise_url(_asyncpg_dsn(pg_dsn, name))
    asyncio.run(_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'journal.sqlite3'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """Run a test once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        url: str = request.getfixturevalue("sqlite_url")
    else:
        url = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def secret() -> DeploymentSecret:
    return DeploymentSecret(b"k" * 32)


@pytest.fixture
async def journal(db_url: str, secret: DeploymentSecret) -> AsyncIterator[Journal]:
    engine = create_engine(db_url)
    if engine.dialect.name == "sqlite":
        await upgrade(engine)
    try:
        yield Journal(engine, secret)
    finally:
        await engine.dispose()

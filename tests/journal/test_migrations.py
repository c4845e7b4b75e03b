"""No drift between the SQLAlchemy metadata and the Alembic migrations, on both databases."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import gateway.ui.schema  # noqa: F401 - registers the UI's tables on the shared metadata
from gateway.journal.engine import create_engine
from gateway.journal.migrate import compare_options, current_revision, head_revision, upgrade
from gateway.journal.schema import metadata


def _diff(connection: Any) -> list[Any]:
    ctx = MigrationContext.configure(connection, opts=compare_options(connection.dialect.name))
    return list(compare_metadata(ctx, metadata))


async def _check(url: str) -> None:
    engine = create_engine(url)
    try:
        assert await current_revision(engine) is None
        await upgrade(engine)
        assert await current_revision(engine) == head_revision()
        async with engine.connect() as conn:
            diff = await conn.run_sync(_diff)
        assert diff == [], f"schema drift between migrations and metadata: {diff}"
        await upgrade(engine)  # idempotent
        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()


async def test_migrations_match_metadata_sqlite(sqlite_url: str) -> None:
    await _check(sqlite_url)


@pytest.mark.postgres
async def test_migrations_match_metadata_postgres(pg_empty_url: str) -> None:
    await _check(pg_empty_url)

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


async def _down_and_up_0017(url: str) -> None:
    """0017 adds submissions.outcome_text and its downgrade removes it, rows kept."""
    import sqlalchemy as sa
    from alembic import command

    from gateway.journal.migrate import alembic_config

    def downgrade(connection: sa.Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0016_inbound_identity")

    def columns(connection: sa.Connection) -> set[str]:
        return {c["name"] for c in sa.inspect(connection).get_columns("submissions")}

    engine = create_engine(url)
    try:
        await upgrade(engine)
        async with engine.connect() as conn:
            assert "outcome_text" in await conn.run_sync(columns)
        async with engine.begin() as conn:
            await conn.run_sync(downgrade)
        assert await current_revision(engine) == "0016_inbound_identity"
        async with engine.connect() as conn:
            assert "outcome_text" not in await conn.run_sync(columns)
        await upgrade(engine)
        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()


async def test_0017_downgrades_sqlite(sqlite_url: str) -> None:
    await _down_and_up_0017(sqlite_url)


@pytest.mark.postgres
async def test_0017_downgrades_postgres(pg_empty_url: str) -> None:
    await _down_and_up_0017(pg_empty_url)

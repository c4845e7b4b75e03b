"""`db upgrade` and `status`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import click
from sqlalchemy.engine import make_url

from gateway.cli._common import data_dir_option, load
from gateway.cli.messages import echo, say
from gateway.common.secrets import load_or_create_secret
from gateway.config import GatewayConfig
from gateway.journal.engine import create_engine
from gateway.journal.migrate import current_revision, head_revision, upgrade
from gateway.journal.store import Journal

__all__ = ["db", "sqlite_missing", "status"]


@click.group()
def db() -> None:
    """Manage the journal's database schema."""


@db.command("upgrade")
@data_dir_option
@click.pass_context
def db_upgrade(ctx: click.Context, data_dir: Path | None) -> None:
    """Apply Alembic migrations up to the newest revision (idempotent)."""
    config = load(ctx, data_dir=data_dir)

    async def run() -> tuple[str | None, str | None]:
        engine = create_engine(config.database_url)
        try:
            before = await current_revision(engine)
            await upgrade(engine)
            return before, await current_revision(engine)
        finally:
            await engine.dispose()

    before, after = asyncio.run(run())
    echo("db.upgraded", before=before or say("db.empty"), after=after)


def sqlite_missing(config: GatewayConfig) -> bool:
    url = make_url(config.database_url)
    return url.get_backend_name() == "sqlite" and bool(url.database) and not Path(url.database or "").exists()


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@data_dir_option
@click.pass_context
def status(ctx: click.Context, as_json: bool, data_dir: Path | None) -> None:
    """Counts of submissions per state. Read-only; exit 1 if the journal is missing or behind."""
    config = load(ctx, data_dir=data_dir)
    if sqlite_missing(config):
        echo("no_journal", err=True, url=config.database_url)
        ctx.exit(1)

    async def run() -> tuple[str | None, dict[str, int]]:
        engine = create_engine(config.database_url)
        try:
            revision = await current_revision(engine)
            if revision != head_revision():
                return revision, {}
            journal = Journal(engine, load_or_create_secret(config.secret_key_path))
            return revision, {str(k): v for k, v in (await journal.counts_by_state()).items()}
        finally:
            await engine.dispose()

    revision, counts = asyncio.run(run())
    if revision != head_revision():
        echo("db.behind", err=True, revision=revision or say("db.empty"), head=head_revision())
        ctx.exit(1)
    if as_json:
        click.echo(json.dumps({"schema": revision, "total": sum(counts.values()), "states": counts}))
        return
    width = max(len(k) for k in counts)
    for state, n in counts.items():
        click.echo(f"{state:<{width}}  {n:>9}")
    total = say("status.total")
    click.echo(f"{total:<{width}}  {sum(counts.values()):>9}")

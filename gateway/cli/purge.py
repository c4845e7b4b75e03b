"""`mse-gateway purge --older-than PERIOD`: retention of personal data (docs/deployment.md).

Anonymises (default) or deletes final submissions whose outcome is older than PERIOD; each run is
written to the audit trail the monitoring UI shows (user ``cli:<login>``, action ``purge``), dry
runs included.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import re
from datetime import timedelta
from pathlib import Path

import click

from gateway.cli._common import data_dir_option, load
from gateway.cli.db import sqlite_missing
from gateway.cli.messages import echo, say
from gateway.common.clock import SystemClock
from gateway.common.secrets import load_or_create_secret
from gateway.journal.engine import create_engine
from gateway.journal.migrate import current_revision, head_revision
from gateway.journal.retention import PurgeMode, PurgeResult
from gateway.journal.store import Journal
from gateway.ui.schema import ui_audit

__all__ = ["operator_name", "parse_period", "purge"]

_PERIOD = re.compile(r"^\s*(\d+)\s*(d|w|m|y)\s*$")
_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}


def parse_period(text: str) -> timedelta:
    """``30d``, ``12w``, ``6m`` (30-day months), ``5y`` (365-day years)."""
    match = _PERIOD.match(text.lower())
    if match is None or int(match.group(1)) == 0:
        raise click.BadParameter(say("period.bad", text=repr(text)))
    return timedelta(days=int(match.group(1)) * _DAYS[match.group(2)])


def operator_name() -> str:
    """``cli:<login>``: who ran a command, for the audit trail."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


@click.command()
@click.option("--older-than", "older_than", required=True, help="Retention period: 365d, 52w, 12m, 5y.")
@click.option(
    "--mode",
    type=click.Choice([m.value for m in PurgeMode]),
    default=PurgeMode.ANONYMISE.value,
    show_default=True,
    help="anonymise: keep states and timeline, remove personal data; delete: remove the submissions.",
)
@click.option("--dry-run", is_flag=True, help="Count what would be purged; change nothing (still audited).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@data_dir_option
@click.pass_context
def purge(ctx: click.Context, older_than: str, mode: str, dry_run: bool, as_json: bool, data_dir: Path | None) -> None:
    """Remove personal data of final submissions (REGISTERED, REJECTED, FAILED) whose outcome is older
    than --older-than. DEAD submissions and those with an outcome notice still pending are kept."""
    period = parse_period(older_than)
    config = load(ctx, data_dir=data_dir)
    if sqlite_missing(config):
        echo("error", err=True, message=say("no_journal", url=config.database_url))
        ctx.exit(1)
    actor = operator_name()

    async def run() -> PurgeResult | None:
        engine = create_engine(config.database_url)
        try:
            if await current_revision(engine) != head_revision():
                return None
            journal = Journal(engine, load_or_create_secret(config.secret_key_path), clock=SystemClock())
            cutoff = journal.clock.now() - period
            result, _ = await journal.purge(cutoff, mode=PurgeMode(mode), actor=actor, dry_run=dry_run)
            async with engine.begin() as conn:
                await conn.execute(
                    ui_audit.insert().values(
                        at=journal.clock.now(),
                        username=actor,
                        action="purge",
                        comment=f"{mode} final submissions older than {older_than} (before {cutoff.isoformat()}): "
                        f"{result.submissions}" + (" (dry run)" if dry_run else ""),
                        outcome="dry-run" if dry_run else "ok",
                    )
                )
            return result
        finally:
            await engine.dispose()

    result = asyncio.run(run())
    if result is None:
        echo("error", err=True, message=say("schema_not_current"))
        ctx.exit(1)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "mode": str(result.mode),
                    "cutoff": result.cutoff.isoformat(),
                    "submissions": result.submissions,
                    "dry_run": result.dry_run,
                }
            )
        )
    else:
        verb = (
            "purge.would"
            if dry_run
            else ("purge.anonymised" if result.mode is PurgeMode.ANONYMISE else "purge.deleted")
        )
        echo("purge.done", n=result.submissions, cutoff=f"{result.cutoff:%Y-%m-%d %H:%M}", verb=say(verb))

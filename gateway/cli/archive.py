"""`mse-gateway archive run|show`: the retention job by hand, and where an archived submission's
envelopes are (docs/journal.md, "Archiving").

``run`` takes the ``[retention]`` settings (``--older-than`` and ``--policy`` override them) and is
audited like the scheduled runs (user ``cli:<login>``, action ``archive``), dry runs included.
``show ID`` says whether a submission's envelopes are in the journal, in which archive file, or
deleted; ``--envelopes`` prints them back from the file (masked unless ``--raw``: they hold
personal data; reading them is audited).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from gateway.cli._common import data_dir_option, load
from gateway.cli.db import sqlite_missing
from gateway.cli.messages import echo, say
from gateway.cli.purge import operator_name, parse_period
from gateway.common.clock import SystemClock
from gateway.common.pii import mask_text
from gateway.common.secrets import load_or_create_secret
from gateway.config import GatewayConfig
from gateway.errors import NotFound
from gateway.journal.archive import DELETED, ArchivePolicy, ArchiveResult
from gateway.journal.engine import create_engine
from gateway.journal.migrate import current_revision, head_revision
from gateway.journal.store import Journal
from gateway.monitoring.archiving import run_archive
from gateway.ui.schema import ui_audit

__all__ = ["archive"]

T = TypeVar("T")


@click.group()
def archive() -> None:
    """Archiving of final submissions' envelopes (retention, [retention] in the configuration)."""


def _with_journal(ctx: click.Context, config: GatewayConfig, work: Callable[[Journal], Awaitable[T]]) -> T:
    if sqlite_missing(config):
        echo("error", err=True, message=say("no_journal", url=config.database_url))
        ctx.exit(1)

    async def run() -> T | None:
        engine = create_engine(config.database_url)
        try:
            if await current_revision(engine) != head_revision():
                return None
            journal = Journal(engine, load_or_create_secret(config.secret_key_path), clock=SystemClock())
            return await work(journal)
        finally:
            await engine.dispose()

    result = asyncio.run(run())
    if result is None:
        echo("error", err=True, message=say("schema_not_current"))
        ctx.exit(1)
    return result


@archive.command("run")
@click.option("--older-than", "older_than", default=None, help="Age: 365d, 52w, 12m, 5y (default: the config's).")
@click.option("--policy", type=click.Choice([p.value for p in ArchivePolicy]), default=None,
              help="archive: to files in the archive directory; delete: remove (default: the config's).")  # fmt: skip
@click.option("--max-batches", type=click.IntRange(min=1), default=None, help="At most this many batches.")
@click.option("--dry-run", is_flag=True, help="Count what would be archived; change nothing (still audited).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@data_dir_option
@click.pass_context
def run_cmd(
    ctx: click.Context, older_than: str | None, policy: str | None, max_batches: int | None, dry_run: bool,
    as_json: bool, data_dir: Path | None,
) -> None:  # fmt: skip
    """Move the envelopes of final submissions (REGISTERED, REJECTED, FAILED, CANCELLED) last changed
    before the age out of the journal. DEAD and open submissions, and those with an outcome notice
    still pending, are never taken."""
    period = parse_period(older_than) if older_than else None
    config = load(ctx, data_dir=data_dir)
    actor = operator_name()

    async def work(journal: Journal) -> ArchiveResult:
        return await run_archive(
            journal, config, actor=actor, older_than=period, policy=ArchivePolicy(policy) if policy else None,
            dry_run=dry_run, max_batches=max_batches,
        )  # fmt: skip

    result = _with_journal(ctx, config, work)
    data = {
        "policy": str(result.policy),
        "cutoff": result.cutoff.isoformat(),
        "submissions": result.submissions,
        "envelopes": result.envelopes,
        "bytes": result.bytes,
        "files": list(result.files),
        "archive_dir": str(config.archive_dir) if result.policy is ArchivePolicy.ARCHIVE else None,
        "more": result.more,
        "dry_run": result.dry_run,
    }
    if as_json:
        click.echo(json.dumps(data))
        return
    verb = say(
        "archive.would"
        if dry_run
        else ("archive.archived" if result.policy is ArchivePolicy.ARCHIVE else "archive.deleted")
    )
    echo(
        "archive.done",
        envelopes=result.envelopes,
        bytes=result.bytes,
        submissions=result.submissions,
        cutoff=f"{result.cutoff:%Y-%m-%d %H:%M}",
        verb=verb,
        files=say("archive.files", n=len(result.files), directory=config.archive_dir) if result.files else "",
        more=say("archive.more") if result.more else "",
    )


@archive.command("show")
@click.argument("submission_id")
@click.option("--envelopes", "with_envelopes", is_flag=True, help="Print the archived envelopes (masked).")
@click.option("--raw", is_flag=True, help="With --envelopes: unmasked (personal data; audited).")
@data_dir_option
@click.pass_context
def show_cmd(ctx: click.Context, submission_id: str, with_envelopes: bool, raw: bool, data_dir: Path | None) -> None:
    """Where a submission's envelopes are: in the journal, in an archive file, or deleted."""
    config = load(ctx, data_dir=data_dir)
    actor = operator_name()

    async def work(journal: Journal) -> dict[str, Any]:
        try:
            sub = await journal.get(submission_id)
        except NotFound:
            return {"error": say("archive.no_submission", id=submission_id)}
        state = await journal.archive_state(submission_id)
        out: dict[str, Any] = {"id": sub.id, "state": str(sub.state), "archived": state is not None}
        if state is None:
            out["envelopes"] = "journal"
            return out
        out["archived_at"] = state.at.isoformat()
        out["envelopes"] = DELETED if state.ref == DELETED else "archive"
        if state.ref != DELETED:
            out["file"] = str(config.archive_dir / state.ref)
        if with_envelopes and state.ref != DELETED:
            found = journal.open_archived(config.archive_dir, state.ref, submission_id)
            out["items"] = [
                {"id": e.id, "at": e.at.isoformat(), "direction": e.direction, "peer": e.peer,
                 "content_type": e.content_type, "sha256": e.sha256,
                 "body": e.body.decode("utf-8", "replace") if raw else mask_text(e.body.decode("utf-8", "replace"))}
                for e in found
            ]  # fmt: skip
            async with journal.writing() as conn:
                await conn.execute(
                    ui_audit.insert().values(
                        at=journal.clock.now(), username=actor, action="archive-read", submission_id=submission_id,
                        comment=f"{len(found)} archived envelopes from {state.ref}" + (" unmasked" if raw else ""),
                        outcome="ok",
                    )
                )  # fmt: skip
        return out

    out = _with_journal(ctx, config, work)
    if "error" in out:
        echo("error", err=True, message=out["error"])
        ctx.exit(1)
    click.echo(json.dumps(out, ensure_ascii=False, indent=2))

"""The retention job: archiving final submissions' envelopes on a schedule (``[retention]``), and
one run of it for the ``mse-gateway archive`` command.

Every run, scheduled or by hand, dry runs included, is written to the audit trail the monitoring
UI shows (user ``retention`` for the schedule, ``cli:<login>`` by hand; action ``archive``) and
counted in the ``mse_gateway_archived_*`` metrics.

**One process runs it.** With several gateway processes on one journal, the schedule is a lease in
the journal (``retention-archiver``, :class:`gateway.journal.peer_messages.ReceiverLeases`): a
process takes it when it has expired, holds it (renewed between slices of batches) while it runs,
and after the run sets it to expire when the next run is due — so the schedule survives restarts
and a standby process takes over when the one that ran it is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from typing import Final

from aiohttp import web

from gateway.appkeys import CONFIG_KEY, JOURNAL_KEY
from gateway.common.logs import get_logger
from gateway.config import GatewayConfig
from gateway.journal.archive import ArchivePolicy, ArchiveResult
from gateway.journal.peer_messages import ReceiverLeases
from gateway.journal.store import Journal
from gateway.monitoring.counters import record_archive_run
from gateway.ui.schema import ui_audit

__all__ = ["ARCHIVER_LEASE", "archive_ctx", "run_archive"]

_log: Final = get_logger(__name__)
ARCHIVER_LEASE: Final = "retention-archiver"
SCHEDULE_ACTOR: Final = "retention"
_SLICE: Final = 20  # batches between renewals of the lease
_RUN_LEASE_SECONDS: Final = 900.0
_CHECK_SECONDS: Final = 300.0


async def run_archive(
    journal: Journal,
    config: GatewayConfig,
    *,
    actor: str,
    older_than: timedelta | None = None,
    policy: ArchivePolicy | None = None,
    dry_run: bool = False,
    max_batches: int | None = None,
    between_slices: Callable[[], Awaitable[None]] | None = None,
) -> ArchiveResult:
    """One retention run with the ``[retention]`` settings (``older_than``/``policy`` override
    them), audited and counted. ``between_slices`` is awaited between slices of batches (the
    schedule renews its lease there)."""
    cfg = config.retention
    chosen = policy or ArchivePolicy(cfg.policy)
    cutoff = journal.clock.now() - (older_than or timedelta(days=cfg.archive_after_days))
    directory = config.archive_dir if chosen is ArchivePolicy.ARCHIVE else None
    limit = max_batches if max_batches is not None else cfg.max_batches_per_run
    total: ArchiveResult | None = None
    batches = 0
    try:
        while True:
            step = min(_SLICE, limit - batches)
            result = await journal.archive(
                cutoff, policy=chosen, directory=directory, actor=actor, batch=cfg.batch, max_batches=step,
                pause_seconds=cfg.pause_seconds, dry_run=dry_run,
            )  # fmt: skip
            batches += step
            total = result if total is None else _merge(total, result)
            if dry_run or not result.more or batches >= limit:
                break
            if between_slices is not None:
                await between_slices()
    except Exception as exc:
        record_archive_run(str(chosen), 0, 0, 0, at=time.time(), ok=False)
        await _audit(journal, actor, f"{chosen} envelopes of final submissions before {cutoff.isoformat()}: "
                     f"{type(exc).__name__}", "error")  # fmt: skip
        raise
    assert total is not None
    if not dry_run:
        record_archive_run(str(chosen), total.submissions, total.envelopes, total.bytes, at=time.time(), ok=True)
    files = f"; {len(total.files)} files" if total.files else ""
    await _audit(
        journal, actor,
        f"{chosen} envelopes of final submissions last changed before {cutoff.isoformat()}: {total.submissions} "
        f"submissions, {total.envelopes} envelopes, {total.bytes} bytes{files}" + (" (more left)" if total.more else "")
        + (" (dry run)" if dry_run else ""),
        "dry-run" if dry_run else "ok",
    )  # fmt: skip
    return total


def _merge(a: ArchiveResult, b: ArchiveResult) -> ArchiveResult:
    return replace(
        b, submissions=a.submissions + b.submissions, envelopes=a.envelopes + b.envelopes, bytes=a.bytes + b.bytes,
        files=a.files + b.files,
    )  # fmt: skip


async def _audit(journal: Journal, actor: str, comment: str, outcome: str) -> None:
    async with journal.writing() as conn:
        await conn.execute(
            ui_audit.insert().values(
                at=journal.clock.now(), username=actor, action="archive", comment=comment, outcome=outcome
            )
        )


def archive_ctx() -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context (after the journal's) running the retention job when ``[retention]`` is
    enabled."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        config: GatewayConfig = app[CONFIG_KEY]
        if not config.retention.enabled:
            yield
            return
        journal: Journal = app[JOURNAL_KEY]
        leases = ReceiverLeases(journal)
        owner = f"retention:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        interval = config.retention.interval_hours * 3600.0

        async def renew() -> None:
            await leases.acquire(ARCHIVER_LEASE, owner, _RUN_LEASE_SECONDS)

        async def loop() -> None:
            while True:
                next_check = min(_CHECK_SECONDS, interval)
                try:
                    # Taken only when expired (or ours after a failed run): the lease's expiry is the
                    # time the next run is due, whoever runs it.
                    if await leases.acquire(ARCHIVER_LEASE, owner, _RUN_LEASE_SECONDS):
                        result = await run_archive(journal, config, actor=SCHEDULE_ACTOR, between_slices=renew)
                        await leases.acquire(ARCHIVER_LEASE, owner, interval if not result.more else next_check)
                        _log.info("retention run", submissions=result.submissions, envelopes=result.envelopes,
                                  more=result.more)  # fmt: skip
                        if not result.more:
                            next_check = interval
                except Exception:
                    _log.exception("retention run failed")
                await asyncio.sleep(next_check)

        task = asyncio.create_task(loop(), name="retention")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return ctx

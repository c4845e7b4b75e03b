"""Archiving (retention of envelopes): only final submissions, files before deletions, envelopes
readable back from the archive, the row kept and saying where; the delete policy; the candidate
query served by the partial index; the CLI audited; the schedule run by one process at a time."""

from __future__ import annotations

import asyncio
import gzip
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp import web
from click.testing import CliRunner

from gateway.appkeys import CONFIG_KEY, JOURNAL_KEY
from gateway.cli import main
from gateway.config import GatewayConfig
from gateway.journal.archive import DELETED, ArchivePolicy
from gateway.journal.schema import TO_ARCHIVE_SQL, envelopes, events, submissions
from gateway.journal.store import Journal
from gateway.model import FINAL_STATES
from gateway.monitoring.archiving import archive_ctx, run_archive
from gateway.ui.schema import ui_audit

from .test_retention import _count, _finals

ENVELOPE = b"<e>112-233-445 95</e>"


async def test_archive_moves_final_envelopes_to_files_and_keeps_the_rows(journal: Journal, tmp_path: Path) -> None:
    tmp_path = tmp_path / "archive"  # the SQLite journal lives in tmp_path itself
    tmp_path.mkdir()
    ids = await _finals(journal)  # registered, rejected, failed, dead, sent; the SENT step recorded an envelope
    later = journal.clock.now() + timedelta(days=1)
    none = await journal.archive(journal.clock.now() - timedelta(days=1), policy=ArchivePolicy.ARCHIVE,
                                 directory=tmp_path, actor="t")  # fmt: skip
    assert none.submissions == 0 and none.files == ()
    dry = await journal.archive(later, policy=ArchivePolicy.ARCHIVE, directory=tmp_path, actor="t", dry_run=True)
    assert (dry.submissions, dry.envelopes, dry.dry_run) == (3, 2, True)  # registered and failed were sent
    assert list(tmp_path.iterdir()) == []  # a dry run writes nothing

    done = await journal.archive(later, policy=ArchivePolicy.ARCHIVE, directory=tmp_path, actor="t", batch=2)
    assert (done.submissions, done.envelopes, len(done.files), done.more) == (3, 2, 2, False)
    for name in ("registered", "failed"):
        assert await _count(journal, envelopes, ids[name]) == 0
        state = await journal.archive_state(ids[name])
        assert state is not None and state.ref in done.files
        back = journal.open_archived(tmp_path, state.ref, ids[name])
        assert [e.body for e in back] == [ENVELOPE]
        sub = await journal.get(ids[name])  # the row stays: a look-up by id still works
        assert sub.is_final
        notes = [e.message for e in await journal.events(ids[name]) if e.kind == "note"]
        assert notes[-1] == f"envelopes archived to {state.ref}"
    rejected = await journal.archive_state(ids["rejected"])
    assert rejected is not None  # no envelopes, archived all the same (nothing left to take)
    for name in ("dead", "sent"):  # never anything that is not final
        assert await journal.archive_state(ids[name]) is None
        assert await _count(journal, envelopes, ids[name]) == 1
    with gzip.open(tmp_path / done.files[0], "rt") as lines:
        first = json.loads(lines.readline())
    assert "submission" in first and ENVELOPE not in json.dumps(first).encode()  # bodies stay sealed
    again = await journal.archive(later, policy=ArchivePolicy.ARCHIVE, directory=tmp_path, actor="t")
    assert again.submissions == 0  # archived rows are not candidates again


async def test_delete_policy_and_late_envelopes(journal: Journal, tmp_path: Path) -> None:
    ids = await _finals(journal)
    later = journal.clock.now() + timedelta(days=1)
    done = await journal.archive(later, policy=ArchivePolicy.DELETE, directory=None, actor="t")
    assert (done.submissions, done.envelopes, done.files) == (3, 2, ())
    state = await journal.archive_state(ids["registered"])
    assert state is not None and state.ref == DELETED
    assert await _count(journal, envelopes, ids["registered"]) == 0
    assert await _count(journal, events, ids["registered"]) > 0  # the timeline stays
    with pytest.raises(ValueError, match="archive directory"):
        await journal.archive(later, policy=ArchivePolicy.ARCHIVE, directory=None, actor="t")


async def test_a_batch_deletes_only_the_envelopes_it_wrote(journal: Journal, tmp_path: Path) -> None:
    """An envelope recorded between reading a batch and its deletion (a late callback) stays."""
    tmp_path = tmp_path / "archive"
    ids = await _finals(journal)
    sid = ids["registered"]
    real_write = journal._seal_batch

    async def late_callback_first(*args: Any, **kw: Any) -> None:
        async with journal.writing() as conn:
            await conn.execute(
                envelopes.insert().values(
                    submission_id=sid, at=journal.clock.now(), direction="in", peer="remd", content_type="text/xml",
                    size=3, sha256="0" * 64, codec="zlib+aesgcm1", body=journal.seal_body(b"<late/>", bind=sid),
                )
            )  # fmt: skip
        await real_write(*args, **kw)

    journal._seal_batch = late_callback_first  # type: ignore[method-assign]
    await journal.archive(journal.clock.now() + timedelta(days=1), policy=ArchivePolicy.ARCHIVE,
                          directory=tmp_path, actor="t")  # fmt: skip
    left = await journal.envelopes(sid)
    assert [await journal.envelope_body(e.id) for e in left] == [b"<late/>"]


def test_partial_index_predicates_name_the_final_states() -> None:
    listed = TO_ARCHIVE_SQL.split("(")[1].split(")")[0]
    assert {s.strip(" '") for s in listed.split(",")} == {str(s) for s in FINAL_STATES}


async def test_candidates_come_from_the_partial_index(sqlite_url: str, tmp_path: Path) -> None:
    from gateway.common.secrets import DeploymentSecret
    from gateway.journal.engine import create_engine
    from gateway.journal.migrate import upgrade

    engine = create_engine(sqlite_url)
    await upgrade(engine)
    journal = Journal(engine, DeploymentSecret(b"k" * 32))
    try:
        stmt = journal._to_archive(journal.clock.now()).limit(500)
        sql = str(stmt.compile(engine.sync_engine, compile_kwargs={"literal_binds": True}))
        async with engine.connect() as conn:
            plan = [r[-1] for r in (await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)).all()]
        assert any("USING INDEX ix_submissions_to_archive" in p for p in plan), plan
        assert not any(p.startswith("SCAN submissions") for p in plan), plan
    finally:
        await engine.dispose()


def _config(tmp_path: Path, **retention: Any) -> GatewayConfig:
    return GatewayConfig().with_overrides(storage={"data_dir": str(tmp_path)}, retention=retention)


async def test_run_archive_is_audited(journal: Journal, tmp_path: Path) -> None:
    await _finals(journal)
    config = _config(tmp_path, archive_after_days=1)
    journal.clock.now = lambda now=journal.clock.now() + timedelta(days=2): now  # type: ignore[method-assign]
    result = await run_archive(journal, config, actor="cli:test")
    assert result.submissions == 3 and (tmp_path / "archive" / result.files[0]).is_file()
    async with journal.engine.connect() as conn:
        rows = (await conn.execute(sa.select(ui_audit).where(ui_audit.c.action == "archive"))).all()
    assert len(rows) == 1 and rows[0].username == "cli:test" and "3 submissions" in rows[0].comment


async def test_the_schedule_runs_in_one_process(journal: Journal, tmp_path: Path) -> None:
    """Two gateway processes' retention contexts on one journal: one run, audited once."""
    await _finals(journal)
    journal.clock.now = lambda now=journal.clock.now() + timedelta(days=2): now  # type: ignore[method-assign]
    config = _config(tmp_path, enabled=True, archive_after_days=1, interval_hours=1.0, pause_seconds=0.0)
    apps = []
    for _ in range(2):
        app = web.Application()
        app[CONFIG_KEY] = config
        app[JOURNAL_KEY] = journal
        apps.append(app)
    contexts = [archive_ctx()(app) for app in apps]
    for c in contexts:
        await anext(c)  # type: ignore[call-overload]
    try:
        for _ in range(100):
            async with journal.engine.connect() as conn:
                n = (await conn.execute(sa.select(sa.func.count()).where(ui_audit.c.action == "archive"))).scalar()
            if n:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # time for a second run, were the lease not held
    finally:
        for c in contexts:
            with pytest.raises(StopAsyncIteration):
                await anext(c)  # type: ignore[call-overload]
    async with journal.engine.connect() as conn:
        runs = (await conn.execute(sa.select(ui_audit.c.username).where(ui_audit.c.action == "archive"))).all()
        archived = (
            await conn.execute(sa.select(sa.func.count()).where(submissions.c.archived_at.is_not(None)))
        ).scalar()
    assert [r.username for r in runs] == ["retention"] and archived == 3


def test_archive_command(tmp_path: Path) -> None:
    runner = CliRunner()
    data = ["--data-dir", str(tmp_path)]
    assert runner.invoke(main, ["db", "upgrade", *data]).exit_code == 0

    async def old_final() -> str:
        from gateway.common.secrets import load_or_create_secret
        from gateway.journal.engine import create_engine
        from gateway.journal.store import Changes
        from gateway.model import EnvelopeIn, State

        from .factories import draft

        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'gateway.sqlite3'}")
        journal = Journal(engine, load_or_create_secret(tmp_path / "secret.key"))
        try:
            sub, _ = await journal.submit(draft("uid-old"))
            for state in (State.VALIDATED, State.QUEUED, State.SENT, State.REGISTERED):
                sent = [EnvelopeIn("out", "remd", "application/soap+xml", ENVELOPE)] if state is State.SENT else []
                await journal.transition(sub.id, state, actor="t", changes=Changes(), envelopes_in=sent)
            async with engine.begin() as conn:
                two_years = journal.clock.now() - timedelta(days=730)
                await conn.execute(submissions.update().values(updated_at=two_years))
            return sub.id
        finally:
            await engine.dispose()

    sid = asyncio.run(old_final())
    dry = runner.invoke(main, ["archive", "run", "--dry-run", "--json", *data])
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.output)["submissions"] == 1
    done = runner.invoke(main, ["archive", "run", "--older-than", "1y", "--json", *data])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["envelopes"] == 1
    shown = runner.invoke(main, ["archive", "show", sid, "--envelopes", *data])
    assert shown.exit_code == 0, shown.output
    out = json.loads(shown.output)
    assert out["archived"] is True and out["file"].startswith(str(tmp_path / "archive"))
    assert "112-233-445 95" not in shown.output and len(out["items"]) == 1  # masked
    missing = runner.invoke(main, ["archive", "show", "no-such-id", *data])
    assert missing.exit_code == 1 and "no submission" in missing.output

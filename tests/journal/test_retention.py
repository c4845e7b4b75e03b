"""Retention: purging personal data of final submissions (anonymise or delete), on SQLite and
PostgreSQL; the CLI command audits every run."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from gateway.cli import main
from gateway.journal.retention import PurgeMode
from gateway.journal.schema import envelopes, events, payloads, submissions
from gateway.journal.store import Changes, Journal
from gateway.model import EnvelopeIn, State

from .factories import draft


async def _finals(journal: Journal) -> dict[str, str]:
    """One submission per interesting state: REGISTERED (with an envelope), REJECTED, FAILED, DEAD
    and one still SENT."""
    now = journal.clock.now()
    out: dict[str, str] = {}
    for name, path in {
        "registered": (State.VALIDATED, State.QUEUED, State.SENT, State.REGISTERED),
        "rejected": (State.REJECTED,),
        "failed": (State.VALIDATED, State.QUEUED, State.SENT, State.FAILED),
        "dead": (State.VALIDATED, State.QUEUED, State.SENT, State.DEAD),
        "sent": (State.VALIDATED, State.QUEUED, State.SENT),
    }.items():
        sub, _ = await journal.submit(draft(f"uid-{name}", content=b'{"patient": "112-233-445 95"}'))
        for state in path:
            changes = Changes(next_attempt_at=now) if state is State.QUEUED else Changes()
            if state is State.REJECTED:  # an FLK text may quote the document: both languages go
                text = {"ru": "СНИЛС 112-233-445 95 неверен", "en": "SNILS 112-233-445 95 is wrong"}
                changes = Changes(outcome_code="FLK_X", outcome_message=text["ru"], outcome_text=text)
            sent = [EnvelopeIn("out", "remd", "application/soap+xml", b"<e>112-233-445 95</e>")]
            await journal.transition(
                sub.id, state, actor="t", changes=changes, details={"report": {"x": 1}},
                envelopes_in=sent if state is State.SENT else (),
            )  # fmt: skip
        out[name] = sub.id
    return out


async def _count(journal: Journal, table: sa.Table, sid: str) -> int:
    async with journal.engine.connect() as conn:
        query = sa.select(sa.func.count()).select_from(table).where(table.c.submission_id == sid)
        return int((await conn.execute(query)).scalar_one())


async def test_anonymise_keeps_the_timeline_and_removes_personal_data(journal: Journal) -> None:
    ids = await _finals(journal)
    later = journal.clock.now() + timedelta(days=1)
    nothing, _ = await journal.purge(journal.clock.now() - timedelta(days=1), mode=PurgeMode.ANONYMISE, actor="t")
    assert nothing.submissions == 0
    dry, would = await journal.purge(later, mode=PurgeMode.ANONYMISE, actor="t", dry_run=True)
    assert dry.submissions == 3 and set(would) == {ids["registered"], ids["rejected"], ids["failed"]}
    assert await _count(journal, payloads, ids["registered"]) == 1  # a dry run changes nothing
    assert any(e.details == {"report": {"x": 1}} for e in await journal.events(ids["registered"]))
    assert (await journal.get(ids["rejected"])).outcome_in("en") == "SNILS 112-233-445 95 is wrong"
    result, touched = await journal.purge(later, mode=PurgeMode.ANONYMISE, actor="cli:test")
    assert result.submissions == 3 and set(touched) == set(would)
    for name in ("registered", "rejected", "failed"):
        sid = ids[name]
        assert await _count(journal, payloads, sid) == 0 and await _count(journal, envelopes, sid) == 0
        sub = await journal.get(sid)
        assert sub.patient_key is None and sub.state is not State.RECEIVED
        assert sub.outcome_message is None and sub.outcome_text is None
        timeline = await journal.events(sid)
        assert timeline[-1].message == "personal data purged (retention period)" and timeline[-1].actor == "cli:test"
        assert [e.details for e in timeline[:-1]] == [{}] * (len(timeline) - 1)  # the reports are gone
    for name in ("dead", "sent"):  # outcome unknown: kept whole
        assert await _count(journal, payloads, ids[name]) == 1
        assert (await journal.get(ids[name])).patient_key is not None
    again, _ = await journal.purge(later + timedelta(days=1), mode=PurgeMode.ANONYMISE, actor="t")
    assert again.submissions == 0  # nothing left to anonymise


async def test_delete_removes_the_submissions_and_what_hangs_on_them(journal: Journal) -> None:
    ids = await _finals(journal)
    result, _ = await journal.purge(journal.clock.now() + timedelta(days=1), mode=PurgeMode.DELETE, actor="t")
    assert result.submissions == 3
    async with journal.engine.connect() as conn:
        left = set((await conn.execute(sa.select(submissions.c.id))).scalars())
        orphans = (await conn.execute(sa.select(sa.func.count()).select_from(events).where(
            events.c.submission_id.in_([ids["registered"], ids["rejected"], ids["failed"]])
        ))).scalar_one()  # fmt: skip
    assert left == {ids["dead"], ids["sent"]} and orphans == 0


def test_purge_command_is_audited(tmp_path: Path) -> None:
    runner = CliRunner()
    data = ["--data-dir", str(tmp_path)]
    assert runner.invoke(main, ["db", "upgrade", *data]).exit_code == 0
    dry = runner.invoke(main, ["purge", "--older-than", "30d", "--dry-run", "--json", *data])
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.output)["dry_run"] is True
    done = runner.invoke(main, ["purge", "--older-than", "5y", "--mode", "delete", *data])
    assert done.exit_code == 0 and "deleted" in done.output
    bad = runner.invoke(main, ["purge", "--older-than", "soon", *data])
    assert bad.exit_code == 2 and "365d" in bad.output
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'gateway.sqlite3'}")
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT username, action, outcome, comment FROM ui_audit ORDER BY id")).all()
    engine.dispose()
    assert [(r.action, r.outcome) for r in rows] == [("purge", "dry-run"), ("purge", "ok")]
    assert rows[0].username.startswith("cli:") and "older than 30d" in rows[0].comment
    assert "delete" in rows[1].comment


@pytest.mark.parametrize("text", ["0d", "-1d", "12", "1h"])
def test_periods_are_checked(text: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["purge", "--older-than", text, "--data-dir", str(tmp_path)])
    assert result.exit_code == 2

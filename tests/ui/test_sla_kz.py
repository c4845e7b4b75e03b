"""The deadline report for the Kazakh 031/у: the 1-working-day rule (16:00 cut-off) starts at the
arrival at ЦБДИ as the peer reported it, else at the gateway's send; it ends at the decision time
the peer reported; shares per region with the pilot's phase."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from gateway.common.secrets import DeploymentSecret
from gateway.common.workdays import Stage
from gateway.journal.engine import create_engine
from gateway.journal.migrate import upgrade
from gateway.journal.schema import submissions
from gateway.journal.store import Journal
from gateway.model import State, SubmissionDraft
from gateway.ui import queries
from gateway.ui.queries import read

ALA = ZoneInfo("Asia/Almaty")


class Clock:
    def __init__(self, t: datetime) -> None:
        self.t = t

    def now(self) -> datetime:
        return self.t


def ala(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 7, day, hour, minute, tzinfo=ALA).astimezone(UTC)


async def _031u(
    journal: Journal,
    clock: Clock,
    region: str,
    sent: datetime,
    arrived: datetime | None,
    decided: datetime | None,
    recorded: datetime | None,
) -> str:
    clock.t = ala(1, 8)  # created long before it was sent
    payload = f"{region}{sent.isoformat()}{arrived}{decided}".encode()
    sub, _ = await journal.submit(
        SubmissionDraft("mis", f"uid-{hashlib.sha256(payload).hexdigest()[:16]}", "kz-031u", "org",
                        hashlib.sha256(payload).hexdigest(), payload, destination="shep")
    )  # fmt: skip
    async with journal.writing() as conn:
        await conn.execute(submissions.update().where(submissions.c.id == sub.id).values(region=region or None))
    for to in (State.VALIDATED, State.QUEUED):
        await journal.transition(sub.id, to, actor="t")
    clock.t = sent
    await journal.transition(sub.id, State.SENT, actor="t")
    if arrived is not None:
        await journal.note(
            sub.id, kind="progress", actor="shep:progress", code="registered-at-cbdi",
            details={"status": "registered-at-cbdi", "arrived_at": arrived.isoformat(), "region": "75"},
        )  # fmt: skip
    if recorded is not None:
        clock.t = recorded
        details = {"success": True, "registered_at": decided.isoformat()} if decided else None
        await journal.transition(sub.id, State.REGISTERED, actor="t", details=details)
    return sub.id


async def test_kz_deadline_from_reported_arrival_and_decision(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    await upgrade(engine)
    clock = Clock(ala(1, 8))
    journal = Journal(engine, DeploymentSecret(b"k" * 32), clock=clock)
    try:
        # Sent 15:50, arrived at ЦБДИ 16:05 (after the cut-off: due end of Wednesday 2), decided
        # Wednesday 17:00, the answer recorded Thursday: within (the peer's times count).
        # (the submission's own region column is empty: the region named by ЦБДИ's registration counts)
        a = await _031u(journal, clock, "", ala(1, 15, 50), ala(1, 16, 5), ala(2, 17), ala(3, 9))
        # Sent 15:50, no arrival reported: the send counts (due end of Tuesday 1); decided Wednesday: late.
        b = await _031u(journal, clock, "75", ala(1, 15, 50), None, ala(2, 10), ala(2, 11))
        # Mangystau (phase 2), sent Friday 4 at 16:30 before Capital Day (Mon 7 off): due Tue 8, still open on Wed 9.
        c = await _031u(journal, clock, "47", ala(4, 16, 30), None, None, None)
        async with read(engine) as conn:
            report = await queries.sla_report(conn, since=None, until=None, now=ala(9, 12))
        kz = report.stages[Stage.KZ_EXPERT_CONCLUSION]
        assert (kz.measured, kz.within, kz.open_overdue) == (3, 1, 1)
        assert {i.id for i in kz.overdue} == {b, c} and a not in {i.id for i in kz.overdue}
        late = next(i for i in kz.overdue if i.id == b)
        assert late.started_at == ala(1, 15, 50) and late.deadline.astimezone(ALA).day == 1
        assert next(i for i in kz.overdue if i.id == c).deadline.astimezone(ALA).day == 8
        almaty, mangystau = kz.regions["75"], kz.regions["47"]
        assert (almaty.phase, almaty.measured, almaty.within, almaty.share) == ("1", 2, 1, 0.5)
        assert (mangystau.phase, mangystau.measured, mangystau.within) == ("2", 1, 0)
    finally:
        await engine.dispose()

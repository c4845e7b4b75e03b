"""The dashboard's SQL aggregations on both databases, against the seeded plan, and the SLA
arithmetic on the working-day calendars (RU; KZ with the 16:00 rule)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from gateway.common.secrets import DeploymentSecret
from gateway.common.workdays import Stage
from gateway.journal.engine import create_engine
from gateway.journal.schema import submissions
from gateway.journal.store import Journal
from gateway.model import State, SubmissionDraft
from gateway.monitoring.metrics import snapshot
from gateway.ui import queries
from gateway.ui.queries import read
from gateway.ui.schema import ui_dispositions

from .seed import PLAN, StepClock, seed, start_time

MSK = ZoneInfo("Europe/Moscow")
ALMATY = ZoneInfo("Asia/Almaty")


async def test_aggregations_match_the_plan(db_url: str, secret: DeploymentSecret) -> None:
    from gateway.journal.migrate import upgrade

    engine = create_engine(db_url)
    await upgrade(engine)
    clock = StepClock(start_time())
    journal = Journal(engine, secret, clock=clock)
    try:
        await seed(journal, clock)
        since, until = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
        async with read(engine) as conn:
            ov = await queries.overview(conn, since=since, until=until)
            total, per_region = await queries.rejections(conn, since=since, until=until)
            returns = await queries.returns_by_region(conn, since=since, until=until)
            qs = await queries.queue_status(conn)
            errors = await queries.peer_errors(conn, since=since)
            only_77 = await queries.overview(conn, since=since, until=until, region="77")
        assert ov.total.received == len(PLAN)
        assert ov.total.registered == sum(1 for p in PLAN if p[4] in ("registered", "reconciled"))
        assert ov.total.reconciled == 2
        assert ov.by_kind["108"].registered == 3
        assert ov.by_region["50"].received == sum(1 for p in PLAN if p[2] == "50")
        assert only_77.total.received == sum(1 for p in PLAN if p[2] == "77")
        assert dict(ov.failed_by_code) == {"INVALID_SIGNATURE": 2, "SCHEMA_ERROR": 1}
        assert (total["late"], total["duplicate"], total["role"], total["other"]) == (1, 1, 1, 0)
        assert per_region["50"]["duplicate"] == 1
        r50 = next(r for r in returns if r.region == "50")
        referrals_50 = sum(1 for p in PLAN if p[2] == "50" and p[1] in ("121", "109"))
        assert (r50.returns, r50.referrals) == (2, referrals_50)
        assert returns[0].region == "50"  # the highest share first
        assert qs.counts[State.DEAD] == qs.dead == 2 and qs.retry_backlog == 1
        assert qs.oldest_unanswered_at is not None
        assert errors["remd"].errors == 4  # 3 FAILED + 1 RETRY_WAIT, all out of QUEUED or SENT
        snap = await snapshot(journal)
        assert sum(n for _, _, n in snap.by_state_kind) == len(PLAN)
        assert dict(snap.outcome_sources)["reconciled"] == 2
        # An operator's "resolved" moves a DEAD document from "needs an operator" to "closed",
        # in total and in its kind's and region's rows (counted apart from the funnel's GROUP BY).
        assert ov.total.dead == 2
        async with engine.begin() as conn:
            dead = (
                await conn.execute(
                    sa.select(submissions.c.id, submissions.c.kind, submissions.c.region)
                    .where(submissions.c.state == "DEAD")
                    .limit(1)
                )
            ).one()
            await conn.execute(
                ui_dispositions.insert().values(
                    submission_id=dead.id, disposition="resolved", username="olga", at=until, comment="handled"
                )
            )
        async with read(engine) as conn:
            after = await queries.overview(conn, since=since, until=until)
        assert (after.total.dead, after.total.closed) == (1, ov.total.closed + 1)
        assert after.total.received == ov.total.received
        assert after.by_kind[dead.kind].closed == ov.by_kind[dead.kind].closed + 1
        assert (
            after.by_region[dead.region or queries.NO_REGION].dead
            == ov.by_region[dead.region or queries.NO_REGION].dead - 1
        )
    finally:
        await engine.dispose()


async def _registered(journal: Journal, clock: StepClock, kind: str, created: datetime, done: datetime | None) -> str:
    clock.t = created
    payload = f"{kind}{created.isoformat()}".encode()
    sub, _ = await journal.submit(
        SubmissionDraft("mis", f"uid-{created.isoformat()}-{kind}", kind, "org", hashlib.sha256(payload).hexdigest(),
                        payload, destination="remd")
    )  # fmt: skip
    for to in (State.VALIDATED, State.QUEUED, State.SENT):
        await journal.transition(sub.id, to, actor="t")
    if done is not None:
        clock.t = done
        await journal.transition(sub.id, State.REGISTERED, actor="t")
    return sub.id


async def test_sla_on_working_day_calendars(sqlite_url: str, secret: DeploymentSecret) -> None:
    from gateway.journal.migrate import upgrade

    engine = create_engine(sqlite_url)
    await upgrade(engine)
    clock = StepClock(start_time())
    journal = Journal(engine, secret, clock=clock)

    def msk(day: int, hour: int, minute: int = 0) -> datetime:
        return datetime(2026, 11, day, hour, minute, tzinfo=MSK).astimezone(UTC)

    def ala(day: int, hour: int, minute: int = 0) -> datetime:
        return datetime(2026, 11, day, hour, minute, tzinfo=ALMATY).astimezone(UTC)

    try:
        # RU: registration within 1 working day after arrival (Mon 16 Nov 2026 → end of Tue 17).
        on_time = await _registered(journal, clock, "121", msk(16, 10), msk(17, 18))
        # Friday 20 → due end of Monday 23; registered Tuesday 24: late.
        late = await _registered(journal, clock, "121", msk(20, 10), msk(24, 9))
        # Open since Monday 16, still SENT on Thursday 19: overdue and open.
        still_open = await _registered(journal, clock, "121", msk(16, 11), None)
        # Open, arrived Wednesday 18 10:00: due end of Thursday 19, not yet measurable on the 19th.
        await _registered(journal, clock, "121", msk(18, 10), None)
        # KZ 031/у, FROM_ARRIVAL with the 16:00 cut-off: 15:59 Monday is due end of Monday...
        kz_late = await _registered(journal, clock, "kz-031u", ala(16, 15, 59), ala(17, 10))
        # ...16:01 Monday counts from Tuesday: due end of Tuesday.
        kz_ok = await _registered(journal, clock, "kz-031u", ala(16, 16, 1), ala(17, 10))
        now = msk(19, 12)
        async with read(engine) as conn:
            report = await queries.sla_report(conn, since=None, until=None, now=now)
        ru, kz = report.stages[Stage.RU_REGISTRATION], report.stages[Stage.KZ_EXPERT_CONCLUSION]
        assert (ru.measured, ru.within, ru.open_overdue) == (3, 1, 1)
        assert {i.id for i in ru.overdue} == {late, still_open}
        assert on_time not in {i.id for i in ru.overdue}
        assert (kz.measured, kz.within) == (2, 1)
        assert [i.id for i in kz.overdue] == [kz_late] and kz_ok not in {i.id for i in kz.overdue}
        assert ru.share == 1 / 3
        late_item = next(i for i in ru.overdue if i.id == late)
        assert late_item.deadline.astimezone(MSK).date().isoformat() == "2026-11-23"
    finally:
        await engine.dispose()

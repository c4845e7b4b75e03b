"""The bureaus' KSI on the Russian working-day calendar: the stage arithmetic at its boundaries
(Friday, public holidays, the Moscow day boundary, a Saturday made a working day and the weekdays
given in exchange), then the report over a real journal on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from gateway.common.workdays import default_calendar
from gateway.journal.schema import events, ksi_marks, submissions
from gateway.journal.store import Journal
from gateway.model import State, SubmissionDraft
from gateway.monitoring.ksi import KsiStage, judge, ksi_report


def draft(local_uid: str, region: str) -> SubmissionDraft:
    content = local_uid.encode()
    return SubmissionDraft(
        source_system="mis-test",
        local_uid=local_uid,
        kind="121",
        organization_oid=f"1.2.643.5.1.13.13.12.2.{region}.7973",
        content_hash=hashlib.sha256(content).hexdigest(),
        payload=content,
        patient_id=None,
        region=region,
    )


MSK = ZoneInfo("Europe/Moscow")
S2, S3, S6 = KsiStage.STAGE_2, KsiStage.STAGE_3, KsiStage.STAGE_6


def msk(*args: int) -> datetime:
    return datetime(*args, tzinfo=MSK)  # type: ignore[misc]


def end_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 23, 59, 59, 999999, tzinfo=MSK)


# (stage, start, expected deadline day, why)
BOUNDARIES = [
    (S2, msk(2025, 3, 14, 15, 0), date(2025, 3, 17), "received on a Friday: due by the end of Monday"),
    (S2, msk(2025, 3, 15, 11, 0), date(2025, 3, 17), "received on a Saturday: Monday is working day 1"),
    (S6, msk(2025, 3, 14, 23, 30), date(2025, 3, 17), "decided on Friday night: the next working day is Monday"),
    (S6, datetime(2025, 3, 13, 21, 30, tzinfo=UTC), date(2025, 3, 17), "Thursday 21:30 UTC is Friday in Moscow"),
    (S2, msk(2025, 5, 7, 12, 0), date(2025, 5, 12), "8–11 May 2025 are days off (Victory Day and a transfer)"),
    (S3, msk(2025, 4, 30, 10, 0), date(2025, 5, 7), "1–4 May days off: 5, 6, 7 May are working days 1–3"),
    (S2, msk(2024, 12, 27, 10, 0), date(2024, 12, 28), "Saturday 28 Dec 2024 was made a working day"),
    (S3, msk(2024, 12, 28, 12, 0), date(2025, 1, 13), "30–31 Dec 2024 given in exchange, then the New Year holidays"),
    (S6, msk(2024, 11, 1, 16, 0), date(2024, 11, 2), "Saturday 2 Nov 2024 was a working day"),
    (S6, msk(2024, 11, 2, 16, 0), date(2024, 11, 5), "4 Nov (Unity Day) is a holiday"),
]


@pytest.mark.parametrize(("stage", "start", "due", "why"), BOUNDARIES, ids=[b[3] for b in BOUNDARIES])
def test_deadlines_at_the_working_day_boundaries(stage: KsiStage, start: datetime, due: date, why: str) -> None:
    verdict = judge(stage, start, None, start)
    assert verdict.deadline == end_of(due), why
    assert verdict.status == "open"
    # the last instant of the deadline day is on time, the first of the next is late
    assert judge(stage, start, end_of(due), start).status == "within"
    following = due + timedelta(days=1)
    next_morning = datetime(following.year, following.month, following.day, tzinfo=MSK)
    assert judge(stage, start, next_morning, start).status == "late"


def test_the_calendar_knows_the_days_the_boundaries_rely_on() -> None:
    cal = default_calendar("RU")
    assert cal.is_working_day(date(2024, 12, 28)) and not cal.is_working_day(date(2024, 12, 30))
    assert not cal.is_working_day(date(2025, 5, 8)) and not cal.is_working_day(date(2025, 5, 9))
    assert cal.is_working_day(date(2024, 11, 2)) and not cal.is_working_day(date(2024, 11, 4))


def test_an_open_stage_becomes_overdue_and_a_final_one_unreported() -> None:
    start = msk(2025, 3, 14, 15, 0)  # due by the end of Monday 17 March
    assert judge(S2, start, None, msk(2025, 3, 17, 23, 0)).status == "open"
    assert judge(S2, start, None, msk(2025, 3, 18, 0, 1)).status == "open_overdue"
    assert judge(S2, start, None, msk(2025, 3, 18, 0, 1), final=True).status == "unreported"
    assert judge(S2, start, msk(2025, 3, 15, 10, 0), msk(2025, 4, 1)).status == "within"


async def _sub(journal: Journal, uid: str, state: State, *, destination: str = "eaviias", region: str = "77") -> str:
    sub, _ = await journal.submit(draft(uid, region))
    async with journal.writing() as conn:
        await conn.execute(
            submissions.update().where(submissions.c.id == sub.id).values(state=str(state), destination=destination)
        )
    return sub.id


async def _mark(journal: Journal, sid: str, name: str, at: datetime, bureau: str = "b-77", region: str = "77") -> None:
    async with journal.writing() as conn:
        await conn.execute(
            ksi_marks.insert().values(
                submission_id=sid, name=name, at=at, peer="eaviias", bureau=bureau, region=region, recorded_at=at
            )
        )


async def _sent(journal: Journal, sid: str, at: datetime) -> None:
    async with journal.writing() as conn:
        await conn.execute(
            events.insert().values(
                submission_id=sid, at=at, kind="state", actor="test", from_state="QUEUED", to_state="SENT"
            )
        )


async def test_the_report_per_bureau_and_region(journal: Journal) -> None:
    fri = msk(2025, 3, 14, 15, 0)  # stage 2 due Mon 17; stage 3 from Mon 17 10:00 due Thu 20
    now = msk(2025, 3, 24, 12, 0)
    on_time = await _sub(journal, "on-time", State.REGISTERED)
    for name, at in (
        ("received", fri),
        ("registered", msk(2025, 3, 17, 10, 0)),
        ("scheduled", msk(2025, 3, 20, 17, 0)),
        ("decided", msk(2025, 3, 21, 12, 0)),  # Friday: the result is due by Monday
        ("result_delivered", msk(2025, 3, 24, 9, 0)),
    ):
        await _mark(journal, on_time, name, at)
    late = await _sub(journal, "late", State.FAILED, region="50")
    await _mark(journal, late, "received", fri, bureau="b-50", region="50")
    await _mark(journal, late, "registered", msk(2025, 3, 18, 9, 0), bureau="b-50", region="50")  # a day late
    await _mark(journal, late, "returned", msk(2025, 3, 21, 9, 0), bureau="b-50", region="50")  # on time
    waiting = await _sub(journal, "waiting", State.SENT)  # no notice yet, sent a week ago
    await _sent(journal, waiting, msk(2025, 3, 17, 9, 0))
    lost = await _sub(journal, "lost-registration", State.REGISTERED)  # result came, registration never reported
    await _mark(journal, lost, "decided", msk(2025, 3, 20, 10, 0))
    await _mark(journal, lost, "result_delivered", msk(2025, 3, 24, 10, 0))  # Fri 21 was due: late
    elsewhere = await _sub(journal, "to-remd", State.SENT, destination="remd")  # not a KSI peer
    await _sent(journal, elsewhere, msk(2025, 3, 1, 9, 0))

    async with journal.engine.connect() as conn:
        report = await ksi_report(conn, now=now)

    t2, t3, t6 = report.totals[S2], report.totals[S3], report.totals[S6]
    assert (t2.measured, t2.within, t2.late, t2.open_overdue, t2.unreported) == (3, 1, 1, 1, 1)
    assert (t3.measured, t3.within, t3.late) == (2, 2, 0)
    assert (t6.measured, t6.within, t6.late) == (2, 1, 1)
    assert report.cells[S2][("50", "b-50")].late == 1
    assert report.cells[S2][("77", "b-77")].within == 1
    overdue2 = {i.local_uid: i.status for i in report.overdue[S2]}
    assert overdue2 == {"late": "late", "waiting": "open_overdue"}
    assert {i.local_uid for i in report.overdue[S6]} == {"lost-registration"}
    assert report.open_overdue == 1
    # the daily series counts each measured stage on the day it ended (or fell due)
    series = dict((d, (m, w)) for d, m, w in report.series(S2))
    assert series[date(2025, 3, 17)] == (1, 1) and series[date(2025, 3, 18)] == (2, 0)

"""The MSE bureaus' KSI on the Russian working-day calendar, per bureau and region.

Three stages of the process have deadlines (issue 16; STAGE_RULES in gateway.common.workdays):

| KSI | from → to | deadline |
| --- | --- | --- |
| stage 2 | ``received`` → ``registered`` | ≤ 1 working day (``Stage.RU_REGISTRATION``) |
| stage 3 | ``registered`` → ``returned`` or ``scheduled`` | ≤ 3 working days (``RU_APPOINTMENT_OR_RETURN``) |
| stage 6 | ``decided`` → ``result_delivered`` | ≤ the next working day (``RU_RESULTS_SENT``) |

The milestones are the ``ksi_marks`` rows a peer's messages reported (for ЕАВИИАС: the notice
mapping in adapters/smev3/eaviias/notices.py), timed by the bureau's own timestamps, except
``result_delivered``: when the gateway recorded the result (the MO's side of the exchange).

A stage is **measured** when it ended, or when it is still open and its deadline has passed (then
it is **open overdue**); **within** counts those that ended by the deadline. A stage that started,
never ended and whose submission is final is **unreported** (a lost notice: the bureau's answer
came without that step). Stage 2 of a submission still waiting for its first notice starts at
its first SENT (the closest the gateway knows to the bureau's receipt) when it went to a peer that
reports KSI milestones; stage 6 is known only when the result arrives, since the decision's time
comes with it.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.common.workdays import Stage, WorkCalendar, deadline_for, default_calendar
from gateway.journal.schema import UNREGISTERED_SQL, events, ksi_marks, submissions
from gateway.model import FINAL_STATES, State

__all__ = [
    "KSI_STAGES",
    "KsiCell",
    "KsiItem",
    "KsiReport",
    "KsiStage",
    "KsiStageRule",
    "judge",
    "ksi_report",
]


class KsiStage(enum.StrEnum):
    STAGE_2 = "stage2"
    STAGE_3 = "stage3"
    STAGE_6 = "stage6"


@dataclass(frozen=True, slots=True)
class KsiStageRule:
    deadline: Stage
    starts: str
    ends: tuple[str, ...]


KSI_STAGES: Final[dict[KsiStage, KsiStageRule]] = {
    KsiStage.STAGE_2: KsiStageRule(Stage.RU_REGISTRATION, "received", ("registered",)),
    KsiStage.STAGE_3: KsiStageRule(Stage.RU_APPOINTMENT_OR_RETURN, "registered", ("returned", "scheduled")),
    KsiStage.STAGE_6: KsiStageRule(Stage.RU_RESULTS_SENT, "decided", ("result_delivered",)),
}

_K = ksi_marks.c
_S = submissions.c
_E = events.c
_FINAL: Final = frozenset(str(s) for s in FINAL_STATES)
_MARK_NAMES: Final = sorted({n for rule in KSI_STAGES.values() for n in (rule.starts, *rule.ends)})
_CLOCK_MARGIN: Final = timedelta(days=1)
UNKNOWN: Final = "—"


@dataclass(frozen=True, slots=True)
class Judgement:
    deadline: datetime
    status: str  # within | late | open | open_overdue | unreported


def judge(
    stage: KsiStage,
    start: datetime,
    end: datetime | None,
    now: datetime,
    *,
    final: bool = False,
    calendar: WorkCalendar | None = None,
) -> Judgement:
    """Where one stage stands: ended by its working-day deadline (``within``) or after it
    (``late``); not ended — ``open`` before the deadline, ``open_overdue`` after it, or
    ``unreported`` when the submission is final without the stage's end having been reported."""
    due = deadline_for(KSI_STAGES[stage].deadline, start, calendar or default_calendar("RU"))
    if end is not None:
        return Judgement(due, "within" if end <= due else "late")
    if final:
        return Judgement(due, "unreported")
    return Judgement(due, "open_overdue" if now > due else "open")


@dataclass
class KsiCell:
    measured: int = 0
    within: int = 0
    late: int = 0  # ended after the deadline
    open_overdue: int = 0
    unreported: int = 0
    open: int = 0  # not measurable yet

    @property
    def share(self) -> float | None:
        return self.within / self.measured if self.measured else None

    def add(self, status: str) -> None:
        if status == "within":
            self.measured += 1
            self.within += 1
        elif status == "late":
            self.measured += 1
            self.late += 1
        elif status == "open_overdue":
            self.measured += 1
            self.open_overdue += 1
        elif status == "unreported":
            self.unreported += 1
        else:
            self.open += 1


@dataclass(frozen=True, slots=True)
class KsiItem:
    submission_id: str
    local_uid: str
    stage: KsiStage
    bureau: str
    region: str
    state: str
    started_at: datetime
    deadline: datetime
    done_at: datetime | None
    status: str


@dataclass
class KsiReport:
    """Per stage: totals, cells by (region, bureau), overdue items (open or finished late), and a
    daily series (by the local day the stage ended, or its deadline passed): (measured, within)."""

    totals: dict[KsiStage, KsiCell] = field(default_factory=lambda: {s: KsiCell() for s in KsiStage})
    cells: dict[KsiStage, dict[tuple[str, str], KsiCell]] = field(
        default_factory=lambda: {s: defaultdict(KsiCell) for s in KsiStage}
    )
    overdue: dict[KsiStage, list[KsiItem]] = field(default_factory=lambda: {s: [] for s in KsiStage})
    daily: dict[KsiStage, dict[date, list[int]]] = field(
        default_factory=lambda: {s: defaultdict(lambda: [0, 0]) for s in KsiStage}
    )

    def series(self, stage: KsiStage) -> list[tuple[date, int, int]]:
        return [(d, v[0], v[1]) for d, v in sorted(self.daily[stage].items())]

    @property
    def open_overdue(self) -> int:
        return sum(c.open_overdue for c in self.totals.values())

    def late_percent(self) -> float:
        measured = sum(c.measured for c in self.totals.values())
        late = sum(c.late + c.open_overdue for c in self.totals.values())
        return 100.0 * late / measured if measured else 0.0


@dataclass
class _Sub:
    local_uid: str
    state: str
    region: str | None
    marks: dict[str, tuple[datetime, str | None, str | None]] = field(default_factory=dict)
    sent_at: datetime | None = None


async def ksi_report(
    conn: AsyncConnection,
    *,
    now: datetime,
    since: datetime | None = None,
    until: datetime | None = None,
    overdue_limit: int = 200,
    calendar: WorkCalendar | None = None,
) -> KsiReport:
    """The KSI of submissions created in [since, until) (each bound optional)."""
    cal = calendar or default_calendar("RU")
    period = []
    if since is not None:
        period.append(_S.created_at >= since)
    if until is not None:
        period.append(_S.created_at < until)
    marked = (
        sa.select(_K.submission_id, _K.name, _K.at, _K.bureau, _K.region, _S.local_uid, _S.state, _S.region.label("sr"))
        .select_from(ksi_marks.join(submissions, submissions.c.id == _K.submission_id))
        .where(*period)
    )
    if since is not None:
        # The marks of a submission come after its arrival; the redundant bound lets the query
        # start from the marks of the period (ix_ksi_marks_name) instead of every mark ever
        # recorded. The margin covers a bureau's clock running behind the gateway's.
        marked = marked.where(_K.name.in_(_MARK_NAMES), _K.at >= since - _CLOCK_MARGIN)
    subs: dict[str, _Sub] = {}
    for row in (await conn.execute(marked)).all():
        sub = subs.setdefault(row.submission_id, _Sub(row.local_uid, row.state, row.sr))
        sub.marks[row.name] = (row.at, row.bureau, row.region)
    # waiting for the first notice: routed to a peer that reports milestones, sent, not final
    reporting = sa.exists().where(_K.peer == _S.destination)  # ix_ksi_marks_peer, per open row
    # The first SENT per open submission, looked up by submission (ix_events_submission_id): a
    # GROUP BY over every SENT event would read the journal's whole history.
    first_sent = (
        sa.select(sa.func.min(_E.at))
        .where(_E.submission_id == _S.id, _E.to_state == str(State.SENT))
        .scalar_subquery()
        .label("sent_at")
    )
    waiting = sa.select(_S.id, _S.local_uid, _S.state, _S.region, first_sent).where(
        sa.text(UNREGISTERED_SQL), reporting, _S.state.notin_(sorted(_FINAL)), *period
    )
    for w in (await conn.execute(waiting)).all():
        if w.sent_at is not None:
            subs.setdefault(w.id, _Sub(w.local_uid, w.state, w.region)).sent_at = w.sent_at

    report = KsiReport()
    for sid, sub in subs.items():
        final = sub.state in _FINAL
        bureau = next((b for _, b, _ in sub.marks.values() if b), None) or UNKNOWN
        region = next((r for _, _, r in sub.marks.values() if r), None) or sub.region or UNKNOWN
        for stage, rule in KSI_STAGES.items():
            start_mark = sub.marks.get(rule.starts)
            if start_mark is not None:
                start = start_mark[0]
            elif stage is KsiStage.STAGE_2 and "registered" not in sub.marks and sub.sent_at is not None:
                start = sub.sent_at  # still waiting for the registration notice
            elif stage is KsiStage.STAGE_2 and "registered" not in sub.marks and final:
                report.totals[stage].add("unreported")  # answered, but the registration was never reported
                report.cells[stage][(region, bureau)].add("unreported")
                continue
            else:
                continue
            ends = [sub.marks[name][0] for name in rule.ends if name in sub.marks]
            end = min(ends) if ends else None
            verdict = judge(stage, start, end, now, final=final, calendar=cal)
            report.totals[stage].add(verdict.status)
            report.cells[stage][(region, bureau)].add(verdict.status)
            if verdict.status in ("within", "late", "open_overdue"):
                day = cal.local_date(end if end is not None else verdict.deadline)
                point = report.daily[stage][day]
                point[0] += 1
                point[1] += verdict.status == "within"
            if verdict.status in ("late", "open_overdue") and len(report.overdue[stage]) < overdue_limit:
                report.overdue[stage].append(
                    KsiItem(sid, sub.local_uid, stage, bureau, region, sub.state, start, verdict.deadline, end,
                            verdict.status)
                )  # fmt: skip
    for items in report.overdue.values():
        items.sort(key=lambda i: i.deadline)
    return report

"""Working-day deadlines for the MSE stages in Russia and Kazakhstan.

The KPIs the gateway reports on are stated in working days ("registration within 1 working day"),
so a deadline depends on the country's production calendar, including the days off the government
moves every year (Russia's transfer decrees turn some Saturdays into working days and some weekdays
into days off; Kazakhstan does the same). The calendars come from the ``holidays`` package:

* ``holidays.RU`` knows the Russian transfers by year (``special_public_holidays``) through the
  year of the installed package's latest decree (2027 in holidays 0.109), including working
  Saturdays (``weekend_workdays``, e.g. 2024-04-27, 2024-11-02, 2024-12-28, 2025-11-01) and the
  weekdays given in exchange (e.g. 2024-04-29/30, 2024-12-30/31).
* ``holidays.KZ`` knows Kazakh transfers through 2025 in holidays 0.109 (e.g. working Sunday
  2025-01-05 for a day off on 2025-01-03); Kurban Ait (Eid al-Adha) dates for future years are the
  package's *estimates*.

A decree the installed package does not know yet is added with ``extra_days_off`` /
``extra_working_days`` (regional days off, e.g. a republic's own holiday, go there too).

Definitions (all in the calendar's local time zone, ``Europe/Moscow`` / ``Asia/Almaty`` by default;
a Russian bureau in another zone passes its own):

* **Working day**: not a weekend day and not a public holiday or transferred day off, or a weekend
  day the government declared a working day.
* **Arrival day**: the local calendar date of the arrival instant. With a **cut-off** time (the
  Kazakh 16:00 rule) the calendar models an office: an arrival strictly later than the cut-off, or on
  a day that is not a working day, is *received* on the next working day; without a cut-off the
  received day is simply the arrival day.
* **"Within N working days", counted after the arrival** (``Counting.AFTER_ARRIVAL``, the Russian
  civil-law reading of a period, Civil Code art. 191 and 193: a period begins the day after the
  event, and a period ending on a day off ends on the next working day): the deadline is the **end
  (23:59:59.999999 local) of the N-th working day strictly after the received day**. A referral
  arriving on Monday at 10:00 with N = 1 is due by the end of Tuesday; one arriving on Saturday is
  due by the end of Monday.
* **"Within N working days", counting the arrival day** (``Counting.FROM_ARRIVAL``, the Kazakh
  rule for the expert's conclusion, where the 16:00 cut-off only makes sense if a morning arrival is
  handled the same day): the received day is working day 1, the deadline is the end of the N-th
  working day counted from it. With the 16:00 cut-off, a draft arriving on Monday at 15:59 is due by
  the end of Monday, one at 16:01 by the end of Tuesday.
* **"Not later than the next working day after the decision"** is AFTER_ARRIVAL with N = 1.

Deadlines are never on a non-working day, never before their start, and never decrease when the
start moves later (the tests prove these as properties).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType
from typing import Final, Literal
from zoneinfo import ZoneInfo

import holidays

__all__ = [
    "DEFAULT_TIMEZONES",
    "KZ_DRAFT_CUTOFF",
    "STAGE_RULES",
    "Counting",
    "Country",
    "Stage",
    "StageRule",
    "WorkCalendar",
    "deadline_for",
    "default_calendar",
]

Country = Literal["RU", "KZ"]

DEFAULT_TIMEZONES: Final[Mapping[str, str]] = MappingProxyType({"RU": "Europe/Moscow", "KZ": "Asia/Almaty"})
KZ_DRAFT_CUTOFF: Final = time(16, 0)

_END_OF_DAY: Final = time.max
# A limit on day-by-day scans: no calendar has a run of days off this long, so hitting it means a
# misconfigured calendar (e.g. every day listed in extra_days_off), not a real date.
_MAX_SCAN_DAYS: Final = 366


class Counting(StrEnum):
    """Whether the received day itself is the first counted working day."""

    AFTER_ARRIVAL = "after_arrival"
    FROM_ARRIVAL = "from_arrival"


@lru_cache(maxsize=256)
def _year_calendar(country: str, year: int) -> tuple[frozenset[date], frozenset[date], frozenset[int]]:
    """(days off that are not weekend days or are holidays, weekend days declared working, weekend
    weekdays) for one year, read once from ``holidays`` and frozen: the package's objects fill
    themselves lazily and are not meant to be shared between threads."""
    cal = holidays.country_holidays(country, years=year)
    days_off = frozenset(d for d in cal if d.year == year)
    working_weekend = frozenset(d for d in cal.weekend_workdays if d.year == year)
    return days_off, working_weekend, frozenset(cal.weekend)


class WorkCalendar:
    """A country's working days in one time zone, with an optional receipt cut-off time.

    Immutable; ``with_cutoff`` gives a copy with another cut-off."""

    __slots__ = ("_extra_days_off", "_extra_working_days", "country", "cutoff", "tz")

    def __init__(
        self,
        country: Country,
        tz: str | ZoneInfo | None = None,
        *,
        cutoff: time | None = None,
        extra_days_off: Iterable[date] = (),
        extra_working_days: Iterable[date] = (),
    ) -> None:
        if country not in DEFAULT_TIMEZONES:
            raise ValueError(f"unsupported country {country!r}: expected one of {sorted(DEFAULT_TIMEZONES)}")
        if cutoff is not None and cutoff.tzinfo is not None:
            raise ValueError("the cut-off is a local wall-clock time: pass a naive time")
        self.country: Country = country
        self.tz: ZoneInfo = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz or DEFAULT_TIMEZONES[country])
        self.cutoff = cutoff
        self._extra_days_off = frozenset(extra_days_off)
        self._extra_working_days = frozenset(extra_working_days)
        overlap = self._extra_days_off & self._extra_working_days
        if overlap:
            raise ValueError(f"dates both extra days off and extra working days: {sorted(overlap)}")

    def __repr__(self) -> str:
        return f"WorkCalendar({self.country!r}, {self.tz.key!r}, cutoff={self.cutoff!r})"

    def with_cutoff(self, cutoff: time | None) -> WorkCalendar:
        return WorkCalendar(
            self.country,
            self.tz,
            cutoff=cutoff,
            extra_days_off=self._extra_days_off,
            extra_working_days=self._extra_working_days,
        )

    # ------------------------------------------------------------------------------------ days

    def is_working_day(self, day: date) -> bool:
        """True for a working day of this country (transfers and extras included)."""
        if isinstance(day, datetime):
            raise TypeError("is_working_day takes a date; use local_date() for an instant")
        if day in self._extra_working_days:
            return True
        if day in self._extra_days_off:
            return False
        days_off, working_weekend, weekend = _year_calendar(self.country, day.year)
        if day in working_weekend:
            return True
        return day.weekday() not in weekend and day not in days_off

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        return self.working_day_on_or_after(day + timedelta(days=1))

    def working_day_on_or_after(self, day: date) -> date:
        for _ in range(_MAX_SCAN_DAYS):
            if self.is_working_day(day):
                return day
            day += timedelta(days=1)
        raise ValueError(f"no working day within {_MAX_SCAN_DAYS} days: check the calendar's extras")

    def nth_working_day_from(self, first: date, n: int) -> date:
        """The ``n``-th working day counting ``first`` (a working day) as the 1st."""
        if n < 1:
            raise ValueError("n must be >= 1")
        if not self.is_working_day(first):
            raise ValueError("counting must start on a working day")
        day = first
        for _ in range(n - 1):
            day = self.next_working_day(day)
        return day

    # -------------------------------------------------------------------------------- instants

    def _local(self, instant: datetime) -> datetime:
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise ValueError("an aware datetime is required (naive times are ambiguous across zones)")
        return instant.astimezone(self.tz)

    def local_date(self, instant: datetime) -> date:
        """The calendar date of ``instant`` in this calendar's time zone."""
        return self._local(instant).date()

    def end_of_day(self, day: date) -> datetime:
        """The last representable instant of ``day`` in local time (the deadline of that day)."""
        return datetime.combine(day, _END_OF_DAY, tzinfo=self.tz)

    def received_day(self, instant: datetime) -> date:
        """The day an arrival at ``instant`` is received on: the local date without a cut-off;
        with one, that date if it is a working day and the local time is not later than the
        cut-off, else the next working day."""
        local = self._local(instant)
        day = local.date()
        if self.cutoff is None:
            return day
        if self.is_working_day(day) and local.time() <= self.cutoff:
            return day
        return self.next_working_day(day)

    def first_counted_day(self, instant: datetime, counting: Counting = Counting.AFTER_ARRIVAL) -> date:
        """Working day number 1 of a period that starts with an arrival at ``instant``."""
        received = self.received_day(instant)
        if counting is Counting.FROM_ARRIVAL:
            return self.working_day_on_or_after(received)
        return self.next_working_day(received)

    def deadline(self, start: datetime, n: int, *, counting: Counting = Counting.AFTER_ARRIVAL) -> datetime:
        """The end (local) of the ``n``-th counted working day of a period starting at ``start``.

        See the module docstring for the two countings; ``n`` >= 1."""
        return self.end_of_day(self.nth_working_day_from(self.first_counted_day(start, counting), n))

    def add_working_days(self, start: datetime, n: int) -> datetime:
        """``start`` plus ``n`` working days: the end of the ``n``-th working day after the day
        ``start`` is received on (``deadline`` with AFTER_ARRIVAL counting)."""
        return self.deadline(start, n, counting=Counting.AFTER_ARRIVAL)

    def working_days_between(self, a: datetime, b: datetime) -> int:
        """How many working days lie in the local-date interval (date(a), date(b)]; negative (the
        same count) when ``b`` is earlier than ``a``. No cut-off is applied: this measures
        elapsed working days for SLA reports.

        For AFTER_ARRIVAL counting without a cut-off, ``b <= deadline(a, n)`` implies
        ``working_days_between(a, b) <= n``, and the converse holds whenever ``b`` falls on a
        working day (an answer sent on a Saturday after a Friday deadline is late but has used no
        extra working day)."""
        da, db = self.local_date(a), self.local_date(b)
        if db < da:
            return -self._count(db, da)
        return self._count(da, db)

    def _count(self, lo: date, hi: date) -> int:
        count, day = 0, lo + timedelta(days=1)
        while day <= hi:
            count += self.is_working_day(day)
            day += timedelta(days=1)
        return count


# ---------------------------------------------------------------------------------------- stages


class Stage(StrEnum):
    """The MSE stages with a working-day KPI (see reference/PROTOCOLS.md)."""

    RU_REGISTRATION = "ru_registration"
    RU_APPOINTMENT_OR_RETURN = "ru_appointment_or_return"
    RU_RESULTS_SENT = "ru_results_sent"
    KZ_EXPERT_CONCLUSION = "kz_expert_conclusion"


@dataclass(frozen=True, slots=True)
class StageRule:
    """How a stage's deadline is computed. ``cutoff``, when set, overrides the calendar's."""

    country: Country
    working_days: int
    counting: Counting
    cutoff: time | None
    starts_at: str
    description: str


STAGE_RULES: Final[Mapping[Stage, StageRule]] = MappingProxyType(
    {
        Stage.RU_REGISTRATION: StageRule(
            "RU", 1, Counting.AFTER_ARRIVAL, None,
            "arrival of the electronic referral at the bureau",
            "the bureau registers a referral within 1 working day",
        ),
        Stage.RU_APPOINTMENT_OR_RETURN: StageRule(
            "RU", 3, Counting.AFTER_ARRIVAL, None,
            "registration of the referral",
            "the bureau appoints the examination or returns the referral within 3 working days",
        ),
        Stage.RU_RESULTS_SENT: StageRule(
            "RU", 1, Counting.AFTER_ARRIVAL, None,
            "the expert decision",
            "results go back to the MO not later than the next working day after the decision",
        ),
        Stage.KZ_EXPERT_CONCLUSION: StageRule(
            "KZ", 1, Counting.FROM_ARRIVAL, KZ_DRAFT_CUTOFF,
            "arrival of the 031/у draft",
            "the expert decides within 1 working day; a draft after 16:00 counts from the next one",
        ),
    }
)  # fmt: skip


@lru_cache(maxsize=8)
def default_calendar(country: Country) -> WorkCalendar:
    """The country's calendar in its capital's time zone, with no cut-off."""
    return WorkCalendar(country)


def deadline_for(stage: Stage, start: datetime, calendar: WorkCalendar | None = None) -> datetime:
    """The deadline of ``stage`` for a stage that started at ``start`` (see ``StageRule.starts_at``).

    ``calendar`` (e.g. a regional time zone or extra days off) must be of the stage's country; the
    stage's own cut-off, if it has one, replaces the calendar's."""
    rule = STAGE_RULES[stage]
    cal = calendar if calendar is not None else default_calendar(rule.country)
    if cal.country != rule.country:
        raise ValueError(f"stage {stage.value} needs a {rule.country} calendar, got {cal.country}")
    if rule.cutoff is not None and cal.cutoff != rule.cutoff:
        cal = cal.with_cutoff(rule.cutoff)
    return cal.deadline(start, rule.working_days, counting=rule.counting)

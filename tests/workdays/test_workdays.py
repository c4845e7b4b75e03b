"""Working-day deadlines against the real RU/KZ calendars (holidays package).

Calendar facts used in the tables come from the governments' transfer decrees and are re-stated
next to each case; the test fails if the installed ``holidays`` package or the arithmetic disagrees.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from gateway.common.workdays import (
    KZ_DRAFT_CUTOFF,
    Counting,
    Stage,
    WorkCalendar,
    deadline_for,
    default_calendar,
)

MSK = ZoneInfo("Europe/Moscow")
ALA = ZoneInfo("Asia/Almaty")
RU = WorkCalendar("RU")
KZ = WorkCalendar("KZ")
KZ_CUT = WorkCalendar("KZ", cutoff=KZ_DRAFT_CUTOFF)


def msk(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=MSK)


def ala(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ALA)


@pytest.mark.parametrize(
    ("cal", "day", "working"),
    [
        # Russia 2024 (decree of 10.08.2023 No 1314): Saturdays 27.04, 02.11, 28.12 are working;
        # 29.04, 30.04, 30.12, 31.12 and 10.05 are days off.
        (RU, date(2024, 4, 27), True),
        (RU, date(2024, 4, 29), False),
        (RU, date(2024, 4, 30), False),
        (RU, date(2024, 11, 2), True),
        (RU, date(2024, 12, 28), True),
        (RU, date(2024, 12, 31), False),
        # Russia 2025: Saturday 01.11 working; 02.05, 08.05, 13.06, 03.11, 31.12 days off.
        (RU, date(2025, 11, 1), True),
        (RU, date(2025, 11, 3), False),
        (RU, date(2025, 6, 13), False),
        (RU, date(2025, 1, 8), False),
        (RU, date(2025, 1, 9), True),
        (RU, date(2025, 3, 10), True),  # 08.03.2025 fell on a Saturday; moved to 13.06, not 10.03
        (RU, date(2026, 1, 9), False),
        (RU, date(2025, 3, 4), True),
        (RU, date(2025, 3, 8), False),
        # Kazakhstan 2025: Friday 03.01 off, Sunday 05.01 working; 2024: Saturday 04.05 working,
        # Wednesday 08.05 off; 2023: Saturday 01.07 working, Friday 07.07 off.
        (KZ, date(2025, 1, 3), False),
        (KZ, date(2025, 1, 5), True),
        (KZ, date(2024, 5, 4), True),
        (KZ, date(2024, 5, 8), False),
        (KZ, date(2023, 7, 1), True),
        (KZ, date(2023, 7, 7), False),
        # Kazakhstan: a holiday on a weekend moves to the next working day (08.03.2025 -> 10.03)
        (KZ, date(2025, 3, 10), False),
        (KZ, date(2025, 3, 24), False),  # Nauryz 21-23.03.2025, weekend part moved to 24-25.03
    ],
)
def test_is_working_day(cal: WorkCalendar, day: date, working: bool) -> None:
    assert cal.is_working_day(day) is working


@pytest.mark.parametrize(
    ("stage", "start", "due"),
    [
        # Monday 10:00 -> end of Tuesday
        (Stage.RU_REGISTRATION, msk(2025, 3, 3, 10, 0), date(2025, 3, 4)),
        # Friday before the 8 March weekend: Monday 10.03.2025 is a working day in Russia
        (Stage.RU_REGISTRATION, msk(2025, 3, 7, 10, 0), date(2025, 3, 10)),
        # arrival on a working Saturday; 28.04 Sun, 29-30.04 off, 01.05 holiday -> Thursday 02.05
        (Stage.RU_REGISTRATION, msk(2024, 4, 27, 10, 0), date(2024, 5, 2)),
        # Friday 27.12.2024: the next working day is Saturday 28.12 (a working Saturday)
        (Stage.RU_REGISTRATION, msk(2024, 12, 27, 10, 0), date(2024, 12, 28)),
        # arrival on a day off (31.12.2024); New Year holidays to 08.01 -> 09.01.2025
        (Stage.RU_REGISTRATION, msk(2024, 12, 31, 10, 0), date(2025, 1, 9)),
        # 22:30 UTC on Monday is 01:30 Tuesday in Moscow: the local date decides
        (Stage.RU_REGISTRATION, datetime(2025, 3, 3, 22, 30, tzinfo=UTC), date(2025, 3, 5)),
        # arrival on Saturday counts like Friday's: the period starts on Sunday
        (Stage.RU_REGISTRATION, msk(2025, 3, 15, 12, 0), date(2025, 3, 17)),
        # 3 working days from Wednesday 30.04.2025: 01.05 holiday, 02.05 off, 03-04 weekend,
        # then 05, 06, 07.05
        (Stage.RU_APPOINTMENT_OR_RETURN, msk(2025, 4, 30, 12, 0), date(2025, 5, 7)),
        (Stage.RU_APPOINTMENT_OR_RETURN, msk(2025, 3, 3, 9, 0), date(2025, 3, 6)),
        # decision on Friday -> Monday; decision on 11.06.2025 (12.06 holiday, 13.06 off) -> 16.06
        (Stage.RU_RESULTS_SENT, msk(2025, 6, 6, 18, 0), date(2025, 6, 9)),
        (Stage.RU_RESULTS_SENT, msk(2025, 6, 11, 18, 0), date(2025, 6, 16)),
        # Kazakhstan, 16:00 cut-off, arrival day counts
        (Stage.KZ_EXPERT_CONCLUSION, ala(2025, 3, 3, 15, 59), date(2025, 3, 3)),
        (Stage.KZ_EXPERT_CONCLUSION, ala(2025, 3, 3, 16, 0), date(2025, 3, 3)),
        (Stage.KZ_EXPERT_CONCLUSION, ala(2025, 3, 3, 16, 1), date(2025, 3, 4)),
        # 10:59 / 11:01 UTC are 15:59 / 16:01 in Almaty (UTC+5 since 01.03.2024)
        (Stage.KZ_EXPERT_CONCLUSION, datetime(2025, 3, 3, 10, 59, tzinfo=UTC), date(2025, 3, 3)),
        (Stage.KZ_EXPERT_CONCLUSION, datetime(2025, 3, 3, 11, 1, tzinfo=UTC), date(2025, 3, 4)),
        # Friday 16:30 before 8 March 2025 (Saturday, moved to Monday 10.03) -> Tuesday 11.03
        (Stage.KZ_EXPERT_CONCLUSION, ala(2025, 3, 7, 16, 30), date(2025, 3, 11)),
        # Saturday 04.01.2025 -> the working Sunday 05.01.2025
        (Stage.KZ_EXPERT_CONCLUSION, ala(2025, 1, 4, 10, 0), date(2025, 1, 5)),
        # Nauryz 2025: 21.03-25.03 off -> Wednesday 26.03
        (Stage.KZ_EXPERT_CONCLUSION, ala(2025, 3, 20, 17, 0), date(2025, 3, 26)),
    ],
)
def test_stage_deadlines(stage: Stage, start: datetime, due: date) -> None:
    deadline = deadline_for(stage, start)
    cal = default_calendar("KZ" if stage is Stage.KZ_EXPERT_CONCLUSION else "RU")
    assert deadline.astimezone(cal.tz).date() == due
    assert deadline.astimezone(cal.tz).time() == time.max


def test_deadline_for_uses_a_regional_time_zone() -> None:
    # Vladivostok is UTC+10: 15:00 UTC on Monday is already Tuesday 01:00 there.
    vvo = WorkCalendar("RU", "Asia/Vladivostok")
    start = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)
    assert deadline_for(Stage.RU_REGISTRATION, start, vvo).date() == date(2025, 3, 5)
    assert deadline_for(Stage.RU_REGISTRATION, start).date() == date(2025, 3, 4)


def test_deadline_for_refuses_a_calendar_of_another_country() -> None:
    with pytest.raises(ValueError, match="needs a KZ calendar"):
        deadline_for(Stage.KZ_EXPERT_CONCLUSION, ala(2025, 3, 3, 9, 0), RU)


def test_extra_days_off_and_working_days() -> None:
    cal = WorkCalendar("RU", extra_days_off=[date(2025, 3, 4)], extra_working_days=[date(2025, 3, 8)])
    assert not cal.is_working_day(date(2025, 3, 4))
    assert cal.is_working_day(date(2025, 3, 8))
    assert cal.add_working_days(msk(2025, 3, 3, 10, 0), 1).date() == date(2025, 3, 5)
    with pytest.raises(ValueError, match="both"):
        WorkCalendar("RU", extra_days_off=[date(2025, 3, 4)], extra_working_days=[date(2025, 3, 4)])


def test_naive_datetimes_and_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        RU.add_working_days(datetime(2025, 3, 3, 10, 0), 1)
    with pytest.raises(ValueError, match="n must be"):
        RU.add_working_days(msk(2025, 3, 3, 10, 0), 0)
    with pytest.raises(TypeError):
        RU.is_working_day(msk(2025, 3, 3, 10, 0))
    with pytest.raises(ValueError, match="unsupported country"):
        WorkCalendar("BY")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("a", "b", "count"),
    [
        (msk(2025, 3, 3, 10, 0), msk(2025, 3, 7, 10, 0), 4),
        (msk(2025, 3, 3, 10, 0), msk(2025, 3, 3, 23, 0), 0),
        # (07.03, 11.03]: 08-09 weekend, 10 and 11 working
        (msk(2025, 3, 7, 10, 0), msk(2025, 3, 11, 10, 0), 2),
        (msk(2025, 3, 11, 10, 0), msk(2025, 3, 7, 10, 0), -2),
        # across the 2025 New Year holidays: (30.12.2024, 09.01.2025] -> 09.01 only
        (msk(2024, 12, 30, 10, 0), msk(2025, 1, 9, 10, 0), 1),
    ],
)
def test_working_days_between(a: datetime, b: datetime, count: int) -> None:
    assert RU.working_days_between(a, b) == count


# ------------------------------------------------------------------------------------ properties

instants = st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC))
calendars = st.sampled_from([RU, KZ, KZ_CUT, WorkCalendar("RU", cutoff=time(17, 30))])
countings = st.sampled_from(list(Counting))
days_n = st.integers(1, 10)


@given(calendars, instants, days_n, countings)
def test_deadline_is_after_start_and_on_a_working_day(
    cal: WorkCalendar, start: datetime, n: int, counting: Counting
) -> None:
    deadline = cal.deadline(start, n, counting=counting)
    assert deadline >= start
    local = deadline.astimezone(cal.tz)
    assert cal.is_working_day(local.date())
    assert local.time() == time.max
    # exactly n counted working days: n-1 working days lie between the first counted day and it
    first = cal.first_counted_day(start, counting)
    assert cal.working_days_between(datetime.combine(first, time(12), cal.tz), deadline) == n - 1


@given(calendars, instants, instants, days_n, countings)
def test_deadline_is_monotonic_in_start(
    cal: WorkCalendar, a: datetime, b: datetime, n: int, counting: Counting
) -> None:
    a, b = min(a, b), max(a, b)
    assert cal.deadline(a, n, counting=counting) <= cal.deadline(b, n, counting=counting)


@given(st.dates(min_value=date(2015, 1, 1), max_value=date(2027, 12, 31)), days_n, countings)
def test_the_16_00_rule_shifts_by_exactly_one_working_day(day: date, n: int, counting: Counting) -> None:
    assume(KZ_CUT.is_working_day(day))
    early = KZ_CUT.deadline(datetime.combine(day, time(15, 59), ALA), n, counting=counting)
    late = KZ_CUT.deadline(datetime.combine(day, time(16, 1), ALA), n, counting=counting)
    assert KZ_CUT.working_days_between(early, late) == 1
    assert late.date() == KZ_CUT.next_working_day(early.date())


@given(st.dates(min_value=date(2015, 1, 1), max_value=date(2027, 12, 31)), days_n)
def test_the_cutoff_does_nothing_on_days_off(day: date, n: int) -> None:
    assume(not KZ_CUT.is_working_day(day))
    morning = KZ_CUT.deadline(datetime.combine(day, time(9, 0), ALA), n, counting=Counting.FROM_ARRIVAL)
    evening = KZ_CUT.deadline(datetime.combine(day, time(20, 0), ALA), n, counting=Counting.FROM_ARRIVAL)
    assert morning == evening


@given(st.sampled_from([RU, KZ]), instants, st.integers(0, 40 * 24 * 60), days_n)
def test_working_days_between_agrees_with_deadline(cal: WorkCalendar, a: datetime, minutes: int, n: int) -> None:
    b = a + timedelta(minutes=minutes)
    on_time = b <= cal.add_working_days(a, n)
    used = cal.working_days_between(a, b)
    if on_time:
        assert used <= n
    if cal.is_working_day(cal.local_date(b)):
        assert on_time is (used <= n)

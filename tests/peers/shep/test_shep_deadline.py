"""The 16:00 rule and the 1-working-day deadline as the ШЭП route applies them to every 031/у
(Kazakhstan's calendar, one time zone UTC+5 since 1 March 2024), the pilot's regions and phases,
and the metric of conclusions within the deadline."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from shep_kit import ROOT

from adapters.shep import payload as p
from adapters.shep.pilot import PilotTable, conclusion_deadline, observe_conclusion
from gateway.errors import ConfigError
from gateway.monitoring.counters import REGISTRY

KZ = ZoneInfo("Asia/Almaty")
PILOT = PilotTable.load(ROOT / "config" / "kz_pilot_regions.tsv")


def kz(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=KZ)


CASES = [
    # arrival at ЦБДИ (Kazakhstan time) → last day of the 1-working-day deadline
    ("2025-07-01T15:59", date(2025, 7, 1), "15:59 on a Tuesday: that day"),
    ("2025-07-01T16:00", date(2025, 7, 1), "16:00 is not after 16:00: that day"),
    ("2025-07-01T16:01", date(2025, 7, 2), "16:01: counts from Wednesday"),
    ("2025-06-27T15:00", date(2025, 6, 27), "Friday before 16:00: Friday"),
    ("2025-06-27T16:01", date(2025, 6, 30), "Friday after 16:00: Monday"),
    ("2025-06-28T11:00", date(2025, 6, 30), "Saturday: Monday"),
    ("2025-05-06T16:30", date(2025, 5, 8), "the day before 7 May (Defender of the Fatherland Day): 8 May"),
    ("2025-07-04T16:30", date(2025, 7, 8), "Friday after 16:00 before Capital Day (Sunday 6 July, moved to Monday 7)"),
    ("2025-01-04T10:00", date(2025, 1, 5), "Saturday 4 January: Sunday 5 January 2025 is a transferred working day"),
    ("2025-01-05T16:30", date(2025, 1, 6), "after 16:00 on the transferred working day: Monday"),
]


@pytest.mark.parametrize(("arrived", "due", "why"), CASES, ids=[c[2] for c in CASES])
def test_the_16_00_rule(arrived: str, due: date, why: str) -> None:
    deadline = conclusion_deadline(kz(arrived))
    assert deadline.astimezone(KZ).date() == due, why
    assert deadline.astimezone(KZ).time().hour == 23  # the end of that working day


def test_utc_arrivals_are_read_in_kazakhstan_time() -> None:
    """10:59 / 11:01 UTC are 15:59 / 16:01 in Astana and Almaty."""
    assert conclusion_deadline(datetime(2025, 7, 1, 10, 59, tzinfo=UTC)).astimezone(KZ).date() == date(2025, 7, 1)
    assert conclusion_deadline(datetime(2025, 7, 1, 11, 1, tzinfo=UTC)).astimezone(KZ).date() == date(2025, 7, 2)


def test_one_time_zone_utc_plus_5_since_1_march_2024() -> None:
    """Checked against the tz database: the east (Almaty, Kostanay) moved from UTC+6 to UTC+5 on
    1 March 2024 00:00 local; the west was already UTC+5. Every zone of Kazakhstan is +5 after."""
    zones = ["Asia/Almaty", "Asia/Qostanay", "Asia/Aqtobe", "Asia/Aqtau", "Asia/Atyrau", "Asia/Oral", "Asia/Qyzylorda"]
    after = datetime(2024, 3, 1, 12)
    assert {after.replace(tzinfo=ZoneInfo(z)).utcoffset() for z in zones} == {timedelta(hours=5)}
    assert datetime(2024, 2, 29, 12, tzinfo=ZoneInfo("Asia/Almaty")).utcoffset() == timedelta(hours=6)


def _conclusion(arrived: datetime | None, decided: datetime, region: str = "75") -> p.Conclusion:
    return p.Conclusion("uid", "MSE-1", "disability", decided, "expert", "2", 80, arrived_at=arrived, region=region)


def _count(region: str, phase: str, within: str) -> float:
    value = REGISTRY.get_sample_value(
        "mse_gateway_kz_conclusions_total", {"region": region, "phase": phase, "within_deadline": within}
    )
    return value or 0.0


def test_conclusions_are_counted_within_or_late_per_region_and_phase() -> None:
    arrived = kz("2025-07-01T16:01")
    deadline = conclusion_deadline(arrived)
    before = {w: _count("75", "1", w) for w in ("yes", "no", "unreported")}
    assert observe_conclusion(PILOT, _conclusion(arrived, deadline)) is True
    assert observe_conclusion(PILOT, _conclusion(arrived, deadline + timedelta(microseconds=1))) is False
    assert observe_conclusion(PILOT, _conclusion(None, deadline)) is None
    assert {w: _count("75", "1", w) - before[w] for w in before} == {"yes": 1, "no": 1, "unreported": 1}
    late_phase = _count("47", "2", "no")
    observe_conclusion(PILOT, _conclusion(arrived, deadline + timedelta(days=1), region="471010000"))
    assert _count("47", "2", "no") == late_phase + 1


@pytest.mark.parametrize(
    ("region", "moment", "refused"),
    [
        ("75", "2025-05-31T23:59", True),  # Almaty city, phase 1 (2025-06)
        ("75", "2025-06-01T00:00", False),
        ("47", "2025-06-15T10:00", True),  # Mangystau, phase 2 (2025-07)
        ("47", "2025-07-01T00:00", False),
        ("79", "2025-07-31T12:00", True),  # Shymkent, phase 3 (2025-08)
        ("791010000", "2025-08-01T09:00", False),  # a full КАТО code: its region prefix decides
        ("99", "2026-01-01T00:00", True),  # not a pilot region
        ("", "2026-01-01T00:00", True),
    ],
)
def test_pilot_phases(region: str, moment: str, refused: bool) -> None:
    reason = PILOT.refusal(region, kz(moment))
    assert (reason is not None) is refused, reason
    if refused and region in ("75", "47", "79"):
        assert PILOT.regions[region].start.date().isoformat() in (reason or "")


def test_the_table_is_the_reference_with_kato_codes() -> None:
    assert len(PILOT.regions) == 20
    assert {r.phase for r in PILOT.regions.values()} == {"1", "2", "3"}
    assert PILOT.regions["71"].name == "Astana city" and PILOT.regions["71"].start == kz("2025-06-01T00:00")


def test_a_malformed_table_names_the_line() -> None:
    with pytest.raises(ConfigError, match="line 2"):
        PilotTable.from_tsv("kato\tregion\tpilot_start\tphase\n7\tX\t2025-06\t1\n", source="t.tsv")
    with pytest.raises(ConfigError, match="pilot_start"):
        PilotTable.from_tsv("kato\tregion\tpilot_start\tphase\n75\tX\tJune\t1\n", source="t.tsv")

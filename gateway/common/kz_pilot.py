"""The Kazakh proactive MSE pilot: which regions have started (``config/kz_pilot_regions.tsv``,
КАТО region code → launch month and phase) and the 1-working-day deadline of the expert's
conclusion with the 16:00 rule. Used by the ШЭП plug-in (refusal before sending, the deadline of
each draft) and by the deadline report (per region and phase).

The deadline is :func:`gateway.common.workdays.deadline_for` with ``Stage.KZ_EXPERT_CONCLUSION``:
the Kazakh calendar (holidays, transferred days) in ``Asia/Almaty`` — Kazakhstan has had one time
zone, UTC+5, since 1 March 2024 (before, Almaty and the east were UTC+6), and the tz database
carries that change — the received day is working day 1 and a draft arriving after 16:00, or on
a day off, is received on the next working day. The start is the arrival at ЦБДИ as ЦБДИ reports
it (``ArrivedAt``), else the gateway's send time (the deadline report reads both from the journal).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import cache
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

from gateway.common.shipped import shipped
from gateway.common.workdays import Stage, deadline_for
from gateway.errors import ConfigError

__all__ = ["KZ_ZONE", "PilotRegion", "PilotTable", "conclusion_deadline", "shipped_pilot"]

KZ_ZONE: Final = ZoneInfo("Asia/Almaty")


@dataclass(frozen=True, slots=True)
class PilotRegion:
    kato: str
    name: str
    start: datetime  # the first day of the launch month, 00:00 in Kazakhstan
    phase: str


@dataclass(frozen=True, slots=True)
class PilotTable:
    regions: Mapping[str, PilotRegion]
    source: str = "<table>"

    @classmethod
    def from_tsv(cls, text: str, *, source: str) -> PilotTable:
        rows = csv.DictReader(text.splitlines(), delimiter="\t")
        missing = [c for c in ("kato", "region", "pilot_start", "phase") if c not in (rows.fieldnames or ())]
        if missing:
            raise ConfigError(f"{source}: lacks the column(s) {', '.join(missing)}")
        out: dict[str, PilotRegion] = {}
        for line, row in enumerate(rows, start=2):
            kato = (row["kato"] or "").strip()
            if not kato.isdigit() or len(kato) != 2:
                raise ConfigError(f"{source}, line {line}: kato {kato!r} is not a two-digit КАТО region code")
            try:
                year, month = (int(x) for x in (row["pilot_start"] or "").strip().split("-"))
                start = datetime.combine(date(year, month, 1), time(0, 0), KZ_ZONE)
            except ValueError:
                raise ConfigError(f"{source}, line {line}: pilot_start {row['pilot_start']!r} is not YYYY-MM") from None
            if kato in out:
                raise ConfigError(f"{source}, line {line}: region {kato} appears twice")
            out[kato] = PilotRegion(kato, (row["region"] or "").strip(), start, (row["phase"] or "").strip())
        if not out:
            raise ConfigError(f"{source}: no regions")
        return cls(out, source)

    @classmethod
    def load(cls, path: str | Path | None = None) -> PilotTable:
        """``path``, else the shipped ``config/kz_pilot_regions.tsv``. ConfigError when unreadable."""
        chosen = Path(path) if path else shipped("config/kz_pilot_regions.tsv")
        if chosen is None:
            raise ConfigError("config/kz_pilot_regions.tsv not found")
        try:
            return cls.from_tsv(chosen.read_text("utf-8"), source=str(chosen))
        except OSError as exc:
            raise ConfigError(f"{chosen}: {exc}") from None

    def region(self, code: str) -> PilotRegion | None:
        return self.regions.get(code.strip()[:2]) if len(code.strip()) >= 2 else None

    def refusal(self, code: str, now: datetime) -> str | None:
        """Why a 031/у of region ``code`` cannot be sent at ``now`` (None: it can)."""
        region = self.region(code)
        if region is None:
            shown = code or "не указан"
            return f"регион медицинской организации ({shown}) не участвует в пилоте проактивной МСЭ ({self.source})"
        if now < region.start:
            return (
                f"пилот проактивной МСЭ в регионе «{region.name}» (КАТО {region.kato}) начинается "
                f"{region.start.date().isoformat()} (этап {region.phase}); форма 031/у не отправляется до начала пилота"
            )
        return None


def conclusion_deadline(arrived_at: datetime) -> datetime:
    """The end of the working day by which the expert must conclude on a draft that arrived at
    ЦБДИ at ``arrived_at`` (1 working day, the 16:00 cut-off, Kazakhstan's calendar)."""
    return deadline_for(Stage.KZ_EXPERT_CONCLUSION, arrived_at)


@cache
def shipped_pilot() -> PilotTable:
    """The shipped table (loaded once)."""
    return PilotTable.load()

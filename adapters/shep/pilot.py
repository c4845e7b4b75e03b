"""The pilot as the ШЭП route applies it: the table and the deadline are the core's
(:mod:`gateway.common.kz_pilot`); here is the metric of conclusions within the 1-working-day rule,
counted as ЦБДИ's answers arrive. A conclusion without the reported arrival at ЦБДИ is counted
under ``within_deadline="unreported"`` (the deadline report in the UI falls back to the gateway's
send time from the journal).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from prometheus_client import Counter

from gateway.common.kz_pilot import KZ_ZONE, PilotRegion, PilotTable, conclusion_deadline
from gateway.monitoring.counters import REGISTRY

if TYPE_CHECKING:
    from adapters.shep.payload import Conclusion

__all__ = ["KZ_ZONE", "PilotRegion", "PilotTable", "conclusion_deadline", "observe_conclusion"]

_CONCLUSIONS: Final = Counter(
    "mse_gateway_kz_conclusions",
    "Expert conclusions from ЦБДИ by region, pilot phase and whether they came within the "
    "1-working-day rule (16:00 cut-off)",
    ["region", "phase", "within_deadline"],
    registry=REGISTRY,
)


def observe_conclusion(pilot: PilotTable, conclusion: Conclusion, region_hint: str = "") -> bool | None:
    """Count one conclusion in ``mse_gateway_kz_conclusions_total``; returns whether it was within the
    deadline (None: ЦБДИ did not report the arrival)."""
    code = conclusion.region or region_hint
    region = pilot.region(code)
    labels = {"region": region.kato if region else (code[:2] or "unknown"), "phase": region.phase if region else ""}
    if conclusion.arrived_at is None:
        _CONCLUSIONS.labels(**labels, within_deadline="unreported").inc()
        return None
    within = conclusion.decided_at <= conclusion_deadline(conclusion.arrived_at)
    _CONCLUSIONS.labels(**labels, within_deadline="yes" if within else "no").inc()
    return within

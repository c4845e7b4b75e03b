"""Retry schedules across time (persisted as ``next_attempt_at``), shared by delivery and
notifications. In-call retries of one network exchange are tenacity's job, not this module's."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["Backoff"]


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with "equal jitter": the delay for attempt n (1-based) is drawn from
    ``[d/2, d]`` with ``d = min(cap, base * factor**(n-1))``, never below ``floor``. Jitter keeps a
    thousand documents that failed together from retrying together."""

    base: float = 30.0
    factor: float = 2.0
    cap: float = 3600.0
    floor: float = 0.0

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        if attempt < 1:
            raise ValueError("attempts are counted from 1")
        ceiling = min(self.cap, self.base * self.factor ** (attempt - 1))
        r = (rng or random).random()
        return max(self.floor, ceiling / 2 + r * ceiling / 2)

    def next_at(
        self, now: datetime, attempt: int, *, at_least: float = 0.0, rng: random.Random | None = None
    ) -> datetime:
        return now + timedelta(seconds=max(at_least, self.delay(attempt, rng)))

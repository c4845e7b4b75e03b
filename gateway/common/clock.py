"""Time as the gateway sees it. Injected everywhere so the sandbox can let days pass in seconds."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["Clock", "SimulatedClock", "SystemClock"]


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware UTC datetime."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SimulatedClock:
    """Time running ``speed`` times faster than the wall clock from an epoch.

    ``now = sim_epoch + (wall - real_epoch) * speed + offset``. Being a pure function of the wall
    clock and three numbers, several processes given the same numbers (the sandbox's gateway and
    its peers, across a restart) agree on the time without talking to each other.
    """

    def __init__(self, speed: float, *, real_epoch: float | None = None, sim_epoch: datetime | None = None) -> None:
        if speed <= 0:
            raise ValueError("clock speed must be positive")
        self.speed = speed
        self.real_epoch = time.time() if real_epoch is None else real_epoch
        self.sim_epoch = sim_epoch or datetime.fromtimestamp(self.real_epoch, UTC)
        self._offset = timedelta(0)

    def now(self) -> datetime:
        elapsed = (time.time() - self.real_epoch) * self.speed
        return self.sim_epoch + timedelta(seconds=elapsed) + self._offset

    def advance(self, seconds: float) -> None:
        """Jump ahead (tests): everything due in the next ``seconds`` becomes due now."""
        self._offset += timedelta(seconds=seconds)

    def real_seconds(self, simulated_seconds: float) -> float:
        return simulated_seconds / self.speed

"""Per-peer protection: a token bucket (federal services have quotas and answer RATE_LIMIT) and a
circuit breaker (when a peer is down, stop sending, probe now and then, resume when it answers).

Written here rather than taken from a library: both are a few lines, must share the gateway's
injectable clock (the breaker's open period runs on simulated time in the sandbox), and the
breaker's state is shown to operators, so it needs to be inspectable.
"""

from __future__ import annotations

import asyncio
import enum
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway.common.clock import Clock

__all__ = ["BreakerState", "CircuitBreaker", "TokenBucket"]


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` saved up; ``acquire`` waits for one."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._stamp = time.monotonic()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    async def acquire(self) -> None:
        async with self._lock:  # FIFO: waiters are served in order
            self._refill()
            while self._tokens < 1:
                await asyncio.sleep((1 - self._tokens) / self.rate)
                self._refill()
            self._tokens -= 1


class BreakerState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


@dataclass
class BreakerSnapshot:
    state: BreakerState
    consecutive_failures: int
    opened_at: datetime | None
    last_success: datetime | None
    last_failure: datetime | None


class CircuitBreaker:
    def __init__(self, clock: Clock, *, failures: int, open_seconds: float) -> None:
        self.clock = clock
        self.threshold = failures
        self.open_for = timedelta(seconds=open_seconds)
        self.state = BreakerState.CLOSED
        self.consecutive_failures = 0
        self.opened_at: datetime | None = None
        self.last_success: datetime | None = None
        self.last_failure: datetime | None = None
        self._probe_out = False

    def allow(self) -> bool:
        """May a send go out now? When open, one probe is let through after ``open_seconds``."""
        if self.state is BreakerState.CLOSED:
            return True
        assert self.opened_at is not None
        if self.state is BreakerState.OPEN and self.clock.now() >= self.opened_at + self.open_for:
            self.state = BreakerState.HALF_OPEN
            self._probe_out = False
        if self.state is BreakerState.HALF_OPEN and not self._probe_out:
            self._probe_out = True
            return True
        return False

    def retry_at(self) -> datetime:
        """When a held send should be tried again."""
        base = self.opened_at or self.clock.now()
        return max(self.clock.now(), base + self.open_for)

    def success(self) -> None:
        self.state = BreakerState.CLOSED
        self.consecutive_failures = 0
        self.opened_at = None
        self.last_success = self.clock.now()
        self._probe_out = False

    def failure(self) -> None:
        """A transport-level failure (the peer did not answer properly), not a refusal."""
        self.consecutive_failures += 1
        self.last_failure = self.clock.now()
        if self.state is BreakerState.HALF_OPEN or self.consecutive_failures >= self.threshold:
            self.state = BreakerState.OPEN
            self.opened_at = self.clock.now()
            self._probe_out = False

    def snapshot(self) -> BreakerSnapshot:
        return BreakerSnapshot(
            self.state, self.consecutive_failures, self.opened_at, self.last_success, self.last_failure
        )

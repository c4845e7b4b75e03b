"""Backoff schedule, token bucket and circuit breaker (pure logic, table-driven)."""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.common.backoff import Backoff
from gateway.delivery.limits import BreakerState, CircuitBreaker, TokenBucket


@pytest.mark.parametrize(("attempt", "ceiling"), [(1, 60), (2, 120), (3, 240), (4, 480), (8, 3600), (30, 3600)])
def test_backoff_schedule_doubles_and_caps(attempt: int, ceiling: float) -> None:
    b = Backoff(base=60, factor=2, cap=3600)
    rng = random.Random(1)
    delays = [b.delay(attempt, rng) for _ in range(200)]
    assert min(delays) >= ceiling / 2 and max(delays) <= ceiling
    assert max(delays) - min(delays) > ceiling / 10  # jitter spreads retries


@given(st.integers(min_value=1, max_value=60), st.floats(min_value=0, max_value=1000))
def test_backoff_respects_floor_and_at_least(attempt: int, at_least: float) -> None:
    b = Backoff(base=10, cap=300)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    at = b.next_at(now, attempt, at_least=at_least)
    assert at - now >= timedelta(seconds=min(at_least, 1e9)) - timedelta(microseconds=1)
    assert at - now <= timedelta(seconds=max(300, at_least)) + timedelta(microseconds=1)


def test_backoff_rejects_attempt_zero() -> None:
    with pytest.raises(ValueError):
        Backoff().delay(0)


async def test_token_bucket_limits_the_rate() -> None:
    bucket = TokenBucket(rate=200, burst=5)
    start = time.monotonic()
    for _ in range(45):
        await bucket.acquire()
    elapsed = time.monotonic() - start
    # 5 from the burst, then 40 at 200/s ≈ 0.2 s.
    assert elapsed >= 0.18


async def test_token_bucket_burst_is_immediate() -> None:
    bucket = TokenBucket(rate=1, burst=10)
    start = time.monotonic()
    await asyncio.gather(*(bucket.acquire() for _ in range(10)))
    assert time.monotonic() - start < 0.5


class ManualClock:
    def __init__(self) -> None:
        self.t = datetime(2026, 11, 25, tzinfo=UTC)

    def now(self) -> datetime:
        return self.t


def test_breaker_opens_probes_and_closes() -> None:
    clock = ManualClock()
    br = CircuitBreaker(clock, failures=3, open_seconds=30)
    for _ in range(2):
        br.failure()
    assert br.allow() and br.state is BreakerState.CLOSED
    br.failure()
    assert br.state is BreakerState.OPEN and not br.allow()
    assert br.retry_at() == clock.t + timedelta(seconds=30)
    clock.t += timedelta(seconds=31)
    assert br.allow()  # one probe
    assert not br.allow()  # and only one
    br.failure()  # the probe failed: open again
    assert br.state is BreakerState.OPEN and not br.allow()
    clock.t += timedelta(seconds=31)
    assert br.allow()
    br.success()
    assert br.state is BreakerState.CLOSED and br.allow() and br.consecutive_failures == 0


def test_a_success_resets_the_failure_count() -> None:
    br = CircuitBreaker(ManualClock(), failures=3, open_seconds=30)
    br.failure()
    br.failure()
    br.success()
    br.failure()
    br.failure()
    assert br.state is BreakerState.CLOSED

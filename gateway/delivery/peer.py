"""Everything the core keeps per peer: its adapter, settings, rate limit, breaker and schedules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from gateway.common.backoff import Backoff
from gateway.common.clock import Clock
from gateway.config import RemdPeerConfig
from gateway.delivery.contract import DeliveryAdapter
from gateway.delivery.limits import CircuitBreaker, TokenBucket

__all__ = ["Peer"]


@dataclass
class Peer:
    name: str
    adapter: DeliveryAdapter
    config: RemdPeerConfig
    clock: Clock
    limiter: TokenBucket = field(init=False)
    breaker: CircuitBreaker = field(init=False)
    backoff: Backoff = field(init=False)

    def __post_init__(self) -> None:
        limits = self.config.limits
        self.limiter = TokenBucket(limits.rate_per_second, limits.burst)
        self.breaker = CircuitBreaker(
            self.clock, failures=limits.breaker_failures, open_seconds=limits.breaker_open_seconds
        )
        self.backoff = Backoff(base=self.config.backoff_base_seconds, cap=self.config.backoff_cap_seconds)

    def answer_deadline(self, now: datetime, lookups_done: int) -> datetime:
        """When to ask the peer if no answer has come: the escalating reconciliation schedule."""
        schedule = self.config.reconcile_schedule_minutes
        return now + timedelta(minutes=schedule[min(lookups_done, len(schedule) - 1)])

    def gave_up(self, *, attempts: int, created_at: datetime, now: datetime) -> bool:
        too_old = now - created_at > timedelta(hours=self.config.max_age_hours)
        return attempts >= self.config.max_attempts or too_old

"""Everything the core keeps per peer instance: its adapter, settings, code table, capabilities,
rate limit, breaker and schedules."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from gateway.common.backoff import Backoff
from gateway.common.clock import Clock
from gateway.delivery.classify import Decision, classify_answer
from gateway.delivery.limits import CircuitBreaker, TokenBucket
from gateway.peers.codes import CodeTable
from gateway.peers.contract import Capabilities, DeliveryAdapter
from gateway.peers.settings import PeerSettings

__all__ = ["Peer"]


@dataclass
class Peer:
    name: str
    adapter: DeliveryAdapter
    config: PeerSettings
    clock: Clock
    codes: CodeTable
    capabilities: Capabilities = field(default_factory=Capabilities)
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

    def classify(self, codes: Iterable[tuple[str, str]]) -> Decision:
        """This peer's error answer, classified with its own code table."""
        return classify_answer(codes, self.codes)

    def answer_deadline(self, now: datetime, lookups_done: int) -> datetime:
        """When to ask the peer if no answer has come: the escalating reconciliation schedule."""
        schedule = self.config.reconcile_schedule_minutes
        return now + timedelta(minutes=schedule[min(lookups_done, len(schedule) - 1)])

    def gave_up(self, *, attempts: int, created_at: datetime, now: datetime) -> bool:
        too_old = now - created_at > timedelta(hours=self.config.max_age_hours)
        return attempts >= self.config.max_attempts or too_old

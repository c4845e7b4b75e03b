"""Bounded memory and concurrency for request bodies (issue 14, finding 6).

Before this, every request read its body and parsed it at once, on the event loop: a 20 MB body of
empty XML elements grew the process by ~900 MB and blocked everything for seconds, and four
concurrent 15.5 MB documents on ``/check`` took it to 2.3 GB. Now:

* one :class:`BodyBudget` per process holds every request body in flight *and* what parsing it will
  cost. A request reserves what its Content-Length announces (or the per-request maximum when it
  announces nothing) before a byte is read, and grows the reservation to the estimated parse cost
  before it parses. Either step fails at once with :class:`~gateway.errors.Overloaded` (503 and
  ``Retry-After``, or the protocol's fault) when the budget is exhausted: the request is shed
  before it costs memory, instead of queueing bodies that would.
* the estimate of XML parse cost is measured, not guessed: libxml2 spends ~120 bytes per element
  and ~200 per attribute (text node included) on top of the input, so
  ``len + 128 × count('<') + 224 × count('=')`` bounds it from above for markup-dense input and is
  ~1× for base64-heavy documents. A body whose estimate exceeds the whole budget can never be
  served and is refused as too large.
* parsing runs off the event loop (``asyncio.to_thread``; lxml releases the GIL while libxml2
  parses), so /healthz and every other request keep answering.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Final

from aiohttp import web

from gateway.errors import Overloaded, PayloadTooLarge

__all__ = [
    "BODY_BUDGET_KEY",
    "CHECK_SLOTS_KEY",
    "BodyBudget",
    "CheckSlots",
    "Hold",
    "body_budget",
    "json_parse_cost",
    "xml_parse_cost",
]

_ELEMENT_COST: Final = 128
_ATTRIBUTE_COST: Final = 224
# Decoded text, the decoded objects and the base64-decoded document next to the body itself.
_JSON_FACTOR: Final = 3


def xml_parse_cost(data: bytes) -> int:
    """Upper estimate of the memory parsing ``data`` with lxml takes, the input included."""
    return len(data) * 2 + _ELEMENT_COST * data.count(b"<") + _ATTRIBUTE_COST * data.count(b"=")


def json_parse_cost(size: int) -> int:
    return size * _JSON_FACTOR


@dataclass
class Hold:
    """One request's reservation; grows as the request learns what it will cost."""

    budget: BodyBudget
    size: int = 0

    def resize(self, wanted: int) -> None:
        """Grow (or shrink) the reservation to ``wanted`` bytes, or raise without changing it."""
        self.budget._take(wanted - self.size, wanted)
        self.size = wanted


class BodyBudget:
    """The process-wide budget of bytes held by requests being read and parsed.

    Single-threaded by design: reservations are taken and released on the event loop only.
    """

    def __init__(self, capacity: int, *, retry_after: int = 1) -> None:
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self.retry_after = retry_after
        self.in_use = 0
        self.peak = 0
        self.refused = 0

    def _take(self, delta: int, total: int) -> None:
        if total > self.capacity:
            raise PayloadTooLarge(
                f"the request would need ~{total} bytes to read and parse; this gateway holds at most "
                f"{self.capacity} bytes of requests at once",
                details={"limit": self.capacity, "estimate": total},
            )
        if delta > 0 and self.in_use + delta > self.capacity:
            self.refused += 1
            raise Overloaded(
                "the gateway is busy with other large requests; try again shortly",
                retry_after=self.retry_after,
                details={"retry_after_seconds": self.retry_after},
            )
        self.in_use += delta
        self.peak = max(self.peak, self.in_use)

    @asynccontextmanager
    async def hold(self, initial: int) -> AsyncIterator[Hold]:
        """Reserve ``initial`` bytes for the duration of the block (raises Overloaded or
        PayloadTooLarge at once, never waits: waiting requests would hold their sockets and
        buffers anyway)."""
        hold = Hold(self)
        hold.resize(initial)
        try:
            yield hold
        finally:
            self.in_use -= hold.size


class CheckSlots:
    """At most ``limit`` dry-run checks (/api/v1/check) at once: each may verify signatures and
    run the schematron, seconds of CPU and hundreds of MB for a large document."""

    def __init__(self, limit: int, *, retry_after: int = 1) -> None:
        self.limit = limit
        self.retry_after = retry_after
        self.busy = 0

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self.busy >= self.limit:
            raise Overloaded(
                f"{self.limit} checks are already running; try again shortly",
                retry_after=self.retry_after,
                details={"retry_after_seconds": self.retry_after},
            )
        self.busy += 1
        try:
            yield
        finally:
            self.busy -= 1


BODY_BUDGET_KEY: Final = web.AppKey("body_budget", BodyBudget)
CHECK_SLOTS_KEY: Final = web.AppKey("check_slots", CheckSlots)
_FALLBACK: Final = BodyBudget(256 * 1024 * 1024)


def body_budget(request: web.Request) -> BodyBudget:
    """The application's budget; a process-wide default for apps built without create_app (the
    sandbox twins, unit tests of single endpoints)."""
    return request.config_dict.get(BODY_BUDGET_KEY) or _FALLBACK

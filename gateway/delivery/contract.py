"""The contract between the delivery core and a peer adapter.

An adapter knows its peer's envelopes and transport; the core knows states, retries, deadlines and
reconciliation. The adapter reports *what the peer said*, raw (code, message, HTTP status, the exact
envelopes); the core classifies it (gateway.delivery.classify) and decides what happens next.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from aiohttp import web

from gateway.intake.submission import CanonicalSubmission
from gateway.journal.store import EnvelopeIn
from gateway.model import Submission

__all__ = [
    "Answer",
    "AnswerKind",
    "CallbackSink",
    "DeliveryAdapter",
    "LookupResult",
    "PeerOutcome",
]


class AnswerKind(enum.StrEnum):
    ACCEPTED = "accepted"  # taken for asynchronous processing: await a callback (REMD)
    REGISTERED = "registered"  # registered synchronously (ШЭП SCSS001)
    REFUSED = "refused"  # the peer answered with error codes; classification decides
    NO_ANSWER = "no_answer"  # network error, timeout, HTTP 5xx, unparseable answer


@dataclass(frozen=True, slots=True)
class Answer:
    """What one send attempt produced."""

    kind: AnswerKind
    codes: tuple[tuple[str, str], ...] = ()  # (code, message) as the peer spelled them
    http_status: int | None = None
    peer_registration_id: str | None = None
    error: str | None = None  # transport-level description for NO_ANSWER
    envelopes: Sequence[EnvelopeIn] = field(default_factory=tuple)
    retry_after_seconds: float | None = None  # the peer's own hint (Retry-After), if any


@dataclass(frozen=True, slots=True)
class LookupResult:
    """What reconciliation learned from the peer about one submission."""

    found: bool | None  # True registered, False the peer does not have it, None could not ask
    peer_registration_id: str | None = None
    registered_at: datetime | None = None
    error: str | None = None
    envelopes: Sequence[EnvelopeIn] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class PeerOutcome:
    """An asynchronous answer (callback) from a peer, translated to canonical terms."""

    peer: str
    local_uid: str
    organization_oid: str | None
    success: bool
    codes: tuple[tuple[str, str], ...] = ()
    peer_registration_id: str | None = None
    registered_at: datetime | None = None
    relates_to: str | None = None  # the message id of our request, when the peer echoes it
    envelopes: Sequence[EnvelopeIn] = field(default_factory=tuple)


class CallbackSink(Protocol):
    """Where an adapter's callback endpoint hands a peer's asynchronous answer. Implemented by
    the core (gateway.delivery.outcomes); returns once the answer is durable."""

    async def __call__(self, outcome: PeerOutcome) -> None: ...


class DeliveryAdapter(Protocol):
    """A peer the gateway delivers to. One per adapters/<peer> package."""

    name: str

    async def send(self, sub: Submission, canonical: CanonicalSubmission) -> Answer:
        """Send (or resend, with the same identifiers) one submission. Never raises for peer or
        transport problems: they are answers too."""
        ...

    async def lookup(self, sub: Submission, canonical: CanonicalSubmission) -> LookupResult:
        """Ask the peer whether it registered this submission (reconciliation)."""
        ...

    def routes(self, sink: CallbackSink) -> web.RouteTableDef:
        """HTTP endpoints the peer calls back on, mounted in the gateway app."""
        ...

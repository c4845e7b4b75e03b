"""Counters and histograms of this process (intake and delivery latency, retries by cause).

Every stage calls the small functions below at the moment something happens; ``GET /metrics``
(:mod:`gateway.monitoring.metrics`) serves them next to the journal gauges. This module imports
nothing of the gateway, so any stage may record into it without depending on the scrape.
"""

from __future__ import annotations

from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = [
    "REGISTRY",
    "observe_delivery",
    "observe_intake",
    "record_archive_run",
    "record_peer_refusal",
    "record_retry",
]

REGISTRY: Final = CollectorRegistry(auto_describe=True)

_LATENCY_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_INTAKE: Final = Histogram(
    "mse_gateway_intake_seconds",
    "Time from a request's arrival to its durable acknowledgement, by intake channel.",
    ["origin"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
_DELIVERY: Final = Histogram(
    "mse_gateway_delivery_seconds",
    "Duration of one send to a peer (request to answer), by peer and result.",
    ["peer", "result"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
_RETRIES: Final = Counter(
    "mse_gateway_retries",
    "Sends scheduled for a retry (RETRY_WAIT), by peer and cause (error code or transport error class).",
    ["peer", "cause"],
    registry=REGISTRY,
)

_PEER_REFUSALS: Final = Counter(
    "mse_gateway_peer_calls_refused",
    "Calls to a peer instance's endpoints refused by its authentication, by peer and code.",
    ["peer", "code"],
    registry=REGISTRY,
)


_ARCHIVED: Final = Counter(
    "mse_gateway_archived_submissions",
    "Final submissions whose envelopes the retention job moved out of the journal, by policy.",
    ["policy"],
    registry=REGISTRY,
)
_ARCHIVED_ENVELOPES: Final = Counter(
    "mse_gateway_archived_envelopes",
    "Envelopes moved to the archive directory or deleted by the retention job, by policy.",
    ["policy"],
    registry=REGISTRY,
)
_ARCHIVED_BYTES: Final = Counter(
    "mse_gateway_archived_envelope_bytes",
    "Bytes of envelope bodies (as stored) moved or deleted by the retention job, by policy.",
    ["policy"],
    registry=REGISTRY,
)
_ARCHIVE_RUN: Final = Gauge(
    "mse_gateway_archive_last_run_timestamp_seconds",
    "When this process last finished a retention run (Unix time), by outcome (ok | error).",
    ["outcome"],
    registry=REGISTRY,
)


def record_archive_run(policy: str, submissions: int, envelopes: int, size: int, *, at: float, ok: bool) -> None:
    """Call after each retention run this process made (``at``: Unix time)."""
    _ARCHIVED.labels(policy=policy).inc(submissions)
    _ARCHIVED_ENVELOPES.labels(policy=policy).inc(envelopes)
    _ARCHIVED_BYTES.labels(policy=policy).inc(size)
    _ARCHIVE_RUN.labels(outcome="ok" if ok else "error").set(at)


def record_peer_refusal(peer: str, code: str) -> None:
    _PEER_REFUSALS.labels(peer=peer, code=code).inc()


def observe_intake(origin: str, seconds: float) -> None:
    """Call when a submission was journalled and acknowledged (``origin``: rest, remd-soap, ...)."""
    _INTAKE.labels(origin=origin).observe(seconds)


def observe_delivery(peer: str, result: str, seconds: float) -> None:
    """Call after one send attempt; ``result``: accepted | registered | failed | retry | error."""
    _DELIVERY.labels(peer=peer, result=result).observe(seconds)


def record_retry(peer: str, cause: str) -> None:
    """Call when a send is put into RETRY_WAIT; ``cause`` is the peer's code or the error class."""
    _RETRIES.labels(peer=peer, cause=cause[:80]).inc()

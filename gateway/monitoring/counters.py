"""Counters and histograms of this process (intake and delivery latency, retries by cause).

Every stage calls the small functions below at the moment something happens; ``GET /metrics``
(:mod:`gateway.monitoring.metrics`) serves them next to the journal gauges. This module imports
nothing of the gateway, so any stage may record into it without depending on the scrape.
"""

from __future__ import annotations

from typing import Final

from prometheus_client import CollectorRegistry, Counter, Histogram

__all__ = ["REGISTRY", "observe_delivery", "observe_intake", "record_peer_refusal", "record_retry"]

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

"""Settings every peer instance has, whatever its protocol: the delivery core's knobs.

A plug-in's own settings model subclasses :class:`PeerSettings` and adds what its protocol needs
(REMD's clientEntityId, SMEV's namespace version, ...). Configuration names *instances*
(``[peers.gis-77] protocol = "remd"``); :mod:`gateway.peers.registry` validates each instance's
table with its protocol's model, so a wrong key is reported as ``peers.gis-77.<key>``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from gateway.peers.auth import PeerAuthSettings

__all__ = ["PeerLimitsConfig", "PeerSettings"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class PeerLimitsConfig(_Section):
    # Token bucket per peer: sustained sends per second and burst size.
    rate_per_second: float = Field(default=50.0, gt=0)
    burst: int = Field(default=100, gt=0)
    # Concurrent sends to this peer from one process.
    concurrency: int = Field(default=16, gt=0)
    # Circuit breaker: open after this many consecutive transport failures (network, 5xx,
    # timeouts), stay open this long, then let one probe through.
    breaker_failures: int = Field(default=10, gt=0)
    breaker_open_seconds: float = Field(default=30.0, gt=0)


class PeerSettings(_Section):
    # The protocol this instance speaks: the name of an installed plug-in. Empty: the instance's
    # own name (so ``[peers.remd]`` alone means the REMD protocol).
    protocol: str = ""
    enabled: bool = True
    # The peer's service endpoint. Empty in the sandbox: the twin's address is filled in.
    url: str = ""
    # Public base URL of this gateway as this peer sees it (callbacks, files served to the peer).
    # Empty: server.public_url, else http://<server.host>:<server.port>.
    public_url: str = ""
    timeout_seconds: float = Field(default=30.0, gt=0)
    limits: PeerLimitsConfig = PeerLimitsConfig()
    # Retries across time for transient failures (persisted): exponential with jitter.
    backoff_base_seconds: float = Field(default=60.0, gt=0)
    backoff_cap_seconds: float = Field(default=6 * 3600.0, gt=0)
    # Give up (DEAD, for an operator) after this many send attempts or this age.
    max_attempts: int = Field(default=20, gt=0)
    max_age_hours: float = Field(default=15 * 24.0, gt=0)
    # Reconciliation: minutes after acceptance (and between further lookups) before asking the
    # peer about a submission; the last value repeats. After max_lookups without an answer: DEAD.
    reconcile_schedule_minutes: list[float] = Field(default=[15.0, 60.0, 240.0, 720.0, 1440.0], min_length=1)
    max_lookups: int = Field(default=20, gt=0)
    # "Not found" by the peer after the answer deadline: resubmit at most this often.
    max_resubmits: int = Field(default=5, ge=0)
    # A submission waiting for this peer (QUEUED, RETRY_WAIT, SENT, RECONCILING) longer than this
    # is "stuck": listed in the UI, counted in metrics, and alerted on.
    stuck_after_hours: float = Field(default=24.0, gt=0)
    # Who may call this instance's endpoints: see gateway.peers.auth and docs/security.md.
    auth: PeerAuthSettings = PeerAuthSettings()

"""Fault profiles of the SMEV 3 twin: how often, and how late, the simulated SMEV misbehaves.

A profile is a TOML file (``config/faults/smev3-<name>.toml``); :meth:`FaultProfile.load` takes a
name (``flaky`` or ``smev3-flaky``) or a path. The name ``none`` works without a file.

Probabilities are independent draws: ``smev_failure`` per call (nothing is done, the answer is
an SMEVFailure fault); ``dropped_response`` per accepted SendRequest (the request is enqueued but
the HTTP answer is lost: the connection is closed); ``async_rejection`` per accepted request (it
never reaches the provider: an AsyncProcessingStatus ``requestIsRejectedBySmev`` arrives in the
sender's queue later); ``lost_ack`` per Ack (answered, not applied: the message comes again after
the redelivery base time); ``slow_answer`` per call; ``provider_rejection`` and
``provider_status`` per request that reaches the provider (RequestRejected instead of the
business answer; RequestStatus progress messages before the answer).

Delays of queue events are in *simulated* seconds (the injected clock); the delay of a slow
answer is in *real* seconds (what the HTTP client waits for).
"""

from __future__ import annotations

import random
from pathlib import Path

from pydantic import Field, field_validator

from adapters.smev3.codec import FAULT_ELEMENTS
from adapters.smev3.sandbox.bureau import BureauProfile
from gateway.common.fault_profiles import Delay, ProfileModel, load_profile, profile_search_path
from gateway.errors import ConfigError

__all__ = ["SEND_FAULT_CODES", "SIGNATURE_REASONS", "Delay", "FaultProfile", "Probabilities", "profile_search_path"]

PREFIX = "smev3-"
# The SignatureVerificationFault reasons (faults XSD) the twin can answer.
SIGNATURE_REASONS = frozenset(
    {
        "PoorSOAPEnvelopeFormat",
        "NoSignatureFound",
        "IncorrectSignatureTarget",
        "SignatureIsInvalid",
        "CertificateIsNotFound",
        "CertificateIsExpired",
    }
)
SEND_FAULT_CODES = frozenset(FAULT_ELEMENTS) | SIGNATURE_REASONS


_Model = ProfileModel


class Probabilities(_Model):
    smev_failure: float = Field(default=0.0, ge=0, le=1)
    dropped_response: float = Field(default=0.0, ge=0, le=1)
    async_rejection: float = Field(default=0.0, ge=0, le=1)
    lost_ack: float = Field(default=0.0, ge=0, le=1)
    slow_answer: float = Field(default=0.0, ge=0, le=1)
    provider_rejection: float = Field(default=0.0, ge=0, le=1)
    provider_status: float = Field(default=0.0, ge=0, le=1)


class FaultProfile(_Model):
    name: str = "smev3-none"
    description: str = ""
    probabilities: Probabilities = Probabilities()
    # From acceptance to the provider taking the request: simulated seconds.
    provider_delay: Delay = Delay(distribution="fixed", seconds=1.0)
    # Between the provider's progress statuses, and from the last one to the answer: simulated s.
    status_interval: Delay = Delay(distribution="fixed", seconds=1.0)
    # How many RequestStatus messages come first when the provider sends progress statuses.
    status_count: int = Field(default=1, ge=1, le=10)
    # From acceptance to an asynchronous rejection by SMEV: simulated seconds.
    async_rejection_delay: Delay = Delay(distribution="fixed", seconds=5.0)
    # Before a slow answer: real seconds.
    slow_answer_delay: Delay = Delay(distribution="fixed", seconds=2.0)
    # A message delivered and not Acked within this many simulated seconds is delivered again.
    redelivery_seconds: float = Field(default=300.0, gt=0)
    # Messages waiting in one recipient's incoming queue before DestinationOverflow.
    queue_quota: int = Field(default=1000, ge=1)
    # A MessageID (UUID v1) older than this, or newer than now + future_tolerance: StaleMessageId.
    stale_after_seconds: float = Field(default=86400.0, gt=0)
    future_tolerance_seconds: float = Field(default=300.0, ge=0)
    # Attachments of one message above this many bytes in total: AttachmentSizeLimitExceeded.
    attachment_size_limit_bytes: int = Field(default=5 * 1024 * 1024, ge=0)
    # Attachment bytes one sender may have accepted in all (SMEV's quota of an information
    # system): a message that would pass it is QuoteLimitExceeded.
    attachment_quota_bytes: int = Field(default=1024 * 1024 * 1024, ge=0)
    # Faults a SendRequest is answered by draw (fault code → probability), for what the twin
    # cannot bring about for real in a given set-up (a fault element of the faults XSD or a
    # SignatureVerificationFault reason). Drawn after the checks made for real, before the quota.
    send_faults: dict[str, float] = Field(default_factory=dict)

    @field_validator("send_faults")
    @classmethod
    def _known_codes(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - SEND_FAULT_CODES)
        if unknown:
            raise ValueError(f"not SMEV 3 fault codes: {', '.join(unknown)}")
        if any(not 0 <= p <= 1 for p in value.values()):
            raise ValueError("send_faults probabilities must be within 0..1")
        return value

    # A simulated ФГИС ЕАВИИАС behind the node (adapters/smev3/sandbox/bureau.py): it takes the
    # referrals of the ЕАВИИАС content profile instead of the generic simulated provider.
    bureau: BureauProfile | None = None

    @classmethod
    def load(cls, name_or_path: str | Path) -> FaultProfile:
        """A profile from a TOML path, or by name from config/faults (``flaky`` finds
        ``smev3-flaky.toml``). ``none`` works without a file. Raises ConfigError."""
        text = str(name_or_path)
        stem = text if text.startswith(PREFIX) or text.endswith(".toml") else PREFIX + text
        profile = load_profile(cls, text, stem=stem, what="SMEV 3 fault profile")
        if profile is not None:
            return profile
        if stem == PREFIX + "none":
            return cls()
        raise ConfigError(f"unknown SMEV 3 fault profile {text!r}: no {stem}.toml in config/faults")

    def chance(self, rng: random.Random, what: str) -> bool:
        """One draw of ``probabilities.<what>`` (no draw at all when it is 0: reproducible runs
        of the ``none`` profile do not depend on the generator)."""
        p: float = getattr(self.probabilities, what)
        return p > 0 and rng.random() < p

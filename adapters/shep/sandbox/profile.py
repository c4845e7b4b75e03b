"""Fault profiles of the ШЭП and ЦБДИ twins (``config/faults/shep-<name>.toml``).

Probabilities (independent draws): ``gateway_error`` per call (ШЭП answers an ErrorInfo fault
SCSE001 › SHEP_INTERNAL, nothing done); ``dropped_response`` per accepted sendMessage (stored,
the HTTP answer lost); ``slow_answer`` per call; ``lost_status`` per registered draft (the
DraftActRegistered notification never comes); ``duplicate_status`` per registered draft (it comes
twice, under two ШЭП messageIds); ``lost_notification`` per sendDeliveryNotification (answered,
not applied: the message is delivered again after ``redelivery_seconds``); ``late_conclusion``
per draft (the expert concludes after the 1-working-day deadline); ``refusal_decision`` per
draft (the expert refuses to establish disability, with reasons); ``bad_expert_signature`` per
conclusion (its text altered after the expert signed: the signature no longer verifies).

Delays of ЦБДИ's work are in simulated seconds; the slow answer in real seconds.
"""

from __future__ import annotations

import random
from pathlib import Path

from pydantic import Field

from gateway.common.fault_profiles import Delay, ProfileModel, load_profile
from gateway.errors import ConfigError

__all__ = ["Delay", "FaultProfile", "Probabilities"]

PREFIX = "shep-"


class Probabilities(ProfileModel):
    gateway_error: float = Field(default=0.0, ge=0, le=1)
    dropped_response: float = Field(default=0.0, ge=0, le=1)
    slow_answer: float = Field(default=0.0, ge=0, le=1)
    lost_status: float = Field(default=0.0, ge=0, le=1)
    duplicate_status: float = Field(default=0.0, ge=0, le=1)
    lost_notification: float = Field(default=0.0, ge=0, le=1)
    late_conclusion: float = Field(default=0.0, ge=0, le=1)
    refusal_decision: float = Field(default=0.0, ge=0, le=1)
    bad_expert_signature: float = Field(default=0.0, ge=0, le=1)


class FaultProfile(ProfileModel):
    name: str = "shep-none"
    description: str = ""
    probabilities: Probabilities = Probabilities()
    # From acceptance by ШЭП to registration of the draft at ЦБДИ: simulated seconds.
    relay_delay: Delay = Delay(distribution="fixed", seconds=1.0)
    # From registration to an on-time conclusion (capped at the deadline): simulated seconds.
    decision_delay: Delay = Delay(distribution="fixed", seconds=3600.0)
    # How long after the deadline a late conclusion comes: simulated seconds.
    late_by: Delay = Delay(distribution="fixed", seconds=3600.0)
    slow_answer_delay: Delay = Delay(distribution="fixed", seconds=2.0)
    # A message delivered and not notified within this many simulated seconds comes again.
    redelivery_seconds: float = Field(default=300.0, gt=0)

    @classmethod
    def load(cls, name_or_path: str | Path) -> FaultProfile:
        """A profile from a TOML path, or by name from config/faults (``flaky`` finds
        ``shep-flaky.toml``); ``none`` works without a file. Raises ConfigError."""
        text = str(name_or_path)
        stem = text if text.startswith(PREFIX) or text.endswith(".toml") else PREFIX + text
        profile = load_profile(cls, text, stem=stem, what="ШЭП fault profile")
        if profile is not None:
            return profile
        if stem == PREFIX + "none":
            return cls()
        raise ConfigError(f"unknown ШЭП fault profile {text!r}: no {stem}.toml in config/faults")

    def chance(self, rng: random.Random, what: str) -> bool:
        p: float = getattr(self.probabilities, what)
        return p > 0 and rng.random() < p

"""Fault profiles of the REMD twin: how often, and how late, the simulated REMD misbehaves.

A profile is a TOML file (``config/faults/<name>.toml``); :meth:`FaultProfile.load` takes a name
or a path. Probabilities are per request. The fate of an accepted registerDocument is one draw
over mutually exclusive outcomes — registration-timeout error, lost callback, late callback, or a
normal callback — so ``registration_timeout + lost_callback + late_callback <= 1``; the
synchronous faults (HTTP 5xx, RATE_LIMIT) are one more draw, and a slow answer an independent one.

Delays of callbacks are in *simulated* seconds (the injected clock), so with a fast sandbox clock
days pass in seconds. The delay of a slow synchronous answer is in *real* seconds: it is what the
HTTP client waits for.
"""

from __future__ import annotations

import enum
import random
from pathlib import Path
from typing import Self

from pydantic import Field, model_validator

from gateway.common.fault_profiles import Delay, ProfileModel, load_profile, profile_search_path
from gateway.errors import ConfigError

__all__ = ["Delay", "Fate", "FaultProfile", "Probabilities", "SyncFault", "profile_search_path"]


_Model = ProfileModel


class Probabilities(_Model):
    registration_timeout: float = Field(default=0.0, ge=0, le=1)
    lost_callback: float = Field(default=0.0, ge=0, le=1)
    late_callback: float = Field(default=0.0, ge=0, le=1)
    rate_limit: float = Field(default=0.0, ge=0, le=1)
    http_5xx: float = Field(default=0.0, ge=0, le=1)
    slow_answer: float = Field(default=0.0, ge=0, le=1)

    @model_validator(mode="after")
    def _sums(self) -> Self:
        if self.registration_timeout + self.lost_callback + self.late_callback > 1 + 1e-9:
            raise ValueError("registration_timeout + lost_callback + late_callback must not exceed 1")
        if self.rate_limit + self.http_5xx > 1 + 1e-9:
            raise ValueError("rate_limit + http_5xx must not exceed 1")
        return self


class Fate(enum.StrEnum):
    """What becomes of an accepted registerDocument."""

    CALLBACK = "callback"  # registered, callback after callback_delay
    LATE = "late"  # registered, callback after callback_delay + late_callback_delay
    LOST = "lost"  # registered, no callback ever
    TIMEOUT = "timeout"  # not registered; error callback ASYNC_RESPONSE_TIMEOUT


class SyncFault(enum.StrEnum):
    HTTP_5XX = "http_5xx"
    RATE_LIMIT = "rate_limit"


class FaultProfile(_Model):
    name: str = "none"
    description: str = ""
    probabilities: Probabilities = Probabilities()
    # From acceptance to the result (registration or error) and its callback: simulated seconds.
    callback_delay: Delay = Delay(distribution="fixed", seconds=1.0)
    # Added to callback_delay for a late callback: simulated seconds.
    late_callback_delay: Delay = Delay(distribution="fixed", seconds=86400.0)
    # Before a slow synchronous answer: real seconds.
    slow_answer_delay: Delay = Delay(distribution="fixed", seconds=2.0)
    http_5xx_status: int = Field(default=503, ge=500, le=599)
    # Pull every document with getDocumentFile even when the request carries it.
    pull_document: bool = False
    # Callback delivery: attempts, and simulated seconds between them.
    callback_attempts: int = Field(default=3, ge=1)
    callback_retry_seconds: float = Field(default=60.0, ge=0)

    @classmethod
    def load(cls, name_or_path: str | Path) -> FaultProfile:
        """A profile from a TOML file path, or by name from config/faults/. The name ``none`` works
        without a file (no faults, fast callbacks). Raises ConfigError naming the problem."""
        profile = load_profile(cls, name_or_path, stem=str(name_or_path), what="fault profile")
        if profile is not None:
            return profile
        if str(name_or_path) == "none":
            return cls()
        raise ConfigError(f"unknown fault profile {str(name_or_path)!r}: no {name_or_path}.toml in config/faults")

    def draw_fate(self, rng: random.Random) -> Fate:
        p = self.probabilities
        u = rng.random()
        if u < p.registration_timeout:
            return Fate.TIMEOUT
        u -= p.registration_timeout
        if u < p.lost_callback:
            return Fate.LOST
        u -= p.lost_callback
        if u < p.late_callback:
            return Fate.LATE
        return Fate.CALLBACK

    def draw_sync_fault(self, rng: random.Random) -> SyncFault | None:
        p = self.probabilities
        u = rng.random()
        if u < p.http_5xx:
            return SyncFault.HTTP_5XX
        if u < p.http_5xx + p.rate_limit:
            return SyncFault.RATE_LIMIT
        return None

    def draw_slow(self, rng: random.Random) -> float:
        """Real seconds to hold the synchronous answer (0: not slow)."""
        if rng.random() < self.probabilities.slow_answer:
            return self.slow_answer_delay.draw(rng)
        return 0.0

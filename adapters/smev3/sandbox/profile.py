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

import math
import random
import tomllib
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gateway.common.shipped import search_bases
from gateway.errors import ConfigError

__all__ = ["Delay", "FaultProfile", "Probabilities", "profile_search_path"]

PREFIX = "smev3-"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Delay(_Model):
    """A delay distribution in seconds, clamped to [min_seconds, cap_seconds].

    fixed: ``seconds``; uniform: ``min_seconds``..``max_seconds``; exponential: ``mean_seconds``;
    lognormal: ``median_seconds`` and ``sigma``.
    """

    distribution: Literal["fixed", "uniform", "exponential", "lognormal"] = "fixed"
    seconds: float = Field(default=0.0, ge=0)
    min_seconds: float = Field(default=0.0, ge=0)
    max_seconds: float | None = Field(default=None, ge=0)
    mean_seconds: float = Field(default=0.0, ge=0)
    median_seconds: float = Field(default=0.0, ge=0)
    sigma: float = Field(default=1.0, gt=0)
    cap_seconds: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.distribution == "uniform" and (self.max_seconds is None or self.max_seconds < self.min_seconds):
            raise ValueError("uniform needs max_seconds >= min_seconds")
        if self.distribution == "lognormal" and self.median_seconds <= 0:
            raise ValueError("lognormal needs median_seconds > 0")
        if self.cap_seconds is not None and self.cap_seconds < self.min_seconds:
            raise ValueError("cap_seconds must be >= min_seconds")
        return self

    def draw(self, rng: random.Random) -> float:
        match self.distribution:
            case "fixed":
                value = self.seconds
            case "uniform":
                assert self.max_seconds is not None
                value = rng.uniform(self.min_seconds, self.max_seconds)
            case "exponential":
                value = rng.expovariate(1.0 / self.mean_seconds) if self.mean_seconds > 0 else 0.0
            case "lognormal":
                value = rng.lognormvariate(math.log(self.median_seconds), self.sigma)
        value = max(self.min_seconds, value)
        return min(value, self.cap_seconds) if self.cap_seconds is not None else value


class Probabilities(_Model):
    smev_failure: float = Field(default=0.0, ge=0, le=1)
    dropped_response: float = Field(default=0.0, ge=0, le=1)
    async_rejection: float = Field(default=0.0, ge=0, le=1)
    lost_ack: float = Field(default=0.0, ge=0, le=1)
    slow_answer: float = Field(default=0.0, ge=0, le=1)
    provider_rejection: float = Field(default=0.0, ge=0, le=1)
    provider_status: float = Field(default=0.0, ge=0, le=1)


def profile_search_path() -> list[Path]:
    """Where profile names are looked up: config/faults under the working directory, the checkout
    and the installed share directory (gateway.common.shipped)."""
    return [base / "config" / "faults" for base in search_bases()]


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

    @classmethod
    def load(cls, name_or_path: str | Path) -> FaultProfile:
        """A profile from a TOML path, or by name from config/faults (``flaky`` finds
        ``smev3-flaky.toml``). ``none`` works without a file. Raises ConfigError."""
        text = str(name_or_path)
        path = Path(text)
        if not (text.endswith(".toml") or path.is_file()):
            stem = text if text.startswith(PREFIX) else PREFIX + text
            for folder in profile_search_path():
                candidate = folder / f"{stem}.toml"
                if candidate.is_file():
                    path = candidate
                    break
            else:
                if stem == PREFIX + "none":
                    return cls()
                raise ConfigError(f"unknown SMEV 3 fault profile {text!r}: no {stem}.toml in config/faults")
        try:
            with path.open("rb") as fh:
                data: dict[str, Any] = tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigError(f"fault profile not found: {path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        data.setdefault("name", path.stem)
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
            raise ConfigError(f"{path}: invalid SMEV 3 fault profile: {problems}") from None

    def chance(self, rng: random.Random, what: str) -> bool:
        """One draw of ``probabilities.<what>`` (no draw at all when it is 0: reproducible runs
        of the ``none`` profile do not depend on the generator)."""
        p: float = getattr(self.probabilities, what)
        return p > 0 and rng.random() < p

"""What every sandbox twin's fault profile shares: delay distributions and loading a profile
from a TOML file by name or path. Each plug-in's twin defines its own probabilities and fields
(``adapters/<protocol>/sandbox/profile.py``) on top of these."""

from __future__ import annotations

import math
import random
import tomllib
from pathlib import Path
from typing import Any, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gateway.common.shipped import search_bases
from gateway.errors import ConfigError

__all__ = ["Delay", "ProfileModel", "load_profile", "profile_search_path"]


class ProfileModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_P = TypeVar("_P", bound=ProfileModel)


class Delay(ProfileModel):
    """A delay distribution in seconds, clamped to [min_seconds, cap_seconds].

    fixed: ``seconds``; uniform: ``min_seconds``..``max_seconds``; exponential: ``mean_seconds``;
    lognormal: ``median_seconds`` and ``sigma`` (of the underlying normal).
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


def profile_search_path() -> list[Path]:
    """Where profile names are looked up: config/faults under the working directory, the checkout
    and the installed share directory (gateway.common.shipped)."""
    return [base / "config" / "faults" for base in search_bases()]


def load_profile(model: type[_P], name_or_path: str | Path, *, stem: str, what: str) -> _P | None:
    """The profile in a TOML file: ``name_or_path`` if it is a path, else ``<stem>.toml`` in
    config/faults. None when no such file exists (the caller decides whether its default
    applies). Raises ConfigError naming the file and the problem."""
    text = str(name_or_path)
    path = Path(text)
    if not (text.endswith(".toml") or path.is_file()):
        found = next((f / f"{stem}.toml" for f in profile_search_path() if (f / f"{stem}.toml").is_file()), None)
        if found is None:
            return None
        path = found
    try:
        with path.open("rb") as fh:
            data: dict[str, Any] = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"fault profile not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    data.setdefault("name", path.stem)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{path}: invalid {what}: {problems}") from None

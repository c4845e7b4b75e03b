"""Routing: which peer a submission goes to, by document kind and the organisation's region.

Rules come from a TOML file (``config/routes.toml``); the first matching rule wins. A submission no
rule matches is rejected with NO_ROUTE — never dropped, never guessed.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gateway.documents.kinds import default_destinations
from gateway.errors import ConfigError

__all__ = ["DEFAULT_ROUTES", "NO_ROUTE", "Route", "Router", "load_routes", "region_from_org_oid"]

NO_ROUTE = "NO_ROUTE"

# FRMO organisation OIDs carry the region (subject of the RF) code: 1.2.643.5.1.13.13.12.2.<region>.<n>
_FRMO = re.compile(r"^1\.2\.643\.5\.1\.13\.13\.12\.2\.(\d{1,2})\.\d+")


def region_from_org_oid(oid: str) -> str | None:
    m = _FRMO.match(oid)
    return m.group(1).zfill(2) if m else None


class Route(BaseModel):
    # Not strict: TOML arrays arrive as lists and are frozen into tuples here.
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    kinds: tuple[str, ...] = Field(min_length=1)
    regions: tuple[str, ...] = ("*",)
    destination: str

    def matches(self, kind: str, region: str | None) -> bool:
        kind_ok = "*" in self.kinds or kind in self.kinds
        region_ok = "*" in self.regions or (region is not None and region in self.regions)
        return kind_ok and region_ok


class _RouteFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    routes: tuple[Route, ...]


# Used when no routes file is found. Kazakh documents have no route until a ШЭП peer exists: they
# are rejected with NO_ROUTE rather than routed to a peer that is not there.
# The kinds come from the kind table (gateway.documents.kinds): each kind with a default destination.
DEFAULT_ROUTES: tuple[Route, ...] = tuple(
    Route(name="ru-mse-documents-to-remd" if dest == "remd" else f"to-{dest}", kinds=kinds, destination=dest)
    for dest, kinds in default_destinations().items()
)


@dataclass(frozen=True)
class Router:
    routes: Sequence[Route]

    def route(self, kind: str, region: str | None) -> Route | None:
        return next((r for r in self.routes if r.matches(kind, region)), None)

    @property
    def destinations(self) -> set[str]:
        return {r.destination for r in self.routes}


def load_routes(path: Path | None) -> Router:
    """Routes from ``path`` (validated like the main configuration), or the built-in defaults."""
    if path is None:
        return Router(DEFAULT_ROUTES)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        return Router(_RouteFile.model_validate(data).routes)
    except FileNotFoundError:
        raise ConfigError(f"routes file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(".".join(str(p) for p in e["loc"]) + ": " + e["msg"] for e in exc.errors())
        raise ConfigError(f"{path}: invalid routes: {problems}") from None

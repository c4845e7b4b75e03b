"""Grouped causes: "18 DEAD = 12 HTTP_503 + 6 RATE_LIMIT", each code with what it means and what
to do about it.

A peer's code is explained from that peer's own code table (``adapters/*/error-codes.tsv``, read
through :class:`gateway.peers.codes.CodeTable`): its description as the table gives it (the tables
are written in Russian) and the suggested action of its class (transient, permanent, rate limit,
already there), translated in the UI catalogue. The gateway's own codes are explained from the
catalogue.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from gateway.peers.codes import CodeTable

__all__ = ["GATEWAY_CODES", "Cause", "CauseGroup", "group_causes"]

# The gateway's own codes an operator meets in lists, explained in the catalogue ("code.<CODE>").
GATEWAY_CODES: Final = frozenset(
    {
        "OPERATOR_CANCELLED",
        "NO_ROUTE",
        "NOT_FOUND_AT_PEER",
        "RECONCILIATION_EXHAUSTED",
        "LOOKUP_FAILED",
        "NETWORK_ERROR",
        "UNKNOWN",
    }
)
# Transport failures (gateway.delivery.classify.classify_transport): HTTP_<status>.
_HTTP: Final = re.compile(r"^HTTP_(\d{3})$")


@dataclass(frozen=True, slots=True)
class Cause:
    code: str | None
    count: int
    description: str | None  # the peer's table's own words, as written there
    cls: str | None  # CodeClass value, "gateway" for the gateway's own codes, None when unknown


@dataclass(frozen=True, slots=True)
class CauseGroup:
    state: str
    total: int
    causes: list[Cause]


def _explain(code: str | None, tables: Iterable[tuple[str, CodeTable]]) -> tuple[str | None, str | None]:
    if code is None:
        return None, None
    if code in GATEWAY_CODES:
        return None, "gateway"
    http = _HTTP.match(code)
    if http:
        status = int(http.group(1))
        return None, "rate-limit" if status == 429 else "transient" if status >= 500 else "permanent"
    for _, table in tables:
        rule = table.lookup(code)
        if rule is not None:
            return rule.description or None, str(rule.cls)
    return None, None


def group_causes(rows: Iterable[tuple[str, str | None, int]], tables: Mapping[str, CodeTable]) -> list[CauseGroup]:
    """``(state, code, count)`` rows folded per state, largest state first, codes largest first.
    ``tables`` are the running peers' code tables by peer name (searched in name order)."""
    ordered = sorted(tables.items())
    per_state: dict[str, list[Cause]] = {}
    for state, code, n in rows:
        description, cls = _explain(code, ordered)
        per_state.setdefault(state, []).append(Cause(code, n, description, cls))
    groups = [
        CauseGroup(state, sum(c.count for c in causes), sorted(causes, key=lambda c: (-c.count, c.code or "")))
        for state, causes in per_state.items()
    ]
    return sorted(groups, key=lambda g: (-g.total, g.state))

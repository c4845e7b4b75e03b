"""Grouped causes: "18 DEAD = 12 HTTP_503 + 6 RATE_LIMIT", each code with what it means and what
to do about it.

A peer's code is explained from that peer's own code table (``adapters/*/error-codes.tsv``, read
through :class:`gateway.peers.codes.CodeTable`): its description and suggested action in Russian and
in English, row by row (a test fails if a row lacks either). A code a table describes without an
action falls back to the action of its class (transient, permanent, rate limit, already there) from
the UI catalogue. The gateway's own codes and ``HTTP_<status>`` are explained from the catalogue.
:func:`explain` is the one lookup the console, the operator API and ``mse-gateway ops`` use; it takes
the language as an argument and does not decide it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from gateway.peers.codes import CodeTable
from gateway.ui.i18n import LANGUAGES, Language, translate

__all__ = ["GATEWAY_CODES", "Cause", "CauseGroup", "Explanation", "explain", "group_causes"]

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
class Explanation:
    description: str | None  # what the code means; None when nothing describes it
    action: str  # what an operator should do
    cls: str | None  # CodeClass value, "gateway" for the gateway's own codes, None when unknown


@dataclass(frozen=True, slots=True)
class Cause:
    code: str | None
    count: int
    description: str | None  # in the language asked for
    cls: str | None  # CodeClass value, "gateway" for the gateway's own codes, None when unknown
    action: str = ""  # in the language asked for


@dataclass(frozen=True, slots=True)
class CauseGroup:
    state: str
    total: int
    causes: list[Cause]


def _language(language: str) -> Language:
    return language if language in LANGUAGES else "en"


def explain(code: str | None, tables: Mapping[str, CodeTable], language: str) -> Explanation:
    """What ``code`` means and what to do about it, in ``language`` ("ru" or "en"). ``tables`` are
    the peers' code tables by peer name, searched in name order (the first that knows the code)."""
    lang = _language(language)
    if code is None:
        return Explanation(None, translate(lang, "cause.action.unknown"), None)
    if code in GATEWAY_CODES:
        return Explanation(translate(lang, f"code.{code}"), translate(lang, f"code_action.{code}"), "gateway")
    http = _HTTP.match(code)
    if http:
        status = int(http.group(1))
        cls = "rate-limit" if status == 429 else "transient" if status >= 500 else "permanent"
        described = translate(lang, "code.HTTP").replace("{status}", str(status))
        return Explanation(described, translate(lang, f"cause.action.{cls}"), cls)
    for _, table in sorted(tables.items()):
        rule = table.lookup(code)
        if rule is not None:
            description, action = rule.explained(lang)
            return Explanation(
                description or None, action or translate(lang, f"cause.action.{rule.cls}"), str(rule.cls)
            )
    return Explanation(None, translate(lang, "cause.action.unknown"), None)


def group_causes(
    rows: Iterable[tuple[str, str | None, int]], tables: Mapping[str, CodeTable], language: str = "ru"
) -> list[CauseGroup]:
    """``(state, code, count)`` rows folded per state, largest state first, codes largest first,
    each code explained in ``language``. ``tables`` are the running peers' code tables by peer name."""
    per_state: dict[str, list[Cause]] = {}
    for state, code, n in rows:
        e = explain(code, tables, language)
        per_state.setdefault(state, []).append(Cause(code, n, e.description, e.cls, e.action))
    groups = [
        CauseGroup(state, sum(c.count for c in causes), sorted(causes, key=lambda c: (-c.count, c.code or "")))
        for state, causes in per_state.items()
    ]
    return sorted(groups, key=lambda g: (-g.total, g.state))

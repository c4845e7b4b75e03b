"""What the gateway checks before it forwards anything, as one report.

The report shape is the one vendors see from `mse-gateway check` and `POST /api/v1/check`:
``{passed, signatures, roles, flk: [{rule, code, category, message, message_en, field}]}``.
``category`` is one of the seed's rejection categories, used by the dashboard. A finding's
``message`` is Russian and ``message_en`` English as stored; :func:`report_in_language` gives the
reader's view (``message`` in their language, ``message_ru`` and ``message_en`` both kept).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from gateway.intake.submission import CanonicalSubmission

__all__ = ["CATEGORIES", "Checker", "Finding", "Report", "message_in_language", "report_in_language"]

Category = Literal[
    "late", "duplicate", "invalid_signature", "wrong_region", "citizen_data", "examinations", "role", "other"
]
CATEGORIES: tuple[Category, ...] = (
    "late",
    "duplicate",
    "invalid_signature",
    "wrong_region",
    "citizen_data",
    "examinations",
    "role",
    "other",
)


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    code: str
    category: Category
    message: str  # Russian, for the vendor's operator (and the return notice to the MO)
    field: str | None = None
    message_en: str | None = None  # the same in English; None only where a text has no translation

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "code": self.code,
            "category": self.category,
            "message": self.message,
            "message_en": self.message_en or self.message,
            "field": self.field,
        }


@dataclass(frozen=True, slots=True)
class Report:
    findings: tuple[Finding, ...] = ()
    signatures: dict[str, Any] | None = None
    roles: tuple[dict[str, Any], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.findings

    @property
    def first(self) -> Finding | None:
        return self.findings[0] if self.findings else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "signatures": self.signatures,
            "roles": list(self.roles),
            "flk": [f.to_dict() for f in self.findings],
            **self.extra,
        }


def _item_in_language(item: Any, language: str, *, text: str = "message") -> Any:
    if not isinstance(item, dict) or not isinstance(item.get(text), str):
        return item
    ru = item.get(f"{text}_ru", item[text])
    en = item.get(f"{text}_en") or ru
    return {**item, text: en if language == "en" else ru, f"{text}_ru": ru, f"{text}_en": en}


def report_in_language(report: dict[str, Any], language: str) -> dict[str, Any]:
    """A stored or fresh report (``Report.to_dict()``) for a reader of ``language``: every finding's
    and warning's ``message`` and every skip ``reason`` in that language, both languages kept beside
    it (``message_ru``/``message_en``, ``reason_ru``/``reason_en``). Reports journalled before texts
    were bilingual have Russian only: their ``message_en`` falls back to it. Idempotent."""
    out = dict(report)
    for key in ("flk", "warnings"):
        if isinstance(report.get(key), list):
            out[key] = [_item_in_language(i, language) for i in report[key]]
    if isinstance(report.get("skipped"), list):
        out["skipped"] = [_item_in_language(i, language, text="reason") for i in report["skipped"]]
    return out


def message_in_language(message: str | None, report: Any, language: str) -> str | None:
    """A journalled message that is an FLK finding's (a rejection's timeline entry and outcome are
    the first finding's Russian text) in ``language``, found in ``report``; any other message —
    a peer's, the gateway's own English — as it was written."""
    if language != "en" or not message or not isinstance(report, dict):
        return message
    for item in report.get("flk") or ():
        if isinstance(item, dict) and item.get("message_ru", item.get("message")) == message:
            return str(item.get("message_en") or message)
    return message


class Checker(Protocol):
    """Checks one submission and reports every finding. Checkers that need the journal (duplicate,
    late arrival) are given read access to it when they are built; a check never writes."""

    async def check(self, submission: CanonicalSubmission) -> Report: ...

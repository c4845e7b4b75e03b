"""What the gateway checks before it forwards anything, as one report.

The report shape is the one vendors see from `mse-gateway check` and `POST /api/v1/check`:
``{passed, signatures, roles, flk: [{rule, code, category, message, field}]}``. ``category`` is one
of the seed's rejection categories, used by the dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from gateway.intake.submission import CanonicalSubmission

__all__ = ["CATEGORIES", "Checker", "Finding", "Report"]

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
    message: str  # Russian, for the vendor's operator
    field: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "code": self.code,
            "category": self.category,
            "message": self.message,
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


class Checker(Protocol):
    """Checks one submission and reports every finding. Checkers that need the journal (duplicate,
    late arrival) are given read access to it when they are built; a check never writes."""

    async def check(self, submission: CanonicalSubmission) -> Report: ...

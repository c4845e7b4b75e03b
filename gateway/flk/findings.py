"""Findings with a severity: what every rule returns.

``gateway.validation.contract.Finding`` has no severity and ``Report.passed`` is "no findings at all", so the
checker puts only ``error`` findings into ``Report.findings`` (they fail the check) and reports
``warning`` findings under ``warnings`` in the report (they do not). A rule never decides where its
findings go; it says how serious they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from gateway.common.language import Text
from gateway.validation.contract import Category, Finding

__all__ = ["RuleFinding", "Severity", "finding"]

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class RuleFinding(Finding):
    """A :class:`Finding` with a severity: ``error`` fails the check, ``warning`` is reported only."""

    severity: Severity = "error"

    def to_dict(self) -> dict[str, Any]:
        data = Finding.to_dict(self)
        data["severity"] = self.severity
        return data


def finding(
    rule: str,
    code: str,
    category: Category,
    message: Text,
    field: str | None = None,
    *,
    severity: Severity = "error",
) -> RuleFinding:
    """Shorthand used by the rules (codes are plain strings: REMD's, the verifier's or ours). The
    message is in both languages (gateway/flk/messages.py), so it is a :class:`Text`, not a str."""
    return RuleFinding(rule, str(code), category, message.ru, field=field, message_en=message.en, severity=severity)

"""Classification of every delivery failure, in one place: what the peer said → what to do.

Inputs are the peer's raw codes *and* message texts (REMD's most common failure, «Не удалось
зарегистрировать документ за отведенное время», arrives with varying codes, so the text counts),
the HTTP status and transport errors. What each code means comes from the answering peer's own
code table (:class:`gateway.peers.codes.CodeTable`, brought by its plug-in); the rules that
combine them live here, so they are tested once for every protocol.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from gateway.peers.codes import CodeClass, CodeRule, CodeTable

__all__ = ["RATE_LIMIT_MIN_WAIT", "Decision", "Verdict", "classify_answer", "classify_transport"]

# HTTP 429 without a Retry-After: wait at least this long (REMD asks for «через минуту или позже»).
RATE_LIMIT_MIN_WAIT: Final = 60.0


class Verdict(enum.StrEnum):
    RETRY = "retry"  # transient: RETRY_WAIT with backoff
    FAIL = "fail"  # permanent: FAILED with the code
    ALREADY_THERE = "already_there"  # the peer has it already: reconcile, never fail


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    code: str
    message: str
    cause: str  # a short stable label for metrics: "registration-timeout", "rate-limit", "http-503", ...
    min_wait: float = 0.0  # seconds the next attempt must wait at least


def _normalise_text(message: str) -> str:
    return message.replace("ё", "е").replace("Ё", "Е")


def _retry(code: str, message: str, rule: CodeRule, cause: str) -> Decision:
    wait = rule.wait_seconds if rule.cls is CodeClass.RATE_LIMIT else 0.0
    return Decision(Verdict.RETRY, code, message, "rate-limit" if rule.cls is CodeClass.RATE_LIMIT else cause, wait)


def classify_answer(codes: Iterable[tuple[str, str]], table: CodeTable) -> Decision:
    """Classify a peer's error answer (one or more (code, message) pairs) with its code table.

    Precedence: "already there" wins (never resend what exists), then any transient cause (a
    retry may succeed), else permanent. A code missing from the table takes the table's
    ``unknown`` class (permanent unless the plug-in says otherwise).
    """
    pairs = [(c.strip(), m.strip()) for c, m in codes] or [("UNKNOWN", "ответ без кода ошибки")]
    transient: Decision | None = None
    for code, message in pairs:
        rule = table.lookup(code) or CodeRule(table.unknown)
        if rule.cls is CodeClass.ALREADY_THERE:
            return Decision(Verdict.ALREADY_THERE, code, message, "already-registered")
        text = _normalise_text(message)
        by_text = next((t for t in table.texts if t.pattern.search(text)), None)
        if by_text is not None and by_text.rule.cls is not CodeClass.PERMANENT:
            transient = transient or _retry(code, message, by_text.rule, by_text.cause)
        elif rule.cls in (CodeClass.TRANSIENT, CodeClass.RATE_LIMIT):
            transient = transient or _retry(code, message, rule, code.lower().replace("_", "-"))
    if transient is not None:
        return transient
    code, message = pairs[0]
    return Decision(Verdict.FAIL, code, message, "permanent")


def classify_transport(*, http_status: int | None, error: str | None) -> Decision:
    """No usable answer: a network error, a timeout, HTTP 5xx or 429 are transient; other HTTP
    errors (4xx: our request is wrong) are permanent, so a misconfiguration does not loop."""
    if http_status is None:
        return Decision(Verdict.RETRY, "NETWORK_ERROR", error or "no answer from the peer", "network")
    if http_status == 429:
        return Decision(Verdict.RETRY, "HTTP_429", error or "too many requests", "rate-limit", RATE_LIMIT_MIN_WAIT)
    if http_status >= 500 or http_status in (408, 425):
        return Decision(Verdict.RETRY, f"HTTP_{http_status}", error or "server error", f"http-{http_status}")
    return Decision(Verdict.FAIL, f"HTTP_{http_status}", error or "request refused", f"http-{http_status}")

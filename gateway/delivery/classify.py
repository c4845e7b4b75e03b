"""Classification of every delivery failure, in one place: what the peer said → what to do.

Inputs are the peer's raw codes *and* message texts (the seed's most common failure, «Не удалось
зарегистрировать документ за отведенное время», arrives with varying codes, so the text counts),
the HTTP status and transport errors. The retry class of each REMD code comes from the shipped
NSI 305 table (gateway/data/remd-error-codes.tsv).
"""

from __future__ import annotations

import csv
import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final

__all__ = [
    "RATE_LIMIT_MIN_WAIT",
    "Decision",
    "Verdict",
    "classify_answer",
    "classify_transport",
    "remd_code_classes",
]

RATE_LIMIT_MIN_WAIT: Final = 60.0  # REMD: «просьба повторить через минуту или позже»


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


# The seed's registration timeout, matched by text whatever code it comes with.
_REGISTRATION_TIMEOUT = re.compile(r"не\s+удалось\s+зарегистрировать\s+документ\s+за\s+отведенн?ое\s+время", re.I)
# Codes classified by the project where the NSI table is silent or the text is what matters.
_EXTRA: Final[Mapping[str, str]] = {"SOAP_FAULT": "transient"}


@cache
def remd_code_classes() -> dict[str, str]:
    text = resources.files("gateway.data").joinpath("remd-error-codes.tsv").read_text("utf-8")
    rows = csv.DictReader(text.splitlines(), delimiter="\t")
    classes = {row["code"]: row["class"] for row in rows}
    # REMD's own spelling differs from the code list for the recipient checks.
    for code, cls in list(classes.items()):
        if code.startswith("RECEPIENT_"):
            classes["RECIPIENT_" + code.removeprefix("RECEPIENT_")] = cls
    return {**classes, **_EXTRA}


def _normalise_text(message: str) -> str:
    return message.replace("ё", "е").replace("Ё", "Е")


def classify_answer(codes: Iterable[tuple[str, str]]) -> Decision:
    """Classify a peer's error answer (one or more (code, message) pairs).

    Precedence: "already there" wins (never resend what exists), then any transient cause (a
    retry may succeed), else permanent. Unknown codes are permanent: retrying what we do not
    understand hides it from operators, while FAILED puts it in front of them.
    """
    pairs = [(c.strip(), m.strip()) for c, m in codes] or [("UNKNOWN", "ответ без кода ошибки")]
    classes = remd_code_classes()
    transient: Decision | None = None
    for code, message in pairs:
        cls = classes.get(code.upper())
        if cls == "already-registered":
            return Decision(Verdict.ALREADY_THERE, code, message, "already-registered")
        if _REGISTRATION_TIMEOUT.search(_normalise_text(message)):
            transient = transient or Decision(Verdict.RETRY, code, message, "registration-timeout")
        elif cls == "transient":
            wait = RATE_LIMIT_MIN_WAIT if code.upper() == "RATE_LIMIT" else 0.0
            cause = "rate-limit" if wait else code.lower().replace("_", "-")
            transient = transient or Decision(Verdict.RETRY, code, message, cause, min_wait=wait)
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

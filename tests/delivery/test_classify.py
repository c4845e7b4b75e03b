"""Every class of failure, table-driven: REMD codes, message texts, transport errors."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from gateway.delivery.classify import (
    RATE_LIMIT_MIN_WAIT,
    Verdict,
    classify_answer,
    classify_transport,
    remd_code_classes,
)

TIMEOUT_TEXT = "Не удалось зарегистрировать документ за отведенное время"


@pytest.mark.parametrize(
    ("codes", "verdict", "cause"),
    [
        ([("ASYNC_RESPONSE_TIMEOUT", "Превышено ожидание")], Verdict.RETRY, "async-response-timeout"),
        ([("INTERNAL_ERROR", "Внутренняя ошибка")], Verdict.RETRY, "internal-error"),
        ([("MIS_NOT_AVAILABLE", "")], Verdict.RETRY, "mis-not-available"),
        ([("VALSYS_INTERNAL_ERROR", "")], Verdict.RETRY, "valsys-internal-error"),
        # The seed's registration timeout is recognised by its text, whatever the code.
        ([("OTHER_CODE", TIMEOUT_TEXT)], Verdict.RETRY, "registration-timeout"),
        ([("", TIMEOUT_TEXT.upper())], Verdict.RETRY, "registration-timeout"),
        ([("X", "Не удалось зарегистрировать документ за отведённое время")], Verdict.RETRY, "registration-timeout"),
        ([("NOT_UNIQUE_PROVIDED_ID", "уже зарегистрирован")], Verdict.ALREADY_THERE, "already-registered"),
        # "Already there" wins over anything else in the same answer.
        ([("INTERNAL_ERROR", ""), ("NOT_UNIQUE_PROVIDED_ID", "")], Verdict.ALREADY_THERE, "already-registered"),
        ([("SIGNATURE_VERIFICATION_ERROR", "ЭП не прошла проверку")], Verdict.FAIL, "permanent"),
        ([("DIGEST_MISMATCH", "")], Verdict.FAIL, "permanent"),
        ([("RECEPIENT_SNILS_MISMATCH", "")], Verdict.FAIL, "permanent"),
        ([("RECIPIENT_SNILS_MISMATCH", "")], Verdict.FAIL, "permanent"),  # REMD's spelling
        ([("NEVER_HEARD_OF_IT", "")], Verdict.FAIL, "permanent"),  # unknown → operator, not a loop
        # A transient cause among permanent ones: a retry may succeed.
        ([("DIGEST_MISMATCH", ""), ("INTERNAL_ERROR", "")], Verdict.RETRY, "internal-error"),
        ([], Verdict.FAIL, "permanent"),
    ],
)
def test_answers(codes: list[tuple[str, str]], verdict: Verdict, cause: str) -> None:
    decision = classify_answer(codes)
    assert (decision.verdict, decision.cause) == (verdict, cause)


def test_rate_limit_waits_at_least_a_minute() -> None:
    decision = classify_answer([("RATE_LIMIT", "Достигнут защитный лимит")])
    assert decision.verdict is Verdict.RETRY and decision.min_wait >= 60 == RATE_LIMIT_MIN_WAIT


@pytest.mark.parametrize(
    ("status", "error", "verdict", "code"),
    [
        (None, "ConnectionRefusedError", Verdict.RETRY, "NETWORK_ERROR"),
        (None, "TimeoutError", Verdict.RETRY, "NETWORK_ERROR"),
        (500, None, Verdict.RETRY, "HTTP_500"),
        (502, None, Verdict.RETRY, "HTTP_502"),
        (503, None, Verdict.RETRY, "HTTP_503"),
        (504, None, Verdict.RETRY, "HTTP_504"),
        (408, None, Verdict.RETRY, "HTTP_408"),
        (429, None, Verdict.RETRY, "HTTP_429"),
        (400, None, Verdict.FAIL, "HTTP_400"),
        (401, None, Verdict.FAIL, "HTTP_401"),
        (404, None, Verdict.FAIL, "HTTP_404"),
    ],
)
def test_transport(status: int | None, error: str | None, verdict: Verdict, code: str) -> None:
    decision = classify_transport(http_status=status, error=error)
    assert (decision.verdict, decision.code) == (verdict, code)
    if status == 429:
        assert decision.min_wait >= 60


def test_shipped_table_matches_the_reference() -> None:
    """The shipped copy and the reference list agree (when the reference is at hand)."""
    reference = Path(__file__).resolve().parents[3] / "shared" / "reference" / "remd-error-codes.tsv"
    if not reference.exists():
        import os

        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            raise AssertionError(f"{reference} missing in CI")
        pytest.skip("reference data not present")
    with reference.open(encoding="utf-8") as fh:
        rows = {r["code"]: r["class"] for r in csv.DictReader(fh, delimiter="\t")}
    shipped = remd_code_classes()
    assert all(shipped[code] == cls for code, cls in rows.items())
    assert {"transient", "permanent", "signature", "already-registered"} == set(rows.values())

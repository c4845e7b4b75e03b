"""Every class of failure, table-driven: codes (with REMD's table, the richest one), message texts,
transport errors; and the code-table format every plug-in's table is read with."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from adapters.remd.codes import remd_code_table
from gateway.delivery.classify import RATE_LIMIT_MIN_WAIT, Verdict, classify_answer, classify_transport
from gateway.errors import ConfigError
from gateway.peers.codes import CodeClass, CodeTable

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
    decision = classify_answer(codes, remd_code_table())
    assert (decision.verdict, decision.cause) == (verdict, cause)


def test_rate_limit_waits_at_least_a_minute() -> None:
    decision = classify_answer([("RATE_LIMIT", "Достигнут защитный лимит")], remd_code_table())
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
    table = remd_code_table()
    # The reference's classes, in the contract's vocabulary (signature failures are permanent).
    vocabulary = {"signature": CodeClass.PERMANENT, "already-registered": CodeClass.ALREADY_THERE}
    for code, cls in rows.items():
        rule = table.lookup(code)
        assert rule is not None, code
        expected = vocabulary.get(cls) or CodeClass(cls)
        if code == "RATE_LIMIT":
            assert rule.cls is CodeClass.RATE_LIMIT and rule.wait_seconds == RATE_LIMIT_MIN_WAIT
        else:
            assert rule.cls is expected, code
    assert {"transient", "permanent", "signature", "already-registered"} == set(rows.values())


SMALL = "code\tclass\twait_seconds\nBUSY\ttransient\t\nSLOW_DOWN\trate-limit\t30\nHAVE_IT\talready-there\t\n"


def test_another_peers_table_decides_for_that_peer() -> None:
    """The same code means what the answering peer's table says: REMD's INTERNAL_ERROR is
    transient, a peer whose table does not list it gets the table's unknown class."""
    small = CodeTable.from_tsv(SMALL, source="small.tsv")
    assert classify_answer([("BUSY", "")], small).verdict is Verdict.RETRY
    slow = classify_answer([("SLOW_DOWN", "")], small)
    assert (slow.verdict, slow.cause, slow.min_wait) == (Verdict.RETRY, "rate-limit", 30.0)
    assert classify_answer([("HAVE_IT", "")], small).verdict is Verdict.ALREADY_THERE
    assert classify_answer([("INTERNAL_ERROR", "")], small).verdict is Verdict.FAIL
    assert classify_answer([("INTERNAL_ERROR", "")], remd_code_table()).verdict is Verdict.RETRY
    # REMD's registration-timeout text is REMD's rule, not every peer's.
    assert classify_answer([("X", TIMEOUT_TEXT)], small).verdict is Verdict.FAIL


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("code\nA\n", "lacks the column(s) class"),
        ("code\tclass\nA\tsometimes\n", "line 2: class 'sometimes' of A is not one of"),
        ("code\tclass\nA\ttransient\na\tpermanent\n", "line 3: code A appears twice"),
        ("code\tclass\twait_seconds\nA\trate-limit\tsoon\n", "line 2: wait_seconds 'soon' is not a number"),
        ("code\tclass\twait_seconds\nA\trate-limit\t-1\n", "line 2: wait_seconds must be >= 0"),
        ("code\tclass\n\ttransient\n", "line 2: empty code"),
        ("code\tclass\n", "has no rows"),
    ],
)
def test_a_malformed_table_names_the_row(text: str, says: str) -> None:
    with pytest.raises(ConfigError) as info:
        CodeTable.from_tsv(text, source="peer.tsv")
    assert "peer.tsv" in info.value.message and says in info.value.message

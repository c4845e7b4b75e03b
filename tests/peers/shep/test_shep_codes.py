"""The ШЭП code table, row by row through the core's classifier; nested errors; unknown codes."""

from __future__ import annotations

import csv
from importlib import resources

import pytest

from adapters.shep.codes import ALERT_CODES, reported_codes, shep_code_table
from gateway.delivery.classify import Verdict, classify_answer
from gateway.errors import ConfigError
from gateway.peers.codes import CodeTable

R, F, A = Verdict.RETRY, Verdict.FAIL, Verdict.ALREADY_THERE
ROWS = [
    ("SCSE001", R, 0.0),
    ("SENDER_AUTH_FAILED", F, 0.0),
    ("SIGNATURE_INVALID", F, 0.0),
    ("SERVICE_NOT_FOUND", F, 0.0),
    ("INVALID_MESSAGE", F, 0.0),
    ("DUPLICATE_MESSAGE", A, 0.0),
    ("RECIPIENT_UNAVAILABLE", R, 0.0),
    ("TIMEOUT", R, 0.0),
    ("RATE_LIMIT", R, 300.0),
    ("SHEP_INTERNAL", R, 0.0),
    ("PILOT_NOT_STARTED", F, 0.0),
    ("CBDI_EXAMS_MISSING", F, 0.0),
    ("CBDI_SIGNER_INVALID", F, 0.0),
    ("SOAP_SERVER", R, 0.0),
    ("SOAP_CLIENT", F, 0.0),
]


def test_every_row_is_tested() -> None:
    text = resources.files("adapters.shep").joinpath("error-codes.tsv").read_text("utf-8")
    codes = {row["code"] for row in csv.DictReader(text.splitlines(), delimiter="\t")}
    assert codes == {code for code, _, _ in ROWS}


@pytest.mark.parametrize(("code", "verdict", "wait"), ROWS)
def test_row(code: str, verdict: Verdict, wait: float) -> None:
    decision = classify_answer([(code, "text")], shep_code_table())
    assert decision.verdict is verdict
    assert decision.min_wait == wait


def test_unknown_code_is_permanent_and_keeps_its_text() -> None:
    """Unknown: FAILED in front of an operator with the peer's own code and text (never retried
    out of sight, never dropped)."""
    decision = classify_answer([("XYZ-42", "что-то новое")], shep_code_table())
    assert (decision.verdict, decision.code, decision.message) == (F, "XYZ-42", "что-то новое")


def test_specific_permanent_cause_under_generic_transient_is_not_retried() -> None:
    chain = [("SCSE001", "failed to process"), ("SENDER_AUTH_FAILED", "wrong password")]
    assert classify_answer(chain, shep_code_table()).verdict is R  # what the raw chain would do
    reported = reported_codes(chain)
    assert reported == (("SENDER_AUTH_FAILED", "wrong password"),)
    assert classify_answer(reported, shep_code_table()).verdict is F
    assert "SENDER_AUTH_FAILED" in ALERT_CODES


def test_unknown_nested_under_known_reports_the_known() -> None:
    assert reported_codes([("SCSE001", "x"), ("NEW-1", "y")]) == (("SCSE001", "x"),)
    assert reported_codes([("NEW-1", "x"), ("NEW-2", "y")]) == (("NEW-1", "x"), ("NEW-2", "y"))


def test_alert_column() -> None:
    assert shep_code_table().alerting() == ALERT_CODES
    text = "code\tclass\talert\nX\tpermanent\tmaybe\n"
    with pytest.raises(ConfigError, match="line 2: alert 'maybe'"):
        CodeTable.from_tsv(text, source="t.tsv")
    assert CodeTable.from_tsv("code\tclass\nX\tpermanent\n", source="t.tsv").alerting() == frozenset()

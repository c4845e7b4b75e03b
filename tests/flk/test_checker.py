"""The full checker: valid submissions of every kind pass; the report's shape; signature findings
(a changed content byte); journal rules skipped on dry runs; switched-off rules; crashes held."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from typing import Any

import pytest

from flk.helpers import NOW, run_check
from gateway.common.logs import configure_logging
from gateway.documents import build_document
from gateway.flk.checker import FullChecker
from gateway.flk.journal_view import StaticJournalView
from gateway.validation.contract import CATEGORIES, Checker

Valid = Callable[..., dict[str, Any]]
Make = Callable[..., FullChecker]


def test_it_is_the_gateways_checker(base_checker: FullChecker) -> None:
    checker: Checker = base_checker  # the protocol gateway.validation.contract.Checker
    assert hasattr(checker, "check")


@pytest.mark.parametrize("kind", ["121", "187", "130", "35", "108", "kz-031u"])
def test_valid_submissions_of_every_kind_pass(make_checker: Make, valid: Valid, kind: str) -> None:
    report = run_check(make_checker(StaticJournalView([])), valid(kind, 21))
    data = report.to_dict()
    assert report.passed, data["flk"]
    assert data["warnings"] == []
    assert data["signatures"]["valid"] is True
    assert all(role["ok"] for role in data["roles"])
    assert data["document"]["kind"] == kind


def test_report_shape(base_checker: FullChecker, valid: Valid) -> None:
    data = run_check(base_checker, valid("121", 22)).to_dict()
    assert set(data) == {"passed", "signatures", "roles", "flk", "warnings", "skipped", "checked_at", "document"}
    assert data["checked_at"] == NOW.isoformat()
    entry = data["signatures"]["entries"][0]
    assert entry["type"] == "personal" and entry["report"]["signatures"][0]["chain"] == "trusted"
    json.dumps(data, ensure_ascii=False)  # serialisable as it is


def test_one_changed_content_byte_is_an_invalid_signature(base_checker: FullChecker, valid: Valid) -> None:
    data = valid("121", 23)
    document = bytearray(base64.b64decode(data["document"]))
    at = document.index(b"<given>") + len(b"<given>")  # inside the patient's name (UTF-8, two bytes)
    document[at + 1] ^= 0x01  # another Cyrillic letter: still well-formed XML, still parses
    data["document"] = base64.b64encode(bytes(document)).decode()
    report = run_check(base_checker, data)
    first = report.first
    assert first is not None and not report.passed
    assert first.category == "invalid_signature"
    assert first.code in {"SIGNATURE_VERIFICATION_ERROR", "DIGEST_MISMATCH"}
    assert report.to_dict()["document"] is not None  # the document itself still parsed


def test_signature_over_other_bytes(base_checker: FullChecker, valid: Valid) -> None:
    one, other = valid("121", 24), valid("121", 25)
    one["signatures"][0]["cms"] = other["signatures"][0]["cms"]
    codes = [f.code for f in run_check(base_checker, one).findings]
    assert codes[0] == "DIGEST_MISMATCH"


def test_garbage_signature_is_a_decoding_error(base_checker: FullChecker, valid: Valid) -> None:
    data = valid("121", 26)
    data["signatures"][1]["cms"] = base64.b64encode(b"not a CMS at all").decode()
    report = run_check(base_checker, data)
    assert report.first is not None and report.first.code == "SIGNATURE_DECODING_ERROR"
    assert report.first.field == "signatures/1"


def test_xmldsig_entries_are_not_silently_accepted(base_checker: FullChecker, valid: Valid) -> None:
    data = valid("kz-031u", 27)
    data["signatures"] = [{"type": "personal", "signer": data["signatures"][0]["signer"], "xmldsig": True}]
    report = run_check(base_checker, data)
    assert report.first is not None and report.first.code == "WRONG_SIGNATURE_FORMAT"


def test_without_trust_anchors_nothing_is_valid(make_checker: Make, valid: Valid) -> None:
    report = run_check(make_checker(trust_dir=""), valid("35", 28))
    assert report.first is not None
    assert (report.first.category, report.first.code) == (
        "invalid_signature",
        "CANT_BUILD_CERT_CHAIN_TO_ACCREDITED_CA_CERT",
    )


def test_no_signatures_at_all(base_checker: FullChecker, valid: Valid) -> None:
    data = valid("121", 29)
    data["signatures"] = []
    codes = [f.code for f in run_check(base_checker, data).findings]
    assert codes[0] == "NO_SIGNATURE"
    assert "ROLE_OCCURRENCE_MISMATCH" in codes  # the role policy counts too


def test_dry_run_skips_the_journal_rules_and_says_so(base_checker: FullChecker, valid: Valid) -> None:
    data = run_check(base_checker.with_journal(None), valid("121", 30)).to_dict()
    skipped = {s["rule"] for s in data["skipped"]}
    assert {"duplicate", "late-arrival"} <= skipped


def test_with_journal_shares_everything_else(base_checker: FullChecker) -> None:
    clone = base_checker.with_journal(StaticJournalView([]))
    assert clone.verifier is base_checker.verifier and clone.policy is base_checker.policy
    assert base_checker.journal is None and clone.journal is not None


def test_unparseable_document_is_rejected_and_signatures_still_checked(
    make_checker: Make, signers: Any, doc_of: Any
) -> None:
    from gateway.flk.samples import sign_document

    doc = doc_of("121", 31)
    data = build_document(doc)
    sub = sign_document(doc, signers, signing_time=doc.created, data=data[:1000])
    report = run_check(make_checker(StaticJournalView([])), sub)
    result = report.to_dict()
    assert report.first is not None and report.first.code == "DOC_XML_MALFORMED"
    assert result["signatures"]["valid"] is True  # verified over the exact (broken) bytes
    assert {"metadata", "citizen-data"} <= {s["rule"] for s in result["skipped"]}


def test_switched_off_rule_is_skipped(make_checker: Make, valid: Valid) -> None:
    data = valid("121", 32)
    data["signatures"] = data["signatures"][:1]  # no organisation signature
    assert not run_check(make_checker(), data).passed
    report = run_check(make_checker(rules={"role-policy": False}), data)
    assert report.passed
    assert {
        "rule": "role-policy",
        "reason": "правило отключено в конфигурации",
        "reason_en": "the rule is disabled in the configuration",
    } in report.to_dict()["skipped"]


def test_a_crashing_rule_holds_the_submission(
    base_checker: FullChecker, valid: Valid, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: Any, **kwargs: Any) -> list[Any]:
        raise RuntimeError("defect in a rule")

    monkeypatch.setattr("gateway.flk.rules.citizen_findings", boom)
    report = run_check(base_checker, valid("121", 33))
    assert not report.passed
    assert [(f.rule, f.code) for f in report.findings] == [("citizen-data", "FLK_INTERNAL_ERROR")]


def test_findings_are_ordered_by_rule_and_categories_are_known(base_checker: FullChecker, valid: Valid) -> None:
    data = valid("121", 34)
    data["signatures"] = data["signatures"][:1]
    data["local_uid"] = "changed"
    report = run_check(base_checker, data)
    assert [f.rule for f in report.findings] == ["metadata", "role-policy"]
    assert all(f.category in CATEGORIES for f in report.findings)


def test_schematron_runs_when_packages_are_configured(make_checker: Make, valid: Valid, semd_packages: Any) -> None:
    checker = make_checker(semd_packages_dir=str(semd_packages.directory))
    report = run_check(checker, valid("121", 35))
    assert report.passed, report.to_dict()["flk"]
    assert "semd-schema" not in {s["rule"] for s in report.to_dict()["skipped"]}


def test_a_crashing_engine_holds_the_submission(
    base_checker: FullChecker, valid: Valid, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("engine defect")

    monkeypatch.setattr(base_checker.verifier, "verify_cms", boom)
    monkeypatch.setattr("gateway.flk.rules.parse_rule", lambda *a, **k: 1 / 0)
    report = run_check(base_checker, valid("121", 36))
    assert not report.passed
    codes = {(f.rule, f.code) for f in report.findings}
    assert {("document", "FLK_INTERNAL_ERROR"), ("invalid-signature", "FLK_INTERNAL_ERROR")} <= codes


def test_a_crashing_rule_logs_its_traceback(
    base_checker: FullChecker, valid: Valid, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An internal error is logged with where it happened: "KeyError" alone did not tell (SMEV 3 run)."""
    stream = io.StringIO()
    configure_logging("info", "json", stream=stream)

    def boom(*args: Any, **kwargs: Any) -> list[Any]:
        raise RuntimeError("defect in a rule")

    monkeypatch.setattr("gateway.flk.rules.citizen_findings", boom)
    assert not run_check(base_checker, valid("121", 37)).passed
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    failed = [line for line in lines if line.get("event") == "flk rule failed"]
    assert [(line["rule"], line["error"]) for line in failed] == [("citizen-data", "RuntimeError")]
    exception = str(failed[0]["exception"])
    assert "Traceback" in exception and "in boom" in exception and "defect in a rule" in exception

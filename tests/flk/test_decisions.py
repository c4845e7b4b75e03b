"""The bureau's signed answers to a referral (gateway.flk.decisions): a kind-187 result and a
kind-130 return notice built from referral data pass the gateway's own checks; a result signed by
someone who is not the bureau head is refused with REMD's position code."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from flk.helpers import NOW, canonical, run_check
from gateway.documents import DocumentKind, ParsedDocument, parse_document
from gateway.documents.model import ResultDetails, ReturnDetails
from gateway.flk.checker import FullChecker
from gateway.flk.decisions import (
    DISABILITY_CAUSES,
    DISABILITY_GROUPS,
    REASONS,
    MseDecision,
    NoticeSigner,
    build_signed_result,
    build_signed_return_notice,
)
from gateway.flk.journal_view import StaticJournalView
from gateway.flk.sample_pki import SampleSigners

DECISION = MseDecision(
    protocol_number="1234.5.77/2026",
    decision_date=date(2026, 3, 16),
    disability_group=DISABILITY_GROUPS["2"],
    disability_cause=DISABILITY_CAUSES["general"],
    disability_until=date(2027, 4, 1),
    ipra_number="567.5.77/2026",
)


@pytest.fixture
def referral(valid: Callable[..., dict[str, Any]]) -> ParsedDocument:
    return parse_document(canonical(valid("121", 61)).document)


def _entries(report: Any) -> list[str]:
    return [e["type"] for e in report.to_dict()["signatures"]["entries"]]


def test_result_187_from_a_referral_passes_the_checks(
    referral: ParsedDocument, signers: SampleSigners, make_checker: Callable[..., FullChecker]
) -> None:
    signed = build_signed_result(
        referral, DECISION, NoticeSigner.bureau_head_from_sample_signers(signers), now=NOW, local_uid="res-1"
    )
    parsed = parse_document(signed.data, kind="187")
    assert parsed == signed.document
    assert parsed.kind is DocumentKind.MSE_RESULT_ED3 and parsed.local_uid == "res-1"
    details = parsed.details
    assert isinstance(details, ResultDetails)
    assert details.referral_id == referral.local_uid
    assert details.disability_group == DISABILITY_GROUPS["2"] and details.protocol_number == DECISION.protocol_number
    assert parsed.organisation == referral.details.bureau  # type: ignore[union-attr]
    assert parsed.patient == referral.patient and parsed.diagnoses == referral.diagnoses
    assert parsed.legal_authenticator.snils == signers.identity("mse-head").snils
    assert signed.submission["kind"] == "187"

    report = run_check(make_checker(StaticJournalView([])), signed.submission)
    assert report.passed, report.to_dict()["flk"]
    assert _entries(report) == ["personal", "organization"]


def test_result_signed_by_an_expert_doctor_is_refused_with_the_position_code(
    referral: ParsedDocument, signers: SampleSigners, base_checker: FullChecker
) -> None:
    not_head = dataclasses.replace(
        NoticeSigner.from_sample_signers(signers),  # «Врач по медико-социальной экспертизе» + the bureau
        local_id="MSE-OFFICIAL",
    )
    signed = build_signed_result(referral, DECISION, not_head, now=NOW)
    report = run_check(base_checker, signed.submission)
    assert not report.passed
    assert report.first is not None
    assert (report.first.code, report.first.category, report.first.rule) == (
        "POSITION_TO_ROLE_MISMATCH",
        "role",
        "role-policy",
    )
    assert [f.code for f in report.findings] == ["POSITION_TO_ROLE_MISMATCH"]


def test_the_same_official_may_sign_the_return_notice(
    referral: ParsedDocument, signers: SampleSigners, make_checker: Callable[..., FullChecker]
) -> None:
    signed = build_signed_return_notice(
        referral,
        [REASONS["examinations"], REASONS["citizen_data"]],
        "Не представлены результаты эхокардиографии.",
        NoticeSigner.from_sample_signers(signers),
        now=NOW,
    )
    parsed = parse_document(signed.data, kind="130")
    assert parsed == signed.document and parsed.kind is DocumentKind.RETURN_NOTICE_ED2
    details = parsed.details
    assert isinstance(details, ReturnDetails)
    assert details.referral_id == referral.local_uid and details.referral_date == referral.created.date()
    assert details.reasons == (REASONS["examinations"], REASONS["citizen_data"])
    report = run_check(make_checker(StaticJournalView([])), signed.submission)
    assert report.passed, report.to_dict()["flk"]


def test_older_editions_on_request(referral: ParsedDocument, signers: SampleSigners, base_checker: FullChecker) -> None:
    result = build_signed_result(
        referral, DECISION, NoticeSigner.bureau_head_from_sample_signers(signers), now=NOW, kind=DocumentKind.MSE_RESULT
    )
    notice = build_signed_return_notice(
        referral,
        [REASONS["other"]],
        "—",
        NoticeSigner.from_sample_signers(signers),
        now=NOW,
        kind=DocumentKind.RETURN_NOTICE,
    )
    assert parse_document(result.data).kind is DocumentKind.MSE_RESULT
    assert parse_document(notice.data).kind is DocumentKind.RETURN_NOTICE
    for signed in (result, notice):
        report = run_check(base_checker, signed.submission)
        assert report.passed, report.to_dict()["flk"]


def test_refusals(referral: ParsedDocument, signers: SampleSigners, valid: Callable[..., dict[str, Any]]) -> None:
    head = NoticeSigner.bureau_head_from_sample_signers(signers)
    without_org = dataclasses.replace(head, org_key=None, org_certificate=None)
    with pytest.raises(ValueError, match="organisation"):
        build_signed_result(referral, DECISION, without_org, now=NOW)
    with pytest.raises(ValueError, match="not an MSE result"):
        build_signed_result(referral, DECISION, head, now=NOW, kind=DocumentKind.RETURN_NOTICE_ED2)
    with pytest.raises(ValueError, match="at least one reason"):
        build_signed_return_notice(referral, [], "—", head, now=NOW)
    result = parse_document(canonical(valid("187", 62)).document)
    with pytest.raises(ValueError, match="referral"):
        build_signed_result(result, DECISION, head, now=NOW)


def test_a_result_created_before_its_edition_is_refused(
    referral: ParsedDocument, signers: SampleSigners, base_checker: FullChecker
) -> None:
    head = NoticeSigner.bureau_head_from_sample_signers(signers)
    early = NOW.replace(year=2023, month=8, day=13) + timedelta(hours=6)  # 13.08.2023, Moscow
    report = run_check(base_checker, build_signed_result(referral, DECISION, head, now=early).submission)
    assert report.first is not None and report.first.code == "NO_DOCUMENT_KIND_ON_DATE"
    assert "14.08.2023" in report.first.message

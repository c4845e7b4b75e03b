"""The return notice (kind 108): reasons from the FLK report, signed by the MSE official, and
itself a submission the gateway accepts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flk.helpers import NOW, canonical, run_check
from gateway.documents import ParsedDocument, parse_document
from gateway.documents.model import ReturnDetails
from gateway.flk.checker import FullChecker
from gateway.flk.config import ReturnNoticeConfig
from gateway.flk.journal_view import StaticJournalView
from gateway.flk.return_notice import REASONS, NoticeSigner, build_return_notice, return_reasons
from gateway.flk.sample_pki import SampleSigners
from gateway.validation.contract import CATEGORIES, Report


def _rejected(checker: FullChecker, data: dict[str, Any]) -> tuple[ParsedDocument, Report]:
    report = run_check(checker, data)
    assert not report.passed
    return parse_document(canonical(data).document), report


def test_every_category_has_a_reason() -> None:
    assert set(REASONS) == set(CATEGORIES)
    assert len({r.code for r in REASONS.values()}) == len(REASONS)


def test_notice_for_a_returned_referral(
    base_checker: FullChecker,
    signers: SampleSigners,
    valid: Callable[..., dict[str, Any]],
    make_checker: Callable[..., FullChecker],
) -> None:
    data = valid("121", 41)
    data["signatures"] = data["signatures"][:1]  # no organisation signature
    data["patient"]["family"] = "Другая"  # and metadata that disagrees with the document
    referral, report = _rejected(base_checker, data)
    notice = build_return_notice(referral, report, NoticeSigner.from_sample_signers(signers), now=NOW)

    parsed = parse_document(notice.data)
    assert parsed == notice.document
    details = parsed.details
    assert isinstance(details, ReturnDetails)
    assert details.referral_id == referral.local_uid
    assert details.reasons == return_reasons(report) == (REASONS["role"], REASONS["citizen_data"])
    assert "ORG_SIGNATURE_OCCURRENCE_MISMATCH" in details.comment
    assert parsed.organisation == referral.details.bureau  # type: ignore[union-attr]
    assert parsed.patient == referral.patient
    assert parsed.legal_authenticator.snils == signers.identity("mse-official").snils

    checked = run_check(make_checker(StaticJournalView([])), notice.submission)
    assert checked.passed, checked.to_dict()["flk"]
    assert [e["type"] for e in checked.to_dict()["signatures"]["entries"]] == ["personal", "organization"]


def test_nothing_to_return_for_a_passing_referral(
    base_checker: FullChecker, signers: SampleSigners, valid: Callable[..., dict[str, Any]]
) -> None:
    data = valid("121", 42)
    report = run_check(base_checker, data)
    with pytest.raises(ValueError, match="nothing to return"):
        build_return_notice(parse_document(canonical(data).document), report, NoticeSigner.from_sample_signers(signers))


def test_only_referrals_are_returned(
    base_checker: FullChecker, signers: SampleSigners, valid: Callable[..., dict[str, Any]]
) -> None:
    data = valid("35", 43)
    data["local_uid"] = "x"
    document, report = _rejected(base_checker, data)
    with pytest.raises(ValueError, match="referral"):
        build_return_notice(document, report, NoticeSigner.from_sample_signers(signers))


def test_signer_from_configuration(signers: SampleSigners, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="signer_key_file"):
        NoticeSigner.from_config(ReturnNoticeConfig())
    issued = {item["profile"]: item for item in signers.pki.issued()}
    official = issued["mse-official"]
    config = ReturnNoticeConfig(
        signer_key_file=str(signers.directory / official["key"]),
        signer_cert_file=str(signers.directory / official["cert"]),
        chain_file=str(signers.pki.chain_path),
    )
    signer = NoticeSigner.from_config(config)
    assert signer.certificate == signers.certificate("mse-official")
    assert signer.org_key is None and len(signer.chain) == 1
    assert signer.position.name == "врач по медико-социальной экспертизе"

"""The REMD twin registers the bureau's current-edition documents — a result (187) and a return
notice (130) built with gateway.flk.decisions — like 35/108, over real HTTP, with the gateway's own
checks as the twin's verifier; a result signed by an expert doctor instead of the bureau head comes
back with REMD's POSITION_TO_ROLE_MISMATCH."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from remd_kit import HarnessFactory

from gateway.documents import DocumentKind, ParsedDocument, parse_document
from gateway.flk.checker import FullChecker
from gateway.flk.config import ValidationConfig
from gateway.flk.decisions import (
    DISABILITY_GROUPS,
    REASONS,
    MseDecision,
    NoticeSigner,
    SignedDocument,
    build_signed_result,
    build_signed_return_notice,
)
from gateway.flk.sample_pki import SampleSigners
from gateway.flk.samples import make_submission as make_sample
from gateway.intake.submission import CanonicalSubmission, parse_submission
from gateway.model import State, Submission
from gateway.peers.contract import AnswerKind

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[SampleSigners, FullChecker, ParsedDocument, datetime]:
    now = datetime.now(UTC).replace(microsecond=0)
    signers = SampleSigners.create(tmp_path_factory.mktemp("remd-mse-pki"), now=now)
    config = ValidationConfig(trust_dir=str(signers.directory), roles_file=str(ROOT / "config" / "roles.toml"))
    checker = FullChecker.from_config(config, clock=lambda: datetime.now(UTC))
    referral = parse_document(parse_submission(make_sample("121", 5, signers, now=now)).document)
    return signers, checker, referral, now


def _submission(signed: SignedDocument | dict[str, Any]) -> tuple[Submission, CanonicalSubmission]:
    data = signed if isinstance(signed, dict) else signed.submission
    canonical = parse_submission(json.loads(json.dumps(data)))
    at = canonical.creation_datetime
    sub = Submission(
        id=str(uuid.uuid4()),
        source_system=canonical.source_system,
        local_uid=canonical.local_uid,
        kind=canonical.kind,
        organization_oid=canonical.organization_oid,
        patient_key=None,
        region="77",
        destination="remd",
        state=State.QUEUED,
        attempts=0,
        next_attempt_at=None,
        answer_deadline=None,
        outcome_code=None,
        outcome_message=None,
        peer_registration_id=None,
        content_hash="0" * 64,
        callback_url=None,
        created_at=at,
        updated_at=at,
    )
    return sub, canonical


async def test_the_twin_registers_187_and_130_and_refuses_a_result_not_signed_by_the_head(
    harness: HarnessFactory, world: tuple[SampleSigners, FullChecker, ParsedDocument, datetime]
) -> None:
    signers, checker, referral, now = world

    async def verifier(canonical: CanonicalSubmission) -> Sequence[tuple[str, str]]:
        report = await checker.check(canonical)
        return [(f.code, f.message) for f in report.findings]

    h = await harness(verifier=verifier)
    at = now - timedelta(minutes=5)
    decision = MseDecision("77.5/2026-1", at.date(), DISABILITY_GROUPS["3"], disability_until=date(2027, 12, 1))
    head = NoticeSigner.bureau_head_from_sample_signers(signers)
    official = NoticeSigner.from_sample_signers(signers)
    documents = [
        build_signed_result(referral, decision, head, now=at),
        build_signed_return_notice(referral, [REASONS["examinations"]], "Нет ЭхоКГ.", official, now=at),
        build_signed_result(referral, decision, head, now=at, kind=DocumentKind.MSE_RESULT),
        build_signed_return_notice(
            referral, [REASONS["other"]], "—", official, now=at, kind=DocumentKind.RETURN_NOTICE
        ),
        build_signed_result(referral, decision, official, now=at),  # not the bureau head
    ]
    for signed in documents:
        sub, canonical = _submission(signed)
        answer = await h.adapter.send(sub, canonical, message_id=str(uuid.uuid4()))
        assert answer.kind is AnswerKind.ACCEPTED, answer
    outcomes = await asyncio.wait_for(h.sink.wait(len(documents)), 30)
    results = {o.local_uid: (o.success, o.codes[0][0] if o.codes else None) for o in outcomes}
    expected = {
        documents[0].document.local_uid: (True, None),
        documents[1].document.local_uid: (True, None),
        documents[2].document.local_uid: (True, None),
        documents[3].document.local_uid: (True, None),
        documents[4].document.local_uid: (False, "POSITION_TO_ROLE_MISMATCH"),
    }
    assert results == expected
    stats = h.twin.stats_json()
    assert stats["registrations"] == 4
    assert sorted(r.kind for r in h.twin.registrations.values()) == ["108", "130", "187", "35"]


async def test_the_twin_refuses_a_kind_outside_its_edition_period(
    harness: HarnessFactory, world: tuple[SampleSigners, FullChecker, ParsedDocument, datetime]
) -> None:
    """Like REMD, the twin refuses a referral of the retired edition 5 created today (no verifier:
    this is the twin's own check), and still registers one of edition 6."""
    signers, _checker, _referral, now = world
    h = await harness()
    retired = _submission(make_sample("109", 8, signers, now=now))
    current = _submission(make_sample("121", 9, signers, now=now))
    for sub, canonical in (retired, current):
        assert (await h.adapter.send(sub, canonical, message_id=str(uuid.uuid4()))).kind is AnswerKind.ACCEPTED
    outcomes = await asyncio.wait_for(h.sink.wait(2), 30)
    results = {o.local_uid: (o.success, o.codes[0][0] if o.codes else None) for o in outcomes}
    assert results == {
        retired[1].local_uid: (False, "NO_DOCUMENT_KIND_ON_DATE"),
        current[1].local_uid: (True, None),
    }

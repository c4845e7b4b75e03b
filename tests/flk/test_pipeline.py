"""The FullChecker in the real validation stage over a real journal: a valid referral is routed,
a second copy from another system is a duplicate, a referral arriving after its decision is late."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flk.helpers import NOW, canonical, replace
from gateway.common.secrets import DeploymentSecret
from gateway.delivery.routing import DEFAULT_ROUTES, Router
from gateway.documents import ParsedDocument
from gateway.flk.checker import FullChecker
from gateway.flk.config import ValidationConfig
from gateway.flk.journal_view import JournalReader
from gateway.intake.service import accept
from gateway.journal.store import Journal
from gateway.model import State, Submission
from gateway.validation.stage import ValidationStage

Submit = Callable[..., dict[str, Any]]
DocOf = Callable[..., ParsedDocument]


async def _run(journal: Journal, stage: ValidationStage, data: dict[str, Any]) -> Submission:
    record, created = await accept(journal, canonical(data), data, payload=json.dumps(data).encode())
    assert created
    claimed = await journal.claim_due("test-worker", [State.RECEIVED], limit=10, lease_seconds=60)
    assert [c.id for c in claimed] == [record.id]
    await stage.handle(claimed[0], "test-worker")
    return await journal.get(record.id)


async def test_validation_stage_with_the_full_checker(
    journal: Journal, config: ValidationConfig, doc_of: DocOf, submit: Submit
) -> None:
    router = Router(DEFAULT_ROUTES)
    checker = FullChecker.from_config(config, journal=JournalReader(journal), router=router, clock=lambda: NOW)
    stage = ValidationStage(journal, checker, router)

    referral = doc_of("121", 61)
    data = submit(referral)
    first = await _run(journal, stage, data)
    assert (first.state, first.destination) == (State.QUEUED, "remd")

    copy = await _run(journal, stage, {**data, "source_system": "regional-gis"})
    assert (copy.state, copy.outcome_code) == (State.REJECTED, "NOT_UNIQUE_PROVIDED_ID")
    rejection = next(e for e in await journal.events(copy.id) if e.to_state is State.REJECTED)
    assert rejection.details["category"] == "duplicate"
    assert rejection.details["report"]["flk"][0]["rule"] == "duplicate"

    other = doc_of("121", 62)
    result = doc_of("35", 62)
    assert result.details is not None
    result = replace(result, patient=other.patient, details=replace(result.details, referral_id=other.local_uid))
    decided = await _run(journal, stage, submit(result))
    assert decided.state is State.QUEUED
    late = await _run(journal, stage, submit(other))
    assert (late.state, late.outcome_code) == (State.REJECTED, "FLK_LATE_ARRIVAL")


class _ReclaimingJournal(Journal):
    """Does what the validation loop does when it wakes while a handler is between VALIDATED and
    QUEUED: claims every due RECEIVED/VALIDATED row for the same owner."""

    async def transition(self, submission_id: str, state: State, **kwargs: Any) -> Submission:
        moved = await super().transition(submission_id, state, **kwargs)
        if state is State.VALIDATED:
            await self.claim_due("test-worker", [State.RECEIVED, State.VALIDATED], limit=10, lease_seconds=600)
        return moved


async def test_a_routed_submission_carries_no_lease_into_delivery(
    secret: DeploymentSecret, journal: Journal, config: ValidationConfig, doc_of: DocOf, submit: Submit
) -> None:
    racing = _ReclaimingJournal(journal.engine, secret)
    router = Router(DEFAULT_ROUTES)
    checker = FullChecker.from_config(config, journal=JournalReader(racing), router=router, clock=lambda: NOW)
    routed = await _run(racing, ValidationStage(racing, checker, router), submit(doc_of("121", 63)))
    assert routed.state is State.QUEUED
    # A lease left on the QUEUED row would hide it from the delivery loop until it expired.
    assert (routed.lease_owner, routed.lease_until) == (None, None)
    due = await racing.claim_due("delivery", [State.QUEUED], limit=10, lease_seconds=60)
    assert [s.id for s in due] == [routed.id]

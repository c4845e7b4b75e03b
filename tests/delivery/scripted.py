"""A scripted peer for testing the core's decisions one answer at a time. End-to-end behaviour
against a real SOAP peer is tested with the REMD sandbox twin (tests/e2e)."""

from __future__ import annotations

import base64
import json
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from adapters.remd.codes import remd_code_table
from adapters.remd.settings import RemdSettings
from gateway.common.clock import Clock
from gateway.delivery.peer import Peer
from gateway.intake.submission import CanonicalSubmission, content_hash
from gateway.journal.store import Changes, Journal
from gateway.model import State, Submission, SubmissionDraft
from gateway.peers.contract import Answer, AnswerKind, LookupResult


@dataclass
class ScriptedAdapter:
    name: str = "remd"
    answers: deque[Answer] = field(default_factory=deque)
    lookups: deque[LookupResult] = field(default_factory=deque)
    sent_local_uids: list[str] = field(default_factory=list)

    def new_message_id(self) -> str:
        return str(uuid.uuid4())

    async def send(self, sub: Submission, canonical: CanonicalSubmission, *, message_id: str) -> Answer:
        self.sent_local_uids.append(canonical.local_uid)
        return self.answers.popleft()

    async def lookup(self, sub: Submission, canonical: CanonicalSubmission) -> LookupResult:
        return self.lookups.popleft()


def accepted() -> Answer:
    return Answer(AnswerKind.ACCEPTED)


def refused(code: str, message: str = "") -> Answer:
    return Answer(AnswerKind.REFUSED, codes=((code, message),))


def no_answer(status: int | None = None) -> Answer:
    return Answer(AnswerKind.NO_ANSWER, http_status=status, error="boom")


def make_peer(adapter: ScriptedAdapter, clock: Clock, **cfg: Any) -> Peer:
    config = RemdSettings.model_validate({"backoff_base_seconds": 60.0, **cfg})
    return Peer("remd", adapter, config, clock, remd_code_table())


def canonical_json(local_uid: str) -> dict[str, Any]:
    return {
        "source_system": "mis",
        "local_uid": local_uid,
        "kind": "35",
        "organization_oid": "1.2.643.5.1.13.13.12.2.77.9001",
        "creation_datetime": datetime(2026, 11, 20, tzinfo=UTC).isoformat(),
        "patient": {"snils": "112-233-445 95"},
        "document": base64.b64encode(b"<doc/>").decode(),
        "document_mime": "application/xml",
        "signatures": [{"type": "organization", "cms": "MIIB"}],
    }


async def queued(journal: Journal, local_uid: str | None = None) -> Submission:
    data = canonical_json(local_uid or str(uuid.uuid4()))
    draft = SubmissionDraft(
        source_system="mis",
        local_uid=data["local_uid"],
        kind="35",
        organization_oid=data["organization_oid"],
        content_hash=content_hash(data),
        payload=json.dumps(data).encode(),
        callback_url="http://127.0.0.1:9/cb",
    )
    sub, _ = await journal.submit(draft)
    await journal.transition(sub.id, State.VALIDATED, actor="t")
    return await journal.transition(
        sub.id, State.QUEUED, actor="t", changes=Changes(destination="remd", next_attempt_at=journal.clock.now())
    )

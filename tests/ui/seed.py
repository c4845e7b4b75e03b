"""A seeded journal for the UI tests: submissions walked through the real state machine with the
real Journal API, so every count the dashboard shows can be checked against the journal."""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from gateway.journal.store import Changes, Journal
from gateway.model import EnvelopeIn, State, SubmissionDraft

S = State
PATIENT_SNILS = "112-233-445 95"
ORG_77 = "1.2.643.5.1.13.13.12.2.77.7973"
ORG_50 = "1.2.643.5.1.13.13.12.2.50.1001"
ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<ClinicalDocument xmlns="urn:hl7-org:v3"><recordTarget><patientRole>'
    '<id root="1.2.643.100.3" extension="112-233-445 95"/>'
    "<patient><name><family>Иванов</family><given>Пётр</given></name></patient>"
    "</patientRole></recordTarget><title>Направление на МСЭ</title></ClinicalDocument>"
).encode()


class StepClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime) -> None:
        self.t = start

    def now(self) -> datetime:
        return self.t

    def advance(self, **kw: float) -> None:
        self.t += timedelta(**kw)


@dataclass
class Seeded:
    ids: dict[str, str] = field(default_factory=dict)  # label -> submission id
    paths: Counter[str] = field(default_factory=Counter)
    patient_doc: str = ""


# (label, kind, region, org, path); a path ends in the state the submission is left in.
PLAN: list[tuple[str, str, str, str, str]] = [
    *[(f"reg-77-{i}", "121", "77", ORG_77, "registered") for i in range(5)],
    *[(f"reg-50-{i}", "121", "50", ORG_50, "registered") for i in range(3)],
    *[(f"rec-77-{i}", "121", "77", ORG_77, "reconciled") for i in range(2)],
    ("ret-77-0", "108", "77", ORG_77, "registered"),
    ("ret-50-0", "108", "50", ORG_50, "registered"),
    ("ret-50-1", "108", "50", ORG_50, "registered"),
    ("fail-77-0", "121", "77", ORG_77, "failed:INVALID_SIGNATURE"),
    ("fail-77-1", "121", "77", ORG_77, "failed:INVALID_SIGNATURE"),
    ("fail-50-0", "35", "50", ORG_50, "failed:SCHEMA_ERROR"),
    ("rej-late", "121", "77", ORG_77, "rejected:late"),
    ("rej-dup", "121", "50", ORG_50, "rejected:duplicate"),
    ("rej-role", "35", "77", ORG_77, "rejected:role"),
    ("sent-0", "121", "77", ORG_77, "sent"),
    ("sent-1", "35", "50", ORG_50, "sent"),
    ("reconciling-0", "121", "77", ORG_77, "reconciling"),
    ("retry-0", "121", "50", ORG_50, "retry"),
    ("dead-0", "121", "77", ORG_77, "dead"),
    ("patient-doc", "121", "77", ORG_77, "dead"),
    ("queued-0", "35", "77", ORG_77, "queued"),
    ("received-0", "121", "77", ORG_77, "received"),
    ("kz-0", "kz-031u", "KZ", "kz-org-1", "registered"),
]


async def walk(journal: Journal, clock: StepClock, sid: str, path: str) -> None:
    """Move a RECEIVED submission along ``path`` with small clock steps between transitions."""

    async def go(to: State, **kw: object) -> None:
        clock.advance(minutes=5)
        await journal.transition(sid, to, actor="seed", **kw)  # type: ignore[arg-type]

    kind, _, arg = path.partition(":")
    if kind == "received":
        return
    if kind == "rejected":
        finding = {
            "rule": f"seed.{arg}",
            "code": f"FLK_{arg.upper()}",
            "category": arg,
            "message": f"СНИЛС {PATIENT_SNILS}: отклонено ({arg})",
            "field": "patient.snils",
        }
        report = {"passed": False, "signatures": {"status": "VALID"}, "roles": [], "flk": [finding]}
        await go(
            S.REJECTED, code=finding["code"], message="seeded rejection", details={"category": arg, "report": report}
        )
        return
    await go(
        S.VALIDATED, details={"report": {"passed": True, "signatures": {"status": "VALID"}, "roles": [], "flk": []}}
    )
    await go(S.QUEUED)
    if kind == "queued":
        return
    if kind == "dead":
        # as delivery gives up: the last transport code stays the outcome code
        await go(S.DEAD, code="HTTP_503", message="max attempts", changes=Changes(outcome_code="HTTP_503"))
        return
    if kind == "retry":
        await go(S.RETRY_WAIT, code="TIMEOUT", changes=Changes(next_attempt_at=clock.t + timedelta(hours=1)))
        return
    await go(S.SENT, envelopes_in=[EnvelopeIn("out", "remd", "application/xml", ENVELOPE)])
    if kind == "sent":
        return
    if kind == "failed":
        await go(
            S.FAILED, code=arg, changes=Changes(outcome_code=arg, outcome_message="refused", outcome_source="peer")
        )
        return
    if kind == "reconciling":
        await go(S.RECONCILING)
        return
    if kind == "reconciled":
        await go(S.RECONCILING)
        await go(S.REGISTERED, changes=Changes(outcome_source="reconciled", peer_registration_id=f"emdr-{sid[:8]}"))
        return
    assert kind == "registered", path
    await go(S.REGISTERED, changes=Changes(outcome_source="callback", peer_registration_id=f"emdr-{sid[:8]}"))


async def seed(journal: Journal, clock: StepClock, plan: list[tuple[str, str, str, str, str]] = PLAN) -> Seeded:
    out = Seeded()
    for label, kind, region, org, path in plan:
        payload = f"payload {label} {uuid.uuid4()}".encode()
        draft = SubmissionDraft(
            source_system="mis-alpha",
            local_uid=f"uid-{label}",
            kind=kind,
            organization_oid=org,
            content_hash=hashlib.sha256(payload).hexdigest(),
            payload=payload,
            patient_id=PATIENT_SNILS
            if label == "patient-doc"
            else f"{int(hashlib.sha256(label.encode()).hexdigest(), 16) % 10**11:011d}",
            region=region,
            destination="remd",
        )
        sub, created = await journal.submit(draft)
        assert created
        out.ids[label] = sub.id
        out.paths[path.partition(":")[0]] += 1
        await walk(journal, clock, sub.id, path)
    out.patient_doc = out.ids["patient-doc"]
    return out


def start_time() -> datetime:
    # A Monday morning in Moscow, so the seeded registrations are within 1 working day.
    return datetime(2026, 11, 16, 7, 0, tzinfo=UTC)

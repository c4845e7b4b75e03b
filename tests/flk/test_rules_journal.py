"""Rules ``duplicate`` and ``late-arrival`` (pure), and the journal views that feed them."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flk.helpers import canonical, replace
from gateway.common.secrets import DeploymentSecret
from gateway.documents import ParsedDocument
from gateway.flk.journal_view import JournalEntry, JournalReader, StaticJournalView, document_sha256
from gateway.flk.rules import duplicate_findings, late_arrival_findings
from gateway.intake.service import accept
from gateway.journal.store import Journal
from gateway.model import State

Submit = Callable[..., dict[str, Any]]
DocOf = Callable[..., ParsedDocument]


def _entry(data: dict[str, Any], **kw: Any) -> JournalEntry:
    base: dict[str, Any] = {
        "source_system": "other-mis",
        "local_uid": data["local_uid"],
        "kind": data["kind"],
        "organization_oid": data["organization_oid"],
        "state": "REGISTERED",
    }
    base.update(kw)
    return JournalEntry(**base)


def test_no_duplicate_when_only_itself_or_dead_copies_are_journalled(doc_of: DocOf, submit: Submit) -> None:
    doc = doc_of("121")
    data = submit(doc)
    sub = canonical(data)
    sha = document_sha256(sub.document)
    entries = [
        _entry(data, source_system=sub.source_system, document_sha256=sha),  # itself
        _entry(data, state="REJECTED", document_sha256=sha),  # a rejected copy may be resent
        _entry(data, state="FAILED"),
        _entry(data, state="RECEIVED"),  # not yet checked: a race, not a duplicate
        _entry(data, local_uid="x", kind="35"),
    ]
    assert duplicate_findings(sub, doc, entries, sha) == []


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({}, "NOT_UNIQUE_PROVIDED_ID"),
        ({"local_uid": "elsewhere", "document_sha256": "SAME"}, "FLK_DUPLICATE_DOCUMENT"),
        ({"local_uid": "elsewhere", "document_number": "N-1"}, "FLK_DUPLICATE_REQUISITES"),
    ],
)
def test_duplicates(doc_of: DocOf, submit: Submit, changes: dict[str, Any], code: str) -> None:
    doc = doc_of("121")
    data = submit(doc)
    data["document_number"] = "N-1"
    sub = canonical(data)
    sha = document_sha256(sub.document)
    if changes.get("document_sha256") == "SAME":
        changes = {**changes, "document_sha256": sha}
    found = duplicate_findings(sub, doc, [_entry(data, **changes)], sha)
    assert [(f.code, f.category) for f in found] == [(code, "duplicate")]


@pytest.mark.parametrize("decision_kind", ["187", "35", "130", "108"])
def test_late_arrival(doc_of: DocOf, submit: Submit, decision_kind: str) -> None:
    doc = doc_of("121")
    sub = canonical(submit(doc))
    result = _entry({**submit(doc), "kind": decision_kind}, local_uid="r-1", referral_uid=doc.local_uid)
    assert late_arrival_findings(sub, doc, []) == []
    found = late_arrival_findings(sub, doc, [result])
    assert [(f.code, f.category) for f in found] == [("FLK_LATE_ARRIVAL", "late")]
    other_referral = _entry({**submit(doc), "kind": "35"}, local_uid="r-2", referral_uid="another-referral")
    rejected = _entry({**submit(doc), "kind": "108"}, local_uid="r-3", referral_uid=doc.local_uid, state="REJECTED")
    assert late_arrival_findings(sub, doc, [other_referral, rejected]) == []


def test_late_arrival_applies_to_referrals_only(doc_of: DocOf, submit: Submit) -> None:
    doc = doc_of("35")
    sub = canonical(submit(doc))
    decision = _entry(submit(doc), local_uid="r", referral_uid=doc.local_uid)
    assert late_arrival_findings(sub, doc, [decision]) == []


async def test_static_view_round_trip(tmp_path: Path) -> None:
    entry = JournalEntry("gis", "u1", "35", "1.2.3", "SENT", referral_uid="ref", patient_id="123-456-789 64")
    path = tmp_path / "journal.json"
    path.write_text(json.dumps([entry.to_dict()]))
    view = StaticJournalView.load(path)
    assert await view.by_patient("12345678964", ["35"]) == [entry]
    assert await view.by_patient("12345678964", ["121"]) == []
    assert await view.by_local_uid("35", "1.2.3", "u1") == [entry]
    path.write_text('[{"kind": "35"}]')
    with pytest.raises(ValueError, match="malformed"):
        StaticJournalView.load(path)


async def _journalled(journal: Journal, data: dict[str, Any], state: State | None = None) -> str:
    payload = json.dumps(data).encode()
    record, created = await accept(journal, canonical(data), data, payload=payload)
    assert created
    if state is not None:
        await journal.transition(record.id, state, actor="test")
    return record.id


async def test_journal_reader_over_the_real_journal(journal: Journal, doc_of: DocOf, submit: Submit) -> None:
    """Entries come back with the document's hash and, for decisions, the referral they answer;
    the rules then find the duplicate and the late arrival."""
    referral = doc_of("121", 11)
    data = submit(referral)
    await _journalled(journal, data)  # the submission being checked is itself journalled
    await _journalled(journal, {**data, "source_system": "regional-gis"}, State.VALIDATED)
    result = doc_of("35", 11)
    assert result.details is not None
    result = replace(result, patient=referral.patient, details=replace(result.details, referral_id=referral.local_uid))
    await _journalled(journal, submit(result))

    reader = JournalReader(journal)
    sub = canonical(data)
    same_uid = await reader.by_local_uid("121", sub.organization_oid, sub.local_uid)
    assert {e.source_system for e in same_uid} == {"sample-mis", "regional-gis"}
    assert all(e.document_sha256 == document_sha256(sub.document) for e in same_uid)
    assert [(f.code, f.field) for f in duplicate_findings(sub, referral, same_uid, document_sha256(sub.document))] == [
        ("NOT_UNIQUE_PROVIDED_ID", "local_uid"),
        ("FLK_DUPLICATE_DOCUMENT", "document"),
    ]
    decisions = await reader.by_patient(referral.patient.snils or "", ["35", "108"])
    assert [(e.kind, e.referral_uid) for e in decisions] == [("35", referral.local_uid)]
    assert [f.code for f in late_arrival_findings(sub, referral, decisions)] == ["FLK_LATE_ARRIVAL"]
    assert await reader.by_patient("000-000-000 00", ["35"]) == []


class _CountingJournal(Journal):
    def __init__(self, journal: Journal, secret: DeploymentSecret) -> None:
        super().__init__(journal.engine, secret)
        self.payload_reads: list[str] = []

    async def payload(self, submission_id: str) -> bytes:
        self.payload_reads.append(submission_id)
        return await super().payload(submission_id)


async def test_journal_reader_leaves_out_the_submission_being_checked(
    journal: Journal, secret: DeploymentSecret, doc_of: DocOf, submit: Submit
) -> None:
    """Its own entry is skipped by the rules anyway: it is not returned and its payload is not read
    (and parsed) again."""
    data = submit(doc_of("121", 13))
    own = await _journalled(journal, data)
    other = await _journalled(journal, {**data, "source_system": "regional-gis"}, State.VALIDATED)
    counting = _CountingJournal(journal, secret)
    reader = JournalReader(counting)
    sub = canonical(data)
    me = (sub.source_system, sub.local_uid)
    same_uid = await reader.by_local_uid("121", sub.organization_oid, sub.local_uid, exclude=me)
    assert [e.source_system for e in same_uid] == ["regional-gis"]
    same_patient = await reader.by_patient(sub.patient_id or "", ["121"], exclude=me)
    assert [e.source_system for e in same_patient] == ["regional-gis"]
    assert own not in counting.payload_reads and counting.payload_reads == [other]
    # Without exclude both come back.
    assert len(await reader.by_local_uid("121", sub.organization_oid, sub.local_uid)) == 2


async def test_journal_reader_survives_an_undecodable_payload(journal: Journal, doc_of: DocOf, submit: Submit) -> None:
    data = submit(doc_of("35", 12))
    data["document"] = base64.b64encode(b"<not-a-cda/>").decode()
    await _journalled(journal, data)
    entries = await JournalReader(journal).by_local_uid("35", data["organization_oid"], data["local_uid"])
    assert len(entries) == 1 and entries[0].referral_uid is None
    assert entries[0].document_sha256 == document_sha256(b"<not-a-cda/>")

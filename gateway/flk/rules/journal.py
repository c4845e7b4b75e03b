"""Rules ``duplicate`` and ``late-arrival``: the submission compared with what is journalled.

Both are pure functions of the submission, its parsed document and journal entries; the checker
fetches the entries through a :class:`~gateway.flk.journal_view.JournalView`.

Which journalled submissions count (documented in docs/flk.md):

- the submission itself (same source system and localUid: the pipeline checks what it has already
  journalled) never counts;
- for duplicates only *live* submissions count — validated, queued, sent, awaiting retry or
  reconciliation, registered. A rejected, failed or abandoned one may be corrected and sent again;
  one still RECEIVED (not yet checked) does not count either, so two copies arriving together are
  not both rejected (REMD's own NOT_UNIQUE_PROVIDED_ID then stops the second);
- for late arrival every decision counts except a rejected one.
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.common.language import Text
from gateway.documents import ParsedDocument
from gateway.flk.codes import FlkCode
from gateway.flk.findings import RuleFinding, finding
from gateway.flk.journal_view import JournalEntry
from gateway.flk.messages import FLK_TEXTS
from gateway.intake.submission import CanonicalSubmission
from gateway.model import State

__all__ = [
    "DECISION_KINDS",
    "DUPLICATE_RULE",
    "LATE_RULE",
    "LIVE_STATES",
    "REFERRAL_KINDS",
    "duplicate_findings",
    "is_self",
    "late_arrival_findings",
]

DUPLICATE_RULE = "duplicate"
LATE_RULE = "late-arrival"
LIVE_STATES = frozenset(
    str(s) for s in (State.VALIDATED, State.QUEUED, State.SENT, State.RETRY_WAIT, State.RECONCILING, State.REGISTERED)
)
REFERRAL_KINDS = frozenset({"121", "109"})
DECISION_KINDS = ("187", "35", "130", "108")  # results (ed. 3, 2) and return notices (ed. 2, 1)
_DECISION_NAMES = {
    "187": "late.what.result",
    "35": "late.what.result",
    "130": "late.what.return",
    "108": "late.what.return",
}


def is_self(entry: JournalEntry, sub: CanonicalSubmission) -> bool:
    return entry.source_system == sub.source_system and entry.local_uid == sub.local_uid


def duplicate_findings(
    sub: CanonicalSubmission,
    doc: ParsedDocument | None,
    entries: Sequence[JournalEntry],
    document_hash: str,
) -> list[RuleFinding]:
    """Same requisites (kind + organisation + localUid, or + document number) or the same document
    bytes as a live journalled submission from another sender or under another localUid."""
    uids = {sub.local_uid} | ({doc.local_uid} if doc is not None else set())
    out: list[RuleFinding] = []
    seen: set[str] = set()

    def add(code: FlkCode, message: Text, field: str) -> None:
        if code not in seen:
            seen.add(code)
            out.append(finding(DUPLICATE_RULE, code, "duplicate", message, field))

    for entry in entries:
        if is_self(entry, sub) or entry.state not in LIVE_STATES:
            continue
        same_place = entry.kind == sub.kind and entry.organization_oid == sub.organization_oid
        if same_place and entry.local_uid in uids:
            add(
                FlkCode.NOT_UNIQUE_PROVIDED_ID,
                FLK_TEXTS.text("duplicate.local_uid", source=entry.source_system),
                "local_uid",
            )
        if same_place and sub.document_number and entry.document_number == sub.document_number:
            add(
                FlkCode.DUPLICATE_REQUISITES,
                FLK_TEXTS.text("duplicate.requisites"),
                "document_number",
            )
        if entry.document_sha256 is not None and entry.document_sha256 == document_hash:
            add(
                FlkCode.DUPLICATE_DOCUMENT,
                FLK_TEXTS.text("duplicate.bytes"),
                "document",
            )
    return out


def late_arrival_findings(
    sub: CanonicalSubmission, doc: ParsedDocument | None, decisions: Sequence[JournalEntry]
) -> list[RuleFinding]:
    """A referral whose patient already has a decision (result 35 or return 108) on this referral:
    the expertise was held (or the referral returned) before this copy arrived."""
    if sub.kind not in REFERRAL_KINDS:
        return []
    uids = {sub.local_uid} | ({doc.local_uid} if doc is not None else set())
    for entry in decisions:
        if entry.kind not in DECISION_KINDS or entry.state == str(State.REJECTED):
            continue
        if entry.referral_uid is not None and entry.referral_uid in uids:
            return [
                finding(
                    LATE_RULE,
                    FlkCode.LATE_ARRIVAL,
                    "late",
                    FLK_TEXTS.text("late.decision", what=FLK_TEXTS.text(_DECISION_NAMES[entry.kind])),
                    "local_uid",
                )
            ]
    return []

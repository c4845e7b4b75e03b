"""Read-only access to the journal for the rules that compare a submission with earlier ones.

The duplicate and late-arrival rules need two questions answered, and nothing else:

- :meth:`JournalView.by_local_uid` — what is journalled under this kind, organisation and localUid
  (from any sending system)?
- :meth:`JournalView.by_patient` — what is journalled for this patient (SNILS/IIN) of these kinds?

A ``/api/v1/check`` dry run has no journal: the checker is given ``None`` and the report lists the
two rules as skipped. :class:`JournalReader` answers from the real journal; :class:`StaticJournalView`
from a list (tests, and ``mse-gateway check --journal FILE``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from gateway.documents import DocumentError, parse_document
from gateway.documents.identifiers import IdentifierError, normalise_snils
from gateway.documents.model import ResultDetails, ReturnDetails
from gateway.journal.store import Journal, SearchQuery
from gateway.model import State, Submission

__all__ = [
    "JournalEntry",
    "JournalReader",
    "JournalView",
    "StaticJournalView",
    "document_sha256",
    "normalise_person_id",
]


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One journalled submission as the rules see it (no personal data beyond what was asked for).

    ``referral_uid`` is set for decisions (kinds 35 and 108): the localUid of the referral they
    answer. ``document_sha256`` is the hash of the document bytes (not of the submission JSON,
    whose hash includes the sender's ids and so never matches across senders).
    """

    source_system: str
    local_uid: str
    kind: str
    organization_oid: str
    state: str
    received_at: datetime | None = None
    document_sha256: str | None = None
    document_number: str | None = None
    referral_uid: str | None = None
    patient_id: str | None = None  # only in static views; the journal keeps a keyed hash instead

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["received_at"] = None if self.received_at is None else self.received_at.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JournalEntry:
        received = data.get("received_at")
        return cls(
            source_system=str(data["source_system"]),
            local_uid=str(data["local_uid"]),
            kind=str(data["kind"]),
            organization_oid=str(data["organization_oid"]),
            state=str(data.get("state", State.REGISTERED)),
            received_at=datetime.fromisoformat(received) if received else None,
            document_sha256=data.get("document_sha256"),
            document_number=data.get("document_number"),
            referral_uid=data.get("referral_uid"),
            patient_id=data.get("patient_id"),
        )


# (source_system, local_uid) of the submission being checked: the rules skip its own entry anyway,
# so a view may leave it out instead of loading and parsing its payload once more.
Exclude = tuple[str, str] | None


class JournalView(Protocol):
    """The read-only journal queries the FLK rules use."""

    async def by_local_uid(
        self, kind: str, organization_oid: str, local_uid: str, *, exclude: Exclude = None
    ) -> Sequence[JournalEntry]: ...

    async def by_patient(
        self, patient_id: str, kinds: Sequence[str], *, exclude: Exclude = None
    ) -> Sequence[JournalEntry]: ...


def document_sha256(document: bytes) -> str:
    return hashlib.sha256(document).hexdigest()


def normalise_person_id(value: str) -> str:
    """SNILS as 11 digits (separators dropped), anything else stripped: for comparing ids."""
    try:
        return normalise_snils(value)
    except IdentifierError:
        return value.strip()


class StaticJournalView:
    """A fixed list of entries: for tests and for ``check --journal FILE`` (a JSON list)."""

    def __init__(self, entries: Iterable[JournalEntry]) -> None:
        self.entries = tuple(entries)

    @classmethod
    def load(cls, path: Path) -> StaticJournalView:
        """Read a JSON list of :meth:`JournalEntry.to_dict` objects. Raises ValueError if malformed."""
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, list):
            raise ValueError(f"{path}: expected a JSON list of journal entries")
        try:
            return cls(JournalEntry.from_dict(item) for item in data)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}: malformed journal entry: {exc}") from None

    async def by_local_uid(
        self, kind: str, organization_oid: str, local_uid: str, *, exclude: Exclude = None
    ) -> Sequence[JournalEntry]:
        return [
            e
            for e in self.entries
            if e.kind == kind
            and e.organization_oid == organization_oid
            and e.local_uid == local_uid
            and (e.source_system, e.local_uid) != exclude
        ]

    async def by_patient(
        self, patient_id: str, kinds: Sequence[str], *, exclude: Exclude = None
    ) -> Sequence[JournalEntry]:
        wanted = normalise_person_id(patient_id)
        return [
            e
            for e in self.entries
            if e.kind in kinds
            and e.patient_id is not None
            and normalise_person_id(e.patient_id) == wanted
            and (e.source_system, e.local_uid) != exclude
        ]


_DECISION_KINDS = frozenset({"187", "35", "130", "108"})


def _details_from_payload(payload: bytes, kind: str) -> tuple[str | None, str | None, str | None]:
    """(document sha256, document number, referral uid) of a stored canonical submission."""
    try:
        data = json.loads(payload)
        document = base64.b64decode(data["document"], validate=True)
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None, None, None
    number = data.get("document_number") if isinstance(data.get("document_number"), str) else None
    referral: str | None = None
    if kind in _DECISION_KINDS:
        try:
            details = parse_document(document, kind=kind).details
        except DocumentError:
            details = None
        if isinstance(details, ResultDetails | ReturnDetails):
            referral = details.referral_id
    return document_sha256(document), number, referral


class JournalReader:
    """:class:`JournalView` over the real journal.

    Reads the newest ``limit`` matching submissions; the facts that live only inside a stored
    payload (the document's hash, the referral a decision answers) are extracted once per
    submission and cached (payloads never change). Parsing runs in a worker thread.
    """

    def __init__(self, journal: Journal, *, limit: int = 20, cache_size: int = 4096) -> None:
        self.journal = journal
        self.limit = limit
        self._cache: OrderedDict[str, tuple[str | None, str | None, str | None]] = OrderedDict()
        self._cache_size = cache_size

    async def _entry(self, sub: Submission) -> JournalEntry:
        facts = self._cache.get(sub.id)
        if facts is None:
            payload = await self.journal.payload(sub.id)
            facts = await asyncio.to_thread(_details_from_payload, payload, sub.kind)
            self._cache[sub.id] = facts
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        sha, number, referral = facts
        return JournalEntry(
            source_system=sub.source_system,
            local_uid=sub.local_uid,
            kind=sub.kind,
            organization_oid=sub.organization_oid,
            state=str(sub.state),
            received_at=sub.created_at,
            document_sha256=sha,
            document_number=number,
            referral_uid=referral,
        )

    async def by_local_uid(
        self, kind: str, organization_oid: str, local_uid: str, *, exclude: Exclude = None
    ) -> Sequence[JournalEntry]:
        items, _ = await self.journal.search(
            SearchQuery(kind=kind, organization_oid=organization_oid, local_uid=local_uid, limit=self.limit)
        )
        return [await self._entry(s) for s in items if (s.source_system, s.local_uid) != exclude]

    async def by_patient(
        self, patient_id: str, kinds: Sequence[str], *, exclude: Exclude = None
    ) -> Sequence[JournalEntry]:
        # One query for all the kinds (the late-arrival rule asks for four), newest first, at
        # most ``limit`` per kind asked for.
        wanted = tuple(dict.fromkeys(kinds))
        if not wanted:
            return []
        items, _ = await self.journal.search(
            SearchQuery(kinds=wanted, patient_id=patient_id, limit=self.limit * len(wanted))
        )
        return [await self._entry(s) for s in items if (s.source_system, s.local_uid) != exclude]

"""Records the journal reads and writes besides the canonical model: the changes a transition
makes, timeline events, envelope metadata, search queries and their cursors."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.errors import GatewayError
from gateway.model import State, Submission

__all__ = [
    "UNCHANGED",
    "AlsoInTransaction",
    "Changes",
    "EnvelopeMeta",
    "Event",
    "InvalidCursor",
    "SearchQuery",
    "row_to_submission",
]

AlsoInTransaction = Callable[[AsyncConnection, int], Awaitable[None]]
"""More writes in a transition's or note's transaction: ``(connection, event id)``."""


class _Unchanged:
    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Final = _Unchanged()


@dataclass(frozen=True, slots=True)
class Changes:
    """Column updates that travel with a transition. UNCHANGED leaves a column as it is; None
    clears it."""

    next_attempt_at: datetime | _Unchanged | None = UNCHANGED
    answer_deadline: datetime | _Unchanged | None = UNCHANGED
    outcome_code: str | _Unchanged | None = UNCHANGED
    outcome_message: str | _Unchanged | None = UNCHANGED
    # The message in both languages ({"ru", "en"}) when the gateway words it; a peer's own words
    # leave it None. Setting outcome_message without it clears it, so a later peer message is never
    # shown under an earlier gateway text.
    outcome_text: Mapping[str, str] | _Unchanged | None = UNCHANGED
    peer_registration_id: str | _Unchanged | None = UNCHANGED
    destination: str | _Unchanged | None = UNCHANGED
    outcome_source: str | _Unchanged | None = UNCHANGED
    count_attempt: bool = False
    count_reconcile: bool = False
    count_resubmit: bool = False

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in (
            "next_attempt_at",
            "answer_deadline",
            "outcome_code",
            "outcome_message",
            "peer_registration_id",
            "destination",
            "outcome_source",
        ):
            value = getattr(self, name)
            if value is not UNCHANGED:
                out[name] = value
        if not isinstance(self.outcome_text, _Unchanged):
            out["outcome_text"] = dict(self.outcome_text) if self.outcome_text else None
        elif "outcome_message" in out:
            out["outcome_text"] = None
        return out


@dataclass(frozen=True, slots=True)
class EnvelopeMeta:
    id: int
    submission_id: str
    event_id: int | None
    at: datetime
    direction: str
    peer: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    submission_id: str
    at: datetime
    kind: str
    from_state: State | None
    to_state: State | None
    actor: str
    code: str | None
    message: str | None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SearchQuery:
    source_system: str | None = None
    local_uid: str | None = None
    kind: str | None = None
    organization_oid: str | None = None
    peer_registration_id: str | None = None
    region: str | None = None
    destination: str | None = None
    states: tuple[State, ...] = ()
    patient_id: str | None = None  # a full SNILS/IIN, matched by its keyed hash
    since: datetime | None = None
    until: datetime | None = None
    cursor: str | None = None
    limit: int = 50
    kinds: tuple[str, ...] = ()  # any of these kinds (with ``kind``, both must hold)


def _encode_cursor(sub: Submission) -> str:
    raw = f"{sub.created_at.isoformat()}|{sub.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    """A forged cursor is refused here, whole: a NUL in it, or a date that overflows when the driver
    converts it to UTC (year 9999 with a negative offset), used to reach PostgreSQL as a 500."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, sid = raw.split("|", 1)
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is not None:
            moment.astimezone(UTC)  # raises OverflowError out of range
        if "\x00" in raw or len(sid) > 64:
            raise ValueError("not a submission id")
        return moment, sid
    except (ValueError, UnicodeDecodeError, OverflowError):
        raise InvalidCursor("the cursor is not one this API returned") from None


class InvalidCursor(GatewayError):
    code = "INVALID_CURSOR"
    http_status = 400


def _outcome_text(value: Any) -> dict[str, str] | None:
    """The stored pair when it is one (a column absent from a partial select reads as None)."""
    if isinstance(value, dict) and isinstance(value.get("ru"), str) and isinstance(value.get("en"), str):
        return {"ru": value["ru"], "en": value["en"]}
    return None


def row_to_submission(row: sa.Row[Any]) -> Submission:
    m = row._mapping
    return Submission(
        id=m["id"],
        source_system=m["source_system"],
        local_uid=m["local_uid"],
        kind=m["kind"],
        organization_oid=m["organization_oid"],
        patient_key=m["patient_key"],
        region=m["region"],
        destination=m["destination"],
        state=State(m["state"]),
        attempts=m["attempts"],
        next_attempt_at=m["next_attempt_at"],
        answer_deadline=m["answer_deadline"],
        outcome_code=m["outcome_code"],
        outcome_message=m["outcome_message"],
        outcome_text=_outcome_text(m.get("outcome_text")),
        peer_registration_id=m["peer_registration_id"],
        content_hash=m["content_hash"],
        callback_url=m["callback_url"],
        origin=m["origin"],
        origin_ref=m["origin_ref"],
        outcome_source=m["outcome_source"],
        reconcile_attempts=m["reconcile_attempts"],
        resubmits=m["resubmits"],
        flagged=bool(m["flagged"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        lease_owner=m["lease_owner"],
        lease_until=m["lease_until"],
        version=m["version"],
        supersedes=m["supersedes"],
    )

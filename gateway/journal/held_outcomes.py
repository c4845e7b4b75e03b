"""Peer outcomes held for an operator: a final answer (an ЕАВИИАС result or return) whose own
document was flagged on the inbound path (a result signed by someone who is not the bureau head,
a broken signature) is not applied to the referral. It is written on the referral's timeline as an
``outcome-held`` event carrying what applying it would do; the referral stays where it was.

An operator who *releases* the flagged document applies the held outcome in the same transaction
(gateway.journal.inbound); one who *dismisses* it leaves the referral waiting for a valid answer.
The document's state is read under a row lock (PostgreSQL; SQLite serialises writers) both when an
outcome is held and when the document is released, so a release never misses a hold written at the
same moment, and a hold is never written for a document already released.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.journal.schema import events, inbound_documents
from gateway.model import State

__all__ = ["HELD_EVENT", "RESULT_DELIVERED", "HeldOutcome", "document_state", "held_outcome"]

HELD_EVENT: Final = "outcome-held"
# The KSI milestone a held result has not reached: the MO gets the result only when it is released.
RESULT_DELIVERED: Final = "result_delivered"


@dataclass(frozen=True, slots=True)
class HeldOutcome:
    """What applying a held outcome does (stored as the ``held`` details of its event)."""

    inbound_id: str
    to: State  # REGISTERED or FAILED
    peer: str
    outcome_code: str
    outcome_message: str | None = None
    peer_registration_id: str | None = None
    registered_at: datetime | None = None
    # the KSI milestone held back with it (result_delivered), with its bureau and region
    marks: tuple[dict[str, str | None], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "inbound_id": self.inbound_id,
            "to": str(self.to),
            "peer": self.peer,
            "outcome_code": self.outcome_code,
            "outcome_message": self.outcome_message,
            "peer_registration_id": self.peer_registration_id,
            "registered_at": self.registered_at.isoformat() if self.registered_at else None,
            "marks": list(self.marks),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HeldOutcome:
        at = data.get("registered_at")
        return cls(
            inbound_id=str(data["inbound_id"]),
            to=State(data["to"]),
            peer=str(data["peer"]),
            outcome_code=str(data["outcome_code"]),
            outcome_message=data.get("outcome_message"),
            peer_registration_id=data.get("peer_registration_id"),
            registered_at=datetime.fromisoformat(at) if at else None,
            marks=tuple(data.get("marks") or ()),
        )


async def document_state(conn: AsyncConnection, doc_id: str) -> str | None:
    """The inbound document's state, its row locked until the transaction ends (PostgreSQL)."""
    stmt = sa.select(inbound_documents.c.state).where(inbound_documents.c.id == doc_id)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    value = (await conn.execute(stmt)).scalar_one_or_none()
    return None if value is None else str(value)


async def held_outcome(conn: AsyncConnection, submission_id: str, doc_id: str) -> HeldOutcome | None:
    """The latest outcome of ``submission_id`` held on inbound document ``doc_id``, if any."""
    e = events.c
    rows = (
        await conn.execute(
            sa.select(e.details).where(e.submission_id == submission_id, e.kind == HELD_EVENT).order_by(e.id.desc())
        )
    ).all()
    for row in rows:
        held = (row.details or {}).get("held")
        if isinstance(held, dict) and held.get("inbound_id") == doc_id:
            return HeldOutcome.from_json(held)
    return None

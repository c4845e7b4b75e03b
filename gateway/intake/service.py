"""Intake: turn an accepted canonical submission into a durable journal record.

Shared by every front door (REST, the REMD-compatible SOAP endpoint, relays): the one place that
decides the idempotency key, the content hash, the patient key and the region.
"""

from __future__ import annotations

from typing import Any

from gateway.delivery.routing import region_from_org_oid
from gateway.errors import Forbidden
from gateway.intake.clients import Client
from gateway.intake.submission import CanonicalSubmission, content_hash
from gateway.journal.store import Journal
from gateway.model import Submission, SubmissionDraft

__all__ = ["accept", "authorise"]


def authorise(client: Client, sub: CanonicalSubmission) -> None:
    """A client submits under its own name, for the organisations it is configured for."""
    if sub.source_system != client.source_system:
        raise Forbidden(
            f"this client submits as {client.source_system!r}, not {sub.source_system!r}",
            details={"field": "/source_system"},
        )
    if not client.may_submit_for(sub.organization_oid):
        raise Forbidden(
            f"client {client.source_system!r} may not submit for organisation {sub.organization_oid}",
            details={"field": "/organization_oid"},
        )


async def accept(
    journal: Journal,
    sub: CanonicalSubmission,
    raw: dict[str, Any],
    *,
    payload: bytes,
    origin: str = "rest",
    origin_ref: str | None = None,
) -> tuple[Submission, bool]:
    """Journal ``sub`` durably. Returns (record, created); raises DuplicateConflict for the same
    local_uid with different content."""
    draft = SubmissionDraft(
        source_system=sub.source_system,
        local_uid=sub.local_uid,
        kind=sub.kind,
        organization_oid=sub.organization_oid,
        content_hash=content_hash(raw),
        payload=payload,
        patient_id=sub.patient_id,
        region=region_from_org_oid(sub.organization_oid),
        callback_url=sub.callback_url,
        origin=origin,
        origin_ref=origin_ref,
    )
    return await journal.submit(draft, actor=f"intake:{origin}")

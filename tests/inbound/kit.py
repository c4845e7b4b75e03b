"""Helpers for the inbound tests: signed results and return notices that answer a referral, as
a peer would hand them to the core, and the referral journalled as if an MIS had sent it."""

from __future__ import annotations

import base64
import dataclasses
import uuid
from datetime import UTC, datetime
from typing import Any

from gateway.documents import ParsedDocument
from gateway.flk.sample_pki import SampleSigners
from gateway.flk.samples import prepare_document, sign_document
from gateway.inbound.contract import InboundDocument, InboundSignature
from gateway.journal.store import Journal
from gateway.model import Submission, SubmissionDraft

NOW = datetime(2026, 3, 17, 12, 0, 0, tzinfo=UTC)
MO = "1.2.643.5.1.13.13.12.2.77.7973"
OTHER_MO = "1.2.643.5.1.13.13.12.2.77.9999"


async def journal_referral(
    journal: Journal, *, org: str = MO, source_system: str = "mis-test", callback_url: str | None = None
) -> Submission:
    local_uid = str(uuid.uuid4())
    sub, _ = await journal.submit(
        SubmissionDraft(
            source_system=source_system,
            local_uid=local_uid,
            kind="121",
            organization_oid=org,
            content_hash="0" * 64,
            payload=b"{}",
            patient_id=None,
            region="77",
            callback_url=callback_url,
        )
    )
    return sub


def answer_document(
    signers: SampleSigners, kind: str, referral_local_uid: str, *, seed: int = 1, signer_role: str | None = None
) -> ParsedDocument:
    doc = prepare_document(kind, seed, signers, now=NOW, signer_role=signer_role)
    details = dataclasses.replace(doc.details, referral_id=referral_local_uid)  # type: ignore[type-var]
    return dataclasses.replace(doc, local_uid=str(uuid.uuid4()), details=details)


def inbound_of(
    signers: SampleSigners,
    doc: ParsedDocument,
    *,
    recipient: str = MO,
    peer: str = "remd",
    peer_document_id: str | None = None,
    personal: list[str] | None = None,
    organisation: list[str] | None = None,
    **kw: Any,
) -> InboundDocument:
    signed = sign_document(
        doc, signers, signing_time=min(doc.created, NOW), personal=personal, organisation=organisation
    )
    return InboundDocument(
        peer=peer,
        peer_document_id=peer_document_id or str(uuid.uuid4()),
        recipient_oid=recipient,
        kind=doc.kind.value,
        document=base64.b64decode(signed["document"]),
        signatures=tuple(
            InboundSignature(type=s["type"], cms=base64.b64decode(s["cms"]), signer=s.get("signer", {}))
            for s in signed["signatures"]
        ),
        **kw,
    )


def inbound_from_submission(
    submission: dict[str, Any], *, recipient: str, peer: str = "eaviias", peer_document_id: str | None = None
) -> InboundDocument:
    """The canonical submission of a signed bureau document (gateway.flk.decisions) as a peer
    would hand it over."""
    return InboundDocument(
        peer=peer,
        peer_document_id=peer_document_id or str(uuid.uuid4()),
        recipient_oid=recipient,
        kind=submission["kind"],
        document=base64.b64decode(submission["document"]),
        signatures=tuple(
            InboundSignature(type=s["type"], cms=base64.b64decode(s["cms"]), signer=s.get("signer", {}))
            for s in submission["signatures"]
        ),
    )

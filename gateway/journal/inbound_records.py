"""The records of the inbound-document journal (:mod:`gateway.journal.inbound`): what is stored of
a document (sealed), what is recorded, what is read back, and how an offered document is shown to
the MIS (the pull API's item and the webhook's body are the same view)."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from gateway.inbound.contract import InboundReason, InboundState
from gateway.journal.schema import inbound_documents

__all__ = [
    "INBOUND_NOTICE_VERSION",
    "RECORD_COLUMNS",
    "InboundEvent",
    "InboundRecord",
    "NewInbound",
    "StoredContent",
    "notice_body",
    "offer_view",
    "record_of",
]

INBOUND_NOTICE_VERSION: Final = 1


@dataclass(frozen=True, slots=True)
class StoredContent:
    """What is kept of a document, sealed: its bytes, signatures and the exchange that brought it."""

    document: bytes
    document_mime: str
    signatures: tuple[dict[str, Any], ...]  # {"type", "signer", "cms": bytes}
    envelopes: tuple[dict[str, Any], ...] = ()  # {"direction", "peer", "content_type", "body": bytes}
    # What the document says, for an MIS that does not read its XML (the ЦБДИ conclusion: the
    # decision and its Russian and Kazakh texts); None for kinds that have none.
    summary: dict[str, Any] | None = None

    def encode(self) -> bytes:
        def b64(value: bytes) -> str:
            return base64.b64encode(value).decode("ascii")

        return json.dumps(
            {
                "document": b64(self.document),
                "document_mime": self.document_mime,
                "signatures": [{**s, "cms": b64(s["cms"])} for s in self.signatures],
                "envelopes": [{**e, "body": b64(e["body"])} for e in self.envelopes],
                **({"summary": self.summary} if self.summary is not None else {}),
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()

    @classmethod
    def decode(cls, data: bytes) -> StoredContent:
        raw = json.loads(data)
        return cls(
            document=base64.b64decode(raw["document"]),
            document_mime=raw["document_mime"],
            signatures=tuple({**s, "cms": base64.b64decode(s["cms"])} for s in raw["signatures"]),
            envelopes=tuple({**e, "body": base64.b64decode(e["body"])} for e in raw.get("envelopes", ())),
            summary=raw.get("summary"),
        )


@dataclass(frozen=True, slots=True)
class NewInbound:
    """A document to record, after its checks. ``flag`` is the reason the checks found, if any;
    linking and the contradiction rule are decided by the journal, in the recording transaction."""

    peer: str
    peer_document_id: str
    kind: str
    recipient_oid: str
    content: StoredContent
    sha256: str
    peer_ids: Mapping[str, str]
    local_uid: str | None = None
    author_oid: str | None = None
    referral_local_uid: str | None = None
    patient_key: str | None = None
    final: bool = True
    registered_at: datetime | None = None
    flag: tuple[InboundReason, str] | None = None
    report: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class InboundRecord:
    id: str
    peer: str
    peer_document_id: str
    peer_ids: dict[str, str]
    kind: str
    recipient_oid: str
    local_uid: str | None
    author_oid: str | None
    referral_local_uid: str | None
    submission_id: str | None
    final: bool
    state: InboundState
    reason_code: str | None
    reason_message: str | None
    report: dict[str, Any] | None
    sha256: str
    size: int
    registered_at: datetime | None
    offer_seq: int | None
    received_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class InboundEvent:
    at: datetime
    kind: str
    actor: str
    code: str | None
    message: str | None
    details: dict[str, Any] | None


RECORD_COLUMNS: Final = [c for c in inbound_documents.c if c.name not in {"body", "codec", "patient_key"}]


def record_of(row: Any) -> InboundRecord:
    m = row._mapping
    return InboundRecord(
        id=m["id"],
        peer=m["peer"],
        peer_document_id=m["peer_document_id"],
        peer_ids=dict(m["peer_ids"] or {}),
        kind=m["kind"],
        recipient_oid=m["recipient_oid"],
        local_uid=m["local_uid"],
        author_oid=m["author_oid"],
        referral_local_uid=m["referral_local_uid"],
        submission_id=m["submission_id"],
        final=bool(m["final"]),
        state=InboundState(m["state"]),
        reason_code=m["reason_code"],
        reason_message=m["reason_message"],
        report=m["report"],
        sha256=m["sha256"],
        size=m["size"],
        registered_at=m["registered_at"],
        offer_seq=m["offer_seq"],
        received_at=m["received_at"],
        updated_at=m["updated_at"],
    )


def notice_body(record: InboundRecord, content: StoredContent) -> bytes:
    """The webhook body for an offered document (docs/inbound.md): the same fields as an item of
    ``GET /api/v1/inbox``, document and signatures included."""
    return json.dumps(
        {"version": INBOUND_NOTICE_VERSION, "event": "inbound.document", **offer_view(record, content)},
        ensure_ascii=False,
        separators=(",", ":"),
        sort_keys=True,
    ).encode()


def offer_view(record: InboundRecord, content: StoredContent) -> dict[str, Any]:
    """An offered document as the MIS sees it (pull API item, webhook body)."""

    def b64(value: bytes) -> str:
        return base64.b64encode(value).decode("ascii")

    return {
        "id": record.id,
        "cursor": str(record.offer_seq) if record.offer_seq is not None else None,
        "kind": record.kind,
        "recipient_oid": record.recipient_oid,
        "local_uid": record.local_uid,
        "author_oid": record.author_oid,
        "referral": {"local_uid": record.referral_local_uid, "submission_id": record.submission_id},
        "peer": record.peer,
        "peer_document_id": record.peer_document_id,
        "peer_ids": record.peer_ids,
        "state": str(record.state),
        "flag": {"code": record.reason_code, "message": record.reason_message} if record.reason_code else None,
        "registered_at": record.registered_at.isoformat() if record.registered_at else None,
        "received_at": record.received_at.isoformat(),
        "summary": content.summary,
        "document": b64(content.document),
        "document_mime": content.document_mime,
        "signatures": [
            {"type": s["type"], "signer": s.get("signer") or {}, "cms": b64(s["cms"])} for s in content.signatures
        ],
    }

"""Test data for journal tests."""

from __future__ import annotations

import hashlib
import uuid

from gateway.model import SubmissionDraft


def draft(local_uid: str | None = None, *, content: bytes = b'{"document": "..."}', **kw: object) -> SubmissionDraft:
    fields: dict[str, object] = {
        "source_system": "mis-test",
        "local_uid": local_uid or str(uuid.uuid4()),
        "kind": "121",
        "organization_oid": "1.2.643.5.1.13.13.12.2.77.7973",
        "content_hash": hashlib.sha256(content).hexdigest(),
        "payload": content,
        "patient_id": "112-233-445 95",
        "region": "77",
    }
    fields.update(kw)
    return SubmissionDraft(**fields)  # type: ignore[arg-type]

"""Outcome notices: what a sender is told when its submission reaches a final state.

Built once, when the final state is committed, and stored in the notification outbox in the same
transaction — so a notice can never be lost between "registered" and "told the MIS".
"""

from __future__ import annotations

import json
from typing import Any

from gateway.model import Submission

__all__ = ["NOTICE_VERSION", "build_notice", "encode_notice"]

NOTICE_VERSION = 1


def build_notice(sub: Submission) -> dict[str, Any]:
    return {
        "version": NOTICE_VERSION,
        "event": "submission.final",
        "id": sub.id,
        "source_system": sub.source_system,
        "local_uid": sub.local_uid,
        "kind": sub.kind,
        "organization_oid": sub.organization_oid,
        "state": str(sub.state),
        "outcome": {
            "code": sub.outcome_code,
            "message": sub.outcome_message,
            "peer_registration_id": sub.peer_registration_id,
        },
        "origin": sub.origin,
        "origin_ref": sub.origin_ref,
        "at": sub.updated_at.isoformat(),
    }


def encode_notice(notice: dict[str, Any]) -> bytes:
    return json.dumps(notice, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()

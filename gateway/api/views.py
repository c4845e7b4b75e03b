"""JSON views of journal records for the REST API (one place, so the OpenAPI schema and the
answers cannot drift apart).

Submissions are shown in the reader's language (``Accept-Language``): ``outcome.message`` in the
list and the detail when the gateway wrote it (``outcome_text``: an FLK rejection, no route, an
operator's cancel), the FLK report's messages, and the timeline's entries journalled in both
languages. A peer's own words, and rows journalled before ``outcome_text`` existed, are shown as
journalled (an old FLK rejection's detail still finds its English text in the report).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gateway.journal.outcome_texts import event_message
from gateway.journal.store import Event
from gateway.model import Submission
from gateway.validation.contract import message_in_language, report_in_language

__all__ = ["event_view", "submission_summary", "submission_view"]

API = "/api/v1"


def _ts(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def submission_summary(sub: Submission, language: str = "en") -> dict[str, Any]:
    return {
        "id": sub.id,
        "source_system": sub.source_system,
        "local_uid": sub.local_uid,
        "kind": sub.kind,
        "organization_oid": sub.organization_oid,
        "region": sub.region,
        "destination": sub.destination,
        "state": str(sub.state),
        "final": sub.is_final,
        "attempts": sub.attempts,
        "version": sub.version,
        "supersedes": sub.supersedes,
        "created_at": _ts(sub.created_at),
        "updated_at": _ts(sub.updated_at),
        "next_attempt_at": _ts(sub.next_attempt_at),
        "answer_deadline": _ts(sub.answer_deadline),
        "outcome": {
            "code": sub.outcome_code,
            "message": sub.outcome_in(language),
            "peer_registration_id": sub.peer_registration_id,
        },
        "links": {"self": f"{API}/submissions/{sub.id}"},
    }


def event_view(event: Event, report: dict[str, Any] | None = None, language: str = "ru") -> dict[str, Any]:
    return {
        "at": _ts(event.at),
        "kind": event.kind,
        "from": str(event.from_state) if event.from_state else None,
        "to": str(event.to_state) if event.to_state else None,
        "actor": event.actor,
        "code": event.code,
        "message": message_in_language(event_message(event.message, event.details, language), report, language),
    }


def submission_view(sub: Submission, events: list[Event], language: str = "en") -> dict[str, Any]:
    report = next(
        (e.details["report"] for e in reversed(events) if isinstance(e.details, dict) and "report" in e.details),
        None,
    )
    if isinstance(report, dict):
        report = report_in_language(report, language)
    summary = submission_summary(sub, language)
    summary["outcome"]["message"] = message_in_language(sub.outcome_in(language), report, language)
    timeline = [event_view(e, report, language) for e in events]
    return {**summary, "report": report, "timeline": timeline}

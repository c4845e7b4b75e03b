"""The outcome messages the gateway words itself, in both languages (docs/languages.md).

A submission's ``outcome_message`` is journalled as before (it is what a notice to the MIS
carries); beside it ``outcome_text`` holds the message in Russian and English when the gateway
wrote it, so a list, the timeline, REST and the CSV export show the reader's language. A peer's
own words are relayed as written and have no ``outcome_text``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from gateway.common.language import Catalogue, Text
from gateway.model import text_in

__all__ = ["OUTCOME_TEXTS", "as_stored", "event_message", "outcome_text"]

OUTCOME_TEXTS: Final = Catalogue(
    "outcomes",
    {
        "no_route": (
            "нет маршрута для вида {kind} и региона {region}",
            "no route for kind {kind} and region {region}",
        ),
        "unknown_region": ("неизвестен", "unknown"),
        "cancelled": ("отменено оператором шлюза", "cancelled by the gateway operator"),
    },
)

TEXT_KEY: Final = "text"  # an event's details: the entry's message in both languages


def outcome_text(key: str, **params: object) -> Text:
    return OUTCOME_TEXTS.text(key, **params)


def as_stored(text: Text) -> dict[str, str]:
    """What ``outcome_text`` (and an event's ``details["text"]``) holds."""
    return {"ru": text.ru, "en": text.en}


def event_message(message: str | None, details: Mapping[str, Any] | None, language: str) -> str | None:
    """A timeline entry's message in ``language`` when it was journalled in both, else as written."""
    return text_in(details.get(TEXT_KEY) if isinstance(details, Mapping) else None, language, message)

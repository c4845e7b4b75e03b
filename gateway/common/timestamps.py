"""Date-times from outside (RFC 3339 / xs:dateTime), parsed so that nothing downstream can overflow.

``datetime.fromisoformat`` refuses the lower-case ``t`` and ``z`` RFC 3339 allows (the JSON Schema's
``date-time`` format accepted them, the decoder then raised — a 500), and happily returns
``9999-12-31T23:59:59-23:59``, which overflows the moment anything converts it to UTC (PostgreSQL
parameters, deadline arithmetic). Here a value is normalised, must carry an offset (unless the
caller supplies a default zone) and must lie, in UTC, within [0001-01-02, 9998-12-31]: a margin
that leaves room for a year of arithmetic either way.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Final

__all__ = ["EARLIEST", "LATEST", "parse_timestamp"]

EARLIEST: Final = datetime(1, 1, 2, tzinfo=UTC)
LATEST: Final = datetime(9998, 12, 31, 23, 59, 59, tzinfo=UTC)
_MAX_LENGTH: Final = 64


def parse_timestamp(text: str, *, default_zone: tzinfo | None = None) -> datetime:
    """An aware datetime, or ValueError with a message fit for a client.

    ``default_zone``: the zone of a value without an offset (REMD: Moscow time); None refuses such
    values.
    """
    value = text.strip()
    if not value or len(value) > _MAX_LENGTH:
        raise ValueError("not an ISO 8601 date-time")
    if len(value) > 10 and value[10] in "t ":
        value = f"{value[:10]}T{value[11:]}"
    if value[-1] in "zZ":
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        if default_zone is None:
            raise ValueError("needs a time zone offset")
        parsed = parsed.replace(tzinfo=default_zone)
    try:
        in_utc = parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValueError("out of range") from None
    if not EARLIEST <= in_utc <= LATEST:
        raise ValueError("out of range")
    return parsed

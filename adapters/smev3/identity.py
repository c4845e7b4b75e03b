"""SMEV 3 message identity: MessageID is a UUID version 1 (RFC 4122, time-based).

The core persists the id before the first send and reuses it on every resend after a network
error (SMEV refuses a second copy as ``MessageIsAlreadySent``); only ``StaleMessageId`` makes it
take a new one (``Answer.renew_message_id``), and not while a send under the old one may have
arrived (docs/smev3.md, "Resending"). SMEV
writes UUIDs in lower case (the basic XSD's pattern), so :func:`new_message_id` does too and
:func:`check_message_id` refuses upper case.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Final

__all__ = ["MessageIdError", "check_message_id", "message_id_time", "new_message_id"]

_PATTERN: Final = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# 100-ns intervals between 1582-10-15 (the Gregorian reform, UUID v1 epoch) and 1970-01-01
_GREGORIAN_OFFSET: Final = 0x01B21DD213814000


class MessageIdError(ValueError):
    """Not an id SMEV accepts (``InvalidMessageIdFormat``)."""


def new_message_id() -> str:
    """A fresh UUID version 1, lower case. ``uuid.uuid1`` takes a random node (never the MAC)
    when the host's cannot be read, and its clock sequence guards against repeated timestamps."""
    return str(uuid.uuid1())


def check_message_id(value: str) -> uuid.UUID:
    """The UUID when ``value`` is a lower-case RFC 4122 UUID of version 1; else MessageIdError."""
    if not isinstance(value, str) or not _PATTERN.fullmatch(value):
        raise MessageIdError(f"{value!r} is not a lower-case UUID")
    parsed = uuid.UUID(value)
    if parsed.variant != uuid.RFC_4122:
        raise MessageIdError(f"{value} is not an RFC 4122 UUID (variant {parsed.variant})")
    if parsed.version != 1:
        raise MessageIdError(f"{value} is a UUID version {parsed.version}, SMEV needs version 1")
    return parsed


def message_id_time(value: str) -> datetime:
    """When a UUID v1 was made (UTC): what SMEV checks for ``StaleMessageId``."""
    parsed = check_message_id(value)
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=(parsed.time - _GREGORIAN_OFFSET) // 10)

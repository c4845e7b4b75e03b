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
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Final

__all__ = ["MessageIdError", "check_message_id", "message_id_time", "new_message_id"]

_PATTERN: Final = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# 100-ns intervals between 1582-10-15 (the Gregorian reform, UUID v1 epoch) and 1970-01-01
_GREGORIAN_OFFSET: Final = 0x01B21DD213814000
_UNIX_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


class MessageIdError(ValueError):
    """Not an id SMEV accepts (``InvalidMessageIdFormat``)."""


def new_message_id(at: datetime | None = None) -> str:
    """A fresh UUID version 1, lower case, made at ``at`` (the caller's clock) or now.

    ``at`` is there for a clock that is not the host's: SMEV (and its twin) judges a MessageID
    stale by the time inside it, so the id must carry the time of the clock the rest of the
    message runs on — a sandbox's simulated clock running ×240 would otherwise make every id
    made on the host clock look days old after a few real minutes. With ``at`` the clock
    sequence and node are random (62 bits; the node's multicast bit set, RFC 4122 §4.5), so two
    ids made in the same 100 ns still differ; without it ``uuid.uuid1`` (random node when the
    host's MAC cannot be read, and its clock sequence guards repeated timestamps)."""
    if at is None:
        return str(uuid.uuid1())
    ticks = ((at - _UNIX_EPOCH) // timedelta(microseconds=1) * 10 + _GREGORIAN_OFFSET) & 0x0FFF_FFFF_FFFF_FFFF
    clock_seq = secrets.randbits(14)
    node = secrets.randbits(48) | 0x0100_0000_0000
    made = uuid.UUID(
        fields=(
            ticks & 0xFFFF_FFFF,
            (ticks >> 32) & 0xFFFF,
            (ticks >> 48) & 0x0FFF | 0x1000,
            (clock_seq >> 8) & 0x3F | 0x80,
            clock_seq & 0xFF,
            node,
        )
    )
    return str(made)


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
    return _UNIX_EPOCH + timedelta(microseconds=(parsed.time - _GREGORIAN_OFFSET) // 10)

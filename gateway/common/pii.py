"""Personal data protection: masking for logs and UI, keyed hashing for lookups.

A full SNILS, IIN, patient name or document body must never reach a log line or a page. Masking
here is by *key* (fields known to hold personal data or bodies) and by *pattern* (SNILS/IIN-shaped
digit runs anywhere in free text, including exception messages and URLs).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Any, Final

from gateway.documents.identifiers import mask_iin, mask_snils

__all__ = [
    "BODY_KEYS",
    "PII_KEYS",
    "mask_iin",
    "mask_snils",
    "mask_text",
    "mask_traceback",
    "mask_value",
    "normalise_person_id",
    "patient_key",
    "summarise_body",
]

# Field names whose values are personal data: replaced whole, whatever they contain.
PII_KEYS: Final = frozenset(
    {
        "family", "given", "patronymic", "name", "full_name", "fio", "patient_name", "surname",
        "first_name", "last_name", "middle_name", "birth_date", "birthdate", "address",
        "snils", "iin", "patient_snils", "patient_iin", "patient", "identity_document", "phone",
        "email", "representative", "password", "token", "authorization", "cookie",
    }
)  # fmt: skip
# Field names holding document bodies or envelopes: replaced by a size + hash summary.
BODY_KEYS: Final = frozenset(
    {"document", "body", "payload", "content", "envelope", "xml", "data", "cms", "signature", "raw"}
)

# SNILS: 123-456-789 01 / 123-456-789-01 / 12345678901. IIN/BIN: 12 digits. Digit runs are matched
# only when not part of a longer number, so OIDs and timestamps survive.
# Bounded by non-alphanumerics, so ids in hex (request ids, hashes) and OIDs are left alone.
_SNILS_FORMATTED = re.compile(r"(?<![0-9A-Za-z.])(\d{3})[- ]?(\d{3})[- ]?(\d{3})[- ]?(\d{2})(?![0-9A-Za-z])")
_TWELVE_DIGITS = re.compile(r"(?<![0-9A-Za-z.])(\d{8})(\d{4})(?![0-9A-Za-z.])")
# Identifiers the gateway itself makes (UUIDs, hex ids): never personal data, never masked.
SAFE_KEYS: Final = frozenset(
    {"request_id", "submission_id", "local_uid", "relates_to", "message_id", "worker", "id", "timestamp", "emdr_id"}
)
_MAX_PLAIN_TEXT: Final = 2000


def mask_text(text: str) -> str:
    """Mask SNILS- and IIN-shaped numbers inside free text (messages, URLs, tracebacks)."""
    text = _TWELVE_DIGITS.sub(lambda m: "*" * 8 + m.group(2), text)
    return _SNILS_FORMATTED.sub(lambda m: f"***-***-*** {m.group(4)}", text)


def summarise_body(value: bytes | str) -> str:
    raw = value.encode() if isinstance(value, str) else bytes(value)
    return f"<{len(raw)} bytes sha256:{hashlib.sha256(raw).hexdigest()[:12]}>"


def _looks_like_body(text: str) -> bool:
    stripped = text.lstrip()
    return len(text) > _MAX_PLAIN_TEXT or (stripped.startswith("<") and len(stripped) > 200)


def mask_value(key: str | None, value: Any) -> Any:
    """Mask one logged value, recursing into mappings and sequences."""
    lowered = key.lower() if key else None
    if lowered in SAFE_KEYS and isinstance(value, str) and len(value) <= 200:
        return value
    if lowered in PII_KEYS and value is not None:
        if isinstance(value, str) and lowered in {"snils", "patient_snils"}:
            return mask_snils(value)
        if isinstance(value, str) and lowered in {"iin", "patient_iin"}:
            return mask_iin(value)
        return "***"
    if lowered in BODY_KEYS and isinstance(value, str):
        return summarise_body(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return summarise_body(bytes(value))
    if isinstance(value, str):
        return summarise_body(value) if _looks_like_body(value) else mask_text(value)
    if isinstance(value, Mapping):
        return {k: mask_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [mask_value(None, v) for v in value]
    return value


# A traceback line longer than this is carrying data (a document in an exception message), not code.
_MAX_TRACEBACK_LINE: Final = 500


def mask_traceback(text: str) -> str:
    """Mask a formatted traceback line by line. Treated as one string it is always "long", and
    :func:`mask_value` would replace it whole by a size and a hash — which is what hid every
    traceback from operators. Lines are code locations and exception messages: SNILS/IIN-shaped
    numbers are masked, and a line long or XML-like enough to be a body is summarised."""
    return "\n".join(
        summarise_body(line) if len(line) > _MAX_TRACEBACK_LINE or _looks_like_body(line) else mask_text(line)
        for line in text.split("\n")
    )


def normalise_person_id(value: str) -> str:
    """Digits only: SNILS and IIN are compared and hashed in this form."""
    return re.sub(r"\D", "", value)


def patient_key(secret: bytes, person_id: str) -> str:
    """A keyed hash of a SNILS/IIN: lets the journal find a patient's submissions without storing
    the identifier. Keyed (HMAC) because an unkeyed hash of an 11-digit number is trivially
    reversible by enumeration."""
    digest = hmac.new(secret, b"patient:" + normalise_person_id(person_id).encode(), hashlib.sha256)
    return digest.hexdigest()

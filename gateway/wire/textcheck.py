"""Which strings the gateway can keep and put into XML.

Two edges, two questions. Anything stored must not contain NUL (PostgreSQL ``text`` refuses it, so
it used to surface as a 500) nor a lone surrogate (it cannot be encoded to UTF-8 at all). Anything
that will be written into an XML message (a submission's every field: REMD, SMEV and ШЭП envelopes
are built from them) must consist of characters XML 1.0 allows; otherwise the gateway would accept
the document and fail at delivery, where the fault looks transient and is retried for days.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Final

__all__ = ["describe", "find_strings", "first_unstorable", "first_xml_illegal", "printable"]

# XML 1.0 (fifth edition) §2.2 Char, negated. Surrogates (D800–DFFF) fall outside every allowed
# range, so a lone surrogate decoded from a JSON "\ud800" escape is caught here too.
_XML_ILLEGAL: Final = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_UNSTORABLE: Final = re.compile("[\x00\ud800-\udfff]")
# The ASCII bytes XML 1.0 allows: deleting them from an ASCII string leaves only the illegal ones.
_XML_ASCII: Final = bytes([9, 10, 13, *range(0x20, 0x80)])


def first_xml_illegal(text: str) -> str | None:
    """The first character XML 1.0 does not allow in ``text``, or None."""
    # Fast path for the bulk of the input (base64 documents and signatures, megabytes each): an
    # ASCII string is checked by deleting the allowed bytes (~1.6 ms per MB, in C), where the regex
    # holds the GIL — and so the event loop — for ~7 ms per MB.
    if text.isascii() and not text.encode("ascii").translate(None, _XML_ASCII):
        return None
    found = _XML_ILLEGAL.search(text)
    return found.group(0) if found else None


def first_unstorable(text: str) -> str | None:
    """The first NUL or lone surrogate in ``text``, or None."""
    if text.isascii():  # no surrogates possible; the NUL test is a memchr
        return "\x00" if "\x00" in text else None
    found = _UNSTORABLE.search(text)
    return found.group(0) if found else None


def describe(char: str) -> str:
    return f"U+{ord(char):04X}"


def printable(text: str) -> str:
    """``text`` with every XML-illegal character written as ``\\uXXXX``: safe to echo in an error,
    a log line (a lone surrogate cannot even be written to a UTF-8 stream) or XML."""
    return _XML_ILLEGAL.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def find_strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a decoded JSON value — object keys included — as (JSON pointer, string).
    Recursive: call it on values whose depth was already bounded (gateway.wire.jsonlimits)."""
    if isinstance(value, str):
        yield path or "/", value
    elif isinstance(value, dict):
        for key, item in value.items():
            key_text = str(key)
            pointer = f"{path}/{printable(key_text)}"
            yield pointer, key_text
            yield from find_strings(item, pointer)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from find_strings(item, f"{path}/{index}")

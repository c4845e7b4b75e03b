"""JSON from outside, decoded within limits.

``json.loads`` alone answers hostile input with exceptions the REST edge did not expect (each one a
500 before this module): RecursionError for an array nested 100,000 deep, ValueError for an integer
of more than 4,300 digits (CPython's int/str conversion limit), and it happily returns lone
surrogates (``"\\ud800"``) and NUL that later break UTF-8 encoding and PostgreSQL. Here:

* nesting depth is checked by a linear pre-scan *before* the decoder recurses;
* integers longer than ``max_int_digits`` and non-finite numbers (``NaN``, ``1e999``) are refused
  by the decoder's number hooks;
* every string, object keys included, is refused when it holds NUL or a lone surrogate.

Each refusal is a coded GatewayError (400): MALFORMED_JSON, JSON_LIMIT_EXCEEDED, INVALID_CHARACTER.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Final

from gateway.errors import InvalidCharacter, JsonLimitExceeded, MalformedJson
from gateway.wire.textcheck import describe, find_strings, first_unstorable

__all__ = ["DEFAULT_MAX_DEPTH", "DEFAULT_MAX_INT_DIGITS", "load_json", "max_depth_exceeded"]

# The canonical submission is 4 levels deep; 32 leaves room for any client extension.
DEFAULT_MAX_DEPTH: Final = 32
# Longer than any count or code the API takes (a 64-bit integer has 20 digits).
DEFAULT_MAX_INT_DIGITS: Final = 40

# A JSON string, escapes included. Possessive quantifiers and the optional closing quote make every
# attempt succeed where it starts, so an unterminated string is consumed once instead of being
# rescanned from each later quote (which would make the scan quadratic).
_STRING: Final = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+"?', re.DOTALL)
_NOT_BRACKET: Final = re.compile(r"[^\[\]{}]+")
_SQUARE: Final = str.maketrans("{}", "[]")


def max_depth_exceeded(text: str, limit: int) -> bool:
    """True when brackets outside strings nest deeper than ``limit`` (or are unbalanced in a way that
    leaves opening brackets standing). Linear in ``len(text)`` and all in C: strings are cut out,
    the brackets kept, and ``limit`` rounds of removing innermost ``[]`` pairs empty any balanced
    sequence at most ``limit`` deep — each round strips exactly one level. The common case (fewer
    opening brackets than the limit at all) is two counts."""
    if text.count("[") + text.count("{") <= limit:
        return False
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text)).translate(_SQUARE)
    for _ in range(limit):
        shorter = brackets.replace("[]", "")
        if len(shorter) == len(brackets):
            break
        brackets = shorter
    return "[" in brackets


def load_json(
    body: bytes | str, *, max_depth: int = DEFAULT_MAX_DEPTH, max_int_digits: int = DEFAULT_MAX_INT_DIGITS
) -> Any:
    """Decode ``body`` (UTF-8/16/32 detected as RFC 8259 says, when bytes) within the limits."""
    if isinstance(body, bytes | bytearray):
        try:
            text = bytes(body).decode(json.detect_encoding(body))
        except (UnicodeDecodeError, LookupError) as exc:
            raise MalformedJson(f"the body is not valid JSON text: {exc.__class__.__name__}") from None
    else:
        text = body
    if max_depth_exceeded(text, max_depth):
        # Unbalanced brackets land here too; that input is not JSON either way.
        raise JsonLimitExceeded(
            f"JSON nested deeper than {max_depth} levels", details={"limit": max_depth, "kind": "depth"}
        )

    def parse_int(digits: str) -> int:
        if len(digits.lstrip("-")) > max_int_digits:
            raise JsonLimitExceeded(
                f"a JSON integer has more than {max_int_digits} digits",
                details={"limit": max_int_digits, "kind": "integer"},
            )
        return int(digits)

    def parse_float(literal: str) -> float:
        if len(literal) > 4 * max_int_digits:
            raise JsonLimitExceeded(
                f"a JSON number is longer than {4 * max_int_digits} characters",
                details={"limit": 4 * max_int_digits, "kind": "number"},
            )
        value = float(literal)
        if not math.isfinite(value):
            raise JsonLimitExceeded("a JSON number is out of range", details={"kind": "number"})
        return value

    def parse_constant(name: str) -> Any:
        raise MalformedJson(f"{name} is not JSON")

    try:
        data = json.loads(text, parse_int=parse_int, parse_float=parse_float, parse_constant=parse_constant)
    except json.JSONDecodeError as exc:
        raise MalformedJson(f"the body is not valid JSON: {exc}") from None
    except RecursionError:  # unreachable after the pre-scan with a sane limit; never a 500 anyway
        raise JsonLimitExceeded("JSON nested too deeply", details={"kind": "depth"}) from None
    problems = [
        {"field": pointer, "message": f"contains {describe(char)}, which is not allowed"}
        for pointer, value in find_strings(data)
        if (char := first_unstorable(value)) is not None
    ]
    if problems:
        raise InvalidCharacter(
            f"{len(problems)} string(s) contain NUL or a lone surrogate",
            details={"errors": problems[:50]},
        )
    return data

"""A peer's error-code table: what each of its codes means for delivery.

Every plug-in brings one (a TSV file or a Python table); the core's classifier
(:mod:`gateway.delivery.classify`) reads whichever table belongs to the peer that answered, so no
protocol's codes leak into another's decisions. A table is checked when the gateway starts: a
malformed one stops it with the file, row and column at fault.
"""

from __future__ import annotations

import csv
import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from gateway.errors import ConfigError

__all__ = ["CodeClass", "CodeRule", "CodeTable", "TextRule"]


class CodeClass(enum.StrEnum):
    TRANSIENT = "transient"  # a retry may succeed: RETRY_WAIT with persisted backoff
    PERMANENT = "permanent"  # our request is wrong: FAILED, in front of an operator
    ALREADY_THERE = "already-there"  # the peer has it already: reconcile, never fail, never resend blindly
    RATE_LIMIT = "rate-limit"  # transient, and the next attempt waits at least ``wait_seconds``


@dataclass(frozen=True, slots=True)
class CodeRule:
    cls: CodeClass
    wait_seconds: float = 0.0
    description: str = ""  # Russian, as the peer's own table words it
    # A submission failed with this code needs an operator at once, not one at a time: nothing of
    # this peer will pass until someone acts (wrong credentials, a certificate the peer refuses).
    # Counted by the default alert "peer-refusals-needing-action".
    alert: bool = False
    # What operators read in the console, the operator API and ``mse-gateway ops``: the
    # description in English, and the suggested action in both languages (see :meth:`explained`).
    description_en: str = ""
    action_ru: str = ""
    action_en: str = ""

    def explained(self, language: str) -> tuple[str, str]:
        """``(description, suggested action)`` in ``language`` ("ru" or "en"; anything else is
        English); empty strings where the table has none."""
        if language == "ru":
            return self.description, self.action_ru
        return self.description_en, self.action_en


@dataclass(frozen=True, slots=True)
class TextRule:
    """A class decided by the message text whatever the code (REMD's registration timeout arrives
    with varying codes). ``cause`` is the stable label metrics and the UI show."""

    pattern: re.Pattern[str]
    rule: CodeRule
    cause: str


_REQUIRED: Final = ("code", "class")


@dataclass(frozen=True, slots=True)
class CodeTable:
    codes: Mapping[str, CodeRule]
    texts: tuple[TextRule, ...] = ()
    # What a code missing from the table means. Permanent by default: retrying what we do not
    # understand hides it from operators, while FAILED puts it in front of them.
    unknown: CodeClass = CodeClass.PERMANENT
    source: str = "<table>"
    aliases: Mapping[str, str] = field(default_factory=dict)

    def alerting(self) -> frozenset[str]:
        """The codes whose rule says ``alert``."""
        return frozenset(code for code, rule in self.codes.items() if rule.alert)

    def lookup(self, code: str) -> CodeRule | None:
        key = code.strip().upper()
        return self.codes.get(self.aliases.get(key, key))

    @classmethod
    def from_tsv(
        cls,
        text: str,
        *,
        source: str,
        texts: Iterable[TextRule] = (),
        aliases: Mapping[str, str] | None = None,
    ) -> CodeTable:
        """Read a tab-separated table with at least the columns ``code`` and ``class`` (one of
        :class:`CodeClass`), optionally ``wait_seconds``, ``description`` (Russian),
        ``description_en``, ``action_ru``, ``action_en`` and ``alert`` (``yes`` or empty)."""
        rows = csv.DictReader(text.splitlines(), delimiter="\t")
        missing = [c for c in _REQUIRED if c not in (rows.fieldnames or ())]
        if missing:
            raise ConfigError(f"{source}: code table lacks the column(s) {', '.join(missing)}")
        codes: dict[str, CodeRule] = {}
        for line, row in enumerate(rows, start=2):
            code = (row.get("code") or "").strip().upper()
            if not code:
                raise ConfigError(f"{source}, line {line}: empty code")
            if code in codes:
                raise ConfigError(f"{source}, line {line}: code {code} appears twice")
            try:
                klass = CodeClass(str(row.get("class") or "").strip())
            except ValueError:
                known = ", ".join(c.value for c in CodeClass)
                raise ConfigError(
                    f"{source}, line {line}: class {row.get('class')!r} of {code} is not one of {known}"
                ) from None
            raw_wait = (row.get("wait_seconds") or "").strip() or "0"
            try:
                wait = float(raw_wait)
            except ValueError:
                raise ConfigError(f"{source}, line {line}: wait_seconds {raw_wait!r} is not a number") from None
            if wait < 0 or wait != wait:
                raise ConfigError(f"{source}, line {line}: wait_seconds must be >= 0")
            raw_alert = (row.get("alert") or "").strip().lower()
            if raw_alert not in ("", "yes", "no"):
                raise ConfigError(f"{source}, line {line}: alert {raw_alert!r} is not yes, no or empty")
            codes[code] = CodeRule(
                klass,
                wait,
                (row.get("description") or "").strip(),
                alert=raw_alert == "yes",
                description_en=(row.get("description_en") or "").strip(),
                action_ru=(row.get("action_ru") or "").strip(),
                action_en=(row.get("action_en") or "").strip(),
            )
        if not codes:
            raise ConfigError(f"{source}: code table has no rows")
        table_aliases = {k.upper(): v.upper() for k, v in (aliases or {}).items()}
        for alias, target in table_aliases.items():
            if target not in codes:
                raise ConfigError(f"{source}: alias {alias} points at {target}, which is not in the table")
        return cls(codes, tuple(texts), source=source, aliases=table_aliases)

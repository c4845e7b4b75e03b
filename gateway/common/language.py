"""The one language policy's mechanism: two languages, bilingual texts, catalogues, and the choice.

Every message a user reads is Russian or English (docs/languages.md). The pieces:

- :class:`Text` — one message in both languages, formatted already (an FLK finding carries one, so
  each surface can show the language its reader chose, and the journal keeps both);
- :class:`Catalogue` — keyed templates ``key → (ru, en)``, checked when built: both languages
  present, the same ``{placeholders}`` in each, so a gap fails at import and in the tests rather
  than showing the wrong language at run time;
- :func:`preferred_language` (an HTTP ``Accept-Language``) and :func:`locale_language` (the CLI's
  ``LC_ALL``/``LC_MESSAGES``/``LANG``) — how a reader's choice is found when none is explicit.

Why dictionaries and not gettext: there are exactly two languages and both are written by the
project; a ``(ru, en)`` pair per key keeps them side by side for review, needs no compiled ``.mo``
files in the package, and lets the completeness test walk every catalogue. gettext falls back to the
msgid silently, which is the failure the policy is meant to make visible.
"""

from __future__ import annotations

import os
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Final, Literal

__all__ = [
    "LANGUAGES",
    "Catalogue",
    "Language",
    "Text",
    "as_language",
    "locale_language",
    "preferred_language",
]

Language = Literal["ru", "en"]
LANGUAGES: Final[tuple[Language, ...]] = ("ru", "en")


def as_language(value: str | None, default: Language) -> Language:
    """``value`` when it names a language (``ru``, ``en-US``, ``ru_RU.UTF-8``…), else ``default``."""
    primary = (value or "").strip().lower().replace("_", "-").split("-")[0].split(".")[0]
    if primary == "ru":
        return "ru"
    if primary == "en":
        return "en"
    return default


@dataclass(frozen=True, slots=True)
class Text:
    """One message in both languages."""

    ru: str
    en: str

    def __post_init__(self) -> None:
        if bool(self.ru) != bool(self.en):  # both empty is a deliberate blank
            raise ValueError(f"a message needs both languages: {self!r}")

    def in_language(self, language: Language) -> str:
        return self.en if language == "en" else self.ru

    def prefixed(self, ru: str, en: str) -> Text:
        """This text after a prefix given in each language (``"Подпись 1: "`` + text)."""
        return Text(ru + self.ru, en + self.en)


def _fields(template: str) -> frozenset[str]:
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


class Catalogue(Mapping[str, tuple[str, str]]):
    """Keyed message templates in both languages (``{name}`` placeholders, ``str.format``)."""

    def __init__(self, name: str, entries: Mapping[str, tuple[str, str]]) -> None:
        self.name = name
        for key, (ru, en) in entries.items():
            if bool(ru.strip()) != bool(en.strip()):  # both empty is a deliberate blank ("unit.")
                raise ValueError(f"{name}: {key} lacks a language")
            if _fields(ru) != _fields(en):
                raise ValueError(f"{name}: {key} has different placeholders in ru and en")
        self._entries: dict[str, tuple[str, str]] = dict(entries)

    def __getitem__(self, key: str) -> tuple[str, str]:
        return self._entries[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def text(self, key: str, **params: object) -> Text:
        """The message ``key`` in both languages, formatted with ``params`` (a :class:`Text`
        parameter gives each language its own words)."""
        ru, en = self._entries[key]
        return Text(
            ru.format(**{k: v.ru if isinstance(v, Text) else v for k, v in params.items()}),
            en.format(**{k: v.en if isinstance(v, Text) else v for k, v in params.items()}),
        )

    def get_text(self, language: Language, key: str, **params: object) -> str:
        return self.text(key, **params).in_language(language)


def preferred_language(accept_language: str | None, default: Language = "en") -> Language:
    """``ru`` or ``en`` from an Accept-Language header (quality values honoured; the first of equal
    ones wins); ``default`` when neither is asked for."""
    best: Language = default
    best_q = 0.0
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in ("ru", "en"):
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > best_q:
            best, best_q = ("ru" if primary == "ru" else "en"), q
    return best


def locale_language(environ: Mapping[str, str] | None = None, default: Language = "ru") -> Language:
    """The language of the POSIX locale: the first of ``LC_ALL``, ``LC_MESSAGES``, ``LANG`` that is
    set decides (as the C library does); English locales give ``en``, Russian ones ``ru``, any other
    (``C``, ``POSIX``, ``kk_KZ``…) the ``default``."""
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            return as_language(value, default)
    return default

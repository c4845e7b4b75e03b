"""Every FLK text and every code table in both languages (docs/languages.md).

Walks the code enums (the FLK's, the document parser's, the verifier's, the REST errors') and the
catalogues, and the FLK's rule modules' source: a Russian string literal there that is not in the
catalogue is a message with no English text."""

from __future__ import annotations

import ast
import csv
import re
from pathlib import Path

import pytest

from gateway.api.error_language import ERROR_TEXTS
from gateway.cli.messages import CLI_TEXTS
from gateway.common.language import Catalogue, Text, locale_language, preferred_language
from gateway.documents import DocumentErrorCode
from gateway.flk.codes import FlkCode
from gateway.flk.messages import DOCUMENT_CODE_TEXTS, FLK_CODE_TEXTS, FLK_TEXTS, SKIP_TEXTS
from gateway.journal.outcome_texts import OUTCOME_TEXTS
from gateway.model import ErrorCode
from gateway.signatures.codes import SignatureErrorCode
from gateway.ui.i18n import UI_TEXTS

ROOT = Path(__file__).resolve().parents[2]
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
QUOTED = re.compile(r"«[^»]*»")  # names relayed from the ministry's tables, quoted in both languages


def _english(text: str) -> bool:
    return not CYRILLIC.search(QUOTED.sub("", text))


@pytest.mark.parametrize(
    ("enum", "catalogue"),
    [(FlkCode, FLK_CODE_TEXTS), (DocumentErrorCode, DOCUMENT_CODE_TEXTS), (ErrorCode, ERROR_TEXTS)],
    ids=["flk", "document", "rest"],
)
def test_every_code_has_both_languages(enum: type, catalogue: Catalogue) -> None:
    missing = sorted(str(code) for code in enum if code not in catalogue)
    assert missing == [], f"{catalogue.name}: no text for {missing}"
    for code in enum:
        ru, en = catalogue[code]
        assert CYRILLIC.search(ru), (code, ru)
        assert _english(en), (code, en)


def test_every_signature_code_has_both_languages() -> None:
    for code in SignatureErrorCode:
        assert CYRILLIC.search(code.message), code
        assert code.message_en and _english(code.message_en), code


@pytest.mark.parametrize("catalogue", [FLK_TEXTS, SKIP_TEXTS, UI_TEXTS, OUTCOME_TEXTS, CLI_TEXTS], ids=lambda c: c.name)
def test_catalogue_entries_are_in_their_language(catalogue: Catalogue) -> None:
    wrong = []
    for key, (ru, en) in catalogue.items():
        if not _english(en):
            wrong.append((key, "en", en))
        # Russian where there are words to write (units, codes and placeholders are shared)
        letters = re.sub(r"\{[^}]*\}|[^A-Za-z\u0400-\u04ff]", "", ru)
        if letters and not CYRILLIC.search(ru) and ru != en:
            wrong.append((key, "ru", ru))
    assert wrong == []


def test_a_catalogue_refuses_an_entry_without_a_language() -> None:
    with pytest.raises(ValueError, match="lacks a language"):
        Catalogue("t", {"k": ("текст", "")})
    with pytest.raises(ValueError, match="placeholders"):
        Catalogue("t", {"k": ("{a}", "{b}")})
    with pytest.raises(ValueError):
        Text("текст", "")


# Rule modules: a Cyrillic literal there would be a message the catalogue does not know. Allowed:
# the role policy's title patterns and kinds' descriptions (matched against certificates, shown as
# the ministry's wording), and the normalisation of «ё».
_RULE_SOURCES = sorted(
    [
        *(ROOT / "gateway" / "flk" / "rules").glob("*.py"),
        ROOT / "gateway" / "flk" / "signatures.py",
        ROOT / "gateway" / "flk" / "checker.py",
        ROOT / "gateway" / "flk" / "roles.py",
        ROOT / "gateway" / "flk" / "findings.py",
    ]
)


def _cyrillic_literals(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    allowed: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "description":
            allowed.update(id(n) for n in ast.walk(node.value))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_vk_chair":
            allowed.update(id(n) for n in ast.walk(node))
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str) and CYRILLIC.search(node.value)):
            continue
        if id(node) in docstrings or id(node) in allowed or node.value in ("ё", "е") or "\\w" in node.value:
            continue
        found.append((node.lineno, node.value))
    return found


@pytest.mark.parametrize("path", _RULE_SOURCES, ids=lambda p: p.name)
def test_rules_write_no_russian_only_text(path: Path) -> None:
    assert _cyrillic_literals(path) == []


def test_the_source_walk_would_see_a_russian_only_message(tmp_path: Path) -> None:
    module = tmp_path / "rule.py"
    module.write_text('def f():\n    """Документ."""\n    return finding("r", "C", "other", "Не указан регион")\n')
    assert _cyrillic_literals(module) == [(3, "Не указан регион")]


def test_every_rule_message_formats_in_both_languages() -> None:
    """Fill every placeholder; both languages come out, different (the English is not a copy)."""
    for key, (ru, _) in FLK_TEXTS.items():
        names = set(re.findall(r"\{(\w+)\}", ru))
        text = FLK_TEXTS.text(key, **dict.fromkeys(names, "X"))
        assert text.ru != text.en or not CYRILLIC.search(text.ru), key


def test_peer_code_tables_have_english_descriptions_where_the_column_exists() -> None:
    """The adapters' code tables (adapters/*/error-codes.tsv) gain an English description column
    (issue 18); once a table has it, every row must fill it."""
    tables = sorted((ROOT / "adapters").glob("*/error-codes.tsv"))
    assert tables
    without = []
    for table in tables:
        with table.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
        columns = [c for c in (rows[0] if rows else {}) if c.startswith("description_en")]
        if not columns:
            without.append(table.parent.name)
            continue
        empty = [r["code"] for r in rows if not (r.get(columns[0]) or "").strip()]
        assert empty == [], f"{table}: no English description for {empty}"
        assert all(_english(r[columns[0]]) for r in rows), table
    if without:
        pytest.skip(f"no English description column yet in {without} (another branch adds it)")


@pytest.mark.parametrize(
    ("header", "default", "expected"),
    [
        (None, "en", "en"),
        ("ru-RU,ru;q=0.9,en-US;q=0.8", "en", "ru"),
        ("en-GB, ru;q=0.5", "ru", "en"),
        ("ru;q=0, en;q=0.1", "ru", "en"),
        ("de-DE, fr", "ru", "ru"),
        ("*", "ru", "ru"),
    ],
)
def test_preferred_language(header: str | None, default: str, expected: str) -> None:
    assert preferred_language(header, default) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "ru"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "ru_RU.UTF-8"}, "ru"),
        ({"LC_ALL": "en_GB.UTF-8", "LANG": "ru_RU.UTF-8"}, "en"),
        ({"LC_ALL": "C.UTF-8"}, "ru"),
    ],
)
def test_locale_language(env: dict[str, str], expected: str) -> None:
    assert locale_language(env) == expected

"""Every code an operator can meet in the grouped causes is explained in Russian and in English,
with a suggested action in both (issue 19): each row of each peer's code table
(``adapters/*/error-codes.tsv`` and the REMD text rule), and the gateway's own codes in the UI
catalogue. The lookup takes the language and gives that language's words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.peers.codes import CodeRule, CodeTable
from gateway.peers.installed import installed_plugins
from gateway.ui.causes import GATEWAY_CODES, explain, group_causes
from gateway.ui.i18n import CATALOGUE

ROOT = Path(__file__).resolve().parents[2]
TABLES = sorted(ROOT.glob("adapters/*/error-codes.tsv"))
_CYRILLIC = re.compile(r"[А-Яа-яЁё]")


def _check_rule(where: str, rule: CodeRule) -> None:
    assert rule.description and _CYRILLIC.search(rule.description), f"{where}: no Russian description"
    assert rule.action_ru and _CYRILLIC.search(rule.action_ru), f"{where}: no Russian action"
    # English texts quote Russian names only in «» or as placeholders (peers.<name>); none here.
    assert rule.description_en and not _CYRILLIC.search(rule.description_en), f"{where}: no English description"
    assert rule.action_en and not _CYRILLIC.search(rule.action_en), f"{where}: no English action"


def test_the_shipped_tables_are_the_ones_checked() -> None:
    assert {p.parent.name for p in TABLES} == {"remd", "smev3", "shep"}


@pytest.mark.parametrize("path", TABLES, ids=[p.parent.name for p in TABLES])
def test_every_row_has_both_languages(path: Path) -> None:
    table = CodeTable.from_tsv(path.read_text("utf-8"), source=str(path))
    assert len(table.codes) > 10
    for code, rule in table.codes.items():
        _check_rule(f"{path.parent.name}/{code}", rule)


def test_every_installed_plugin_table_and_text_rule_has_both_languages() -> None:
    """What the running gateway loads (a plug-in may build its table in Python, or add text rules)."""
    for name, plugin in installed_plugins().items():
        table = plugin.code_table()
        for code, rule in table.codes.items():
            _check_rule(f"{name}/{code}", rule)
        for text in table.texts:
            _check_rule(f"{name}/text:{text.cause}", text.rule)


def test_a_row_without_english_is_caught() -> None:
    broken = CodeTable.from_tsv(
        "code\tclass\tdescription\taction_ru\nX\tpermanent\tОшибка\tИсправьте\n", source="broken.tsv"
    )
    with pytest.raises(AssertionError, match="English"):
        _check_rule("broken/X", broken.codes["X"])


@pytest.mark.parametrize("code", sorted(GATEWAY_CODES))
def test_the_gateways_own_codes_have_both_languages(code: str) -> None:
    for key in (f"code.{code}", f"code_action.{code}"):
        ru, en = CATALOGUE["ru"].get(key), CATALOGUE["en"].get(key)
        assert ru and _CYRILLIC.search(ru), key
        assert en and not _CYRILLIC.search(en), key


def test_the_lookup_answers_in_the_language_asked() -> None:
    tables = {name: plugin.code_table() for name, plugin in installed_plugins().items()}
    ru = explain("RATE_LIMIT", {"gis": tables["remd"]}, "ru")
    en = explain("RATE_LIMIT", {"gis": tables["remd"]}, "en")
    assert ru.cls == en.cls == "rate-limit"
    assert ru.description == tables["remd"].codes["RATE_LIMIT"].description
    assert en.description and en.description.startswith("A protective limit")
    assert _CYRILLIC.search(ru.action) and not _CYRILLIC.search(en.action)
    # aliases (REMD's RECIPIENT_* spelling) and the gateway's own and HTTP codes
    assert explain("RECIPIENT_SNILS_MISMATCH", {"gis": tables["remd"]}, "en").description == (
        "The recipient's SNILS in the registration request differs from the SNILS in the SEMD"
    )
    gw = explain("NO_ROUTE", {}, "en")
    assert gw.cls == "gateway" and gw.action.startswith("Add a route")
    http = explain("HTTP_503", {}, "ru")
    assert http.cls == "transient" and "503" in (http.description or "")
    unknown = explain("NEVER_SEEN", tables, "en")
    assert unknown.cls is None and unknown.description is None and "not in the peer's table" in unknown.action
    groups = group_causes([("DEAD", "RATE_LIMIT", 3), ("DEAD", "HTTP_503", 5)], {"gis": tables["remd"]}, "en")
    assert [(c.code, c.count) for c in groups[0].causes] == [("HTTP_503", 5), ("RATE_LIMIT", 3)]
    assert all(c.action and not _CYRILLIC.search(c.action) for c in groups[0].causes)

"""The CLI speaks the language it is told: the global ``--lang``, else the locale (LC_ALL,
LC_MESSAGES, LANG), else English; a command's own ``--lang`` (``check``) wins over the global one."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import main
from gateway.cli.messages import CLI_TEXTS

CYRILLIC = re.compile(r"[\u0400-\u04ff]")
LOCALE = ("LC_ALL", "LC_MESSAGES", "LANG")


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name in LOCALE:
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


def test_global_lang_beats_the_locale(runner: CliRunner, tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path)]
    ru = runner.invoke(main, ["--lang", "ru", "db", "upgrade", *data], env={"LANG": "en_US.UTF-8"})
    assert ru.exit_code == 0 and ru.output.startswith("схема: пусто -> "), ru.output
    en = runner.invoke(main, ["--lang", "en", "status", *data], env={"LANG": "ru_RU.UTF-8"})
    assert en.exit_code == 0 and en.output.splitlines()[-1].startswith("total "), en.output
    ru = runner.invoke(main, ["--lang", "ru", "status", *data])
    assert ru.output.splitlines()[-1].startswith("всего "), ru.output
    # machine-readable output keeps its keys whatever the language
    as_json = runner.invoke(main, ["--lang", "ru", "status", "--json", *data])
    assert set(json.loads(as_json.output)) == {"schema", "total", "states"}


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"LANG": "ru_RU.UTF-8"}, "ru"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "ru_RU.UTF-8", "LC_ALL": "en_GB.UTF-8"}, "en"),
        ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "ru_RU.UTF-8"}, "ru"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({}, "en"),
    ],
)
def test_the_locale_decides_without_lang(runner: CliRunner, tmp_path: Path, env: dict[str, str], expected: str) -> None:
    result = runner.invoke(main, ["status", "--data-dir", str(tmp_path / "none")], env=env)
    assert result.exit_code == 1
    assert bool(CYRILLIC.search(result.output)) is (expected == "ru"), result.output


def test_errors_of_commands_in_both_languages(runner: CliRunner, tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path)]
    assert runner.invoke(main, ["db", "upgrade", *data]).exit_code == 0
    for lang, text in (("ru", "нет пользователя nobody"), ("en", "no user nobody")):
        result = runner.invoke(main, ["--lang", lang, "users", "disable", "nobody", *data])
        assert result.exit_code == 1 and text in result.output, result.output
    created = runner.invoke(main, ["--lang", "ru", "clients", "add", "mis-x", "--org", "1.2.3", *data])
    assert created.exit_code == 0 and created.output.startswith("клиент mis-x создан"), created.output
    listed = runner.invoke(main, ["--lang", "ru", "clients", "list", *data])
    assert "активен" in listed.output
    listed = runner.invoke(main, ["--lang", "en", "clients", "list", *data])
    assert "active" in listed.output and not CYRILLIC.search(listed.output)


def test_a_bad_configuration_is_reported_in_the_language(runner: CliRunner, tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[server]\nport = 'x'\n")
    ru = runner.invoke(main, ["--lang", "ru", "--config", str(cfg), "status"])
    en = runner.invoke(main, ["--lang", "en", "--config", str(cfg), "status"])
    assert ru.exit_code == en.exit_code == 2
    assert "конфигурация некорректна" in ru.output and "server.port" in ru.output
    assert "the configuration is invalid" in en.output and "server.port" in en.output


def test_check_reports_in_the_global_language_unless_it_says_otherwise(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"kind": "121", "signatures": "none"}')
    ru = runner.invoke(main, ["--lang", "ru", "check", str(path)], env={"LANG": "en_US.UTF-8"})
    assert ru.exit_code == 1 and ru.output.startswith("ОТКЛОНЕНА") and "Подача не соответствует схеме" in ru.output
    en = runner.invoke(main, ["--lang", "ru", "check", str(path), "--lang", "en"])
    assert en.output.startswith("REJECTED") and "The submission does not match the schema" in en.output
    assert "FLK_SUBMISSION_INVALID" in ru.output and "FLK_SUBMISSION_INVALID" in en.output


def test_every_cli_text_is_written_in_its_language() -> None:
    for key, (ru, en) in CLI_TEXTS.items():
        assert not CYRILLIC.search(en), key
        assert CYRILLIC.search(ru) or ru == en, key  # the same only where there are no words to translate

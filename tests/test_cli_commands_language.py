"""Every CLI command speaks the reader's language (docs/languages.md): a few representative lines of
each, under ``--lang ru`` in Russian and under ``--lang en`` with no Cyrillic. Codes, identifiers,
paths and ``--json`` keys are the same in both. Real parts throughout: a test PKI, real signatures,
a SQLite journal, a sandbox process."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gateway.cli import main

CYRILLIC = re.compile(r"[\u0400-\u04ff]")
LOCALE = ("LC_ALL", "LC_MESSAGES", "LANG")


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name in [*LOCALE, *(k for k in __import__("os").environ if k.startswith("GATEWAY_"))]:
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


def both(runner: CliRunner, args: Sequence[str], **kw: object) -> tuple[Result, Result]:
    """The command under --lang ru and under --lang en."""
    ru = runner.invoke(main, ["--lang", "ru", *args], **kw)  # type: ignore[arg-type]
    en = runner.invoke(main, ["--lang", "en", *args], **kw)  # type: ignore[arg-type]
    return ru, en


def english(result: Result) -> str:
    assert not CYRILLIC.search(result.output), result.output
    return result.output


@pytest.fixture
def pki(runner: CliRunner, tmp_path: Path) -> Path:
    directory = tmp_path / "pki"
    ru = runner.invoke(main, ["--lang", "ru", "certs", "init", str(directory)])
    assert ru.exit_code == 0, ru.output
    assert ru.output.startswith("корневой УЦ ") and "выпускающий УЦ" in ru.output and "списки отзыва" in ru.output
    return directory


def test_certs_and_sign(runner: CliRunner, pki: Path, tmp_path: Path) -> None:
    en = runner.invoke(main, ["--lang", "en", "certs", "init", str(tmp_path / "pki-en")])
    assert english(en).startswith("root CA ") and "issuing CA" in en.output and "CRLs" in en.output
    ru, en = both(runner, ["certs", "issue", str(pki), "--profile", "doctor", "--snils", "11223344500"])
    assert ru.exit_code == en.exit_code == 2
    assert "не проходит проверку контрольных цифр" in ru.output and "--unchecked" in ru.output
    assert "fails the check digits" in english(en)
    ru = runner.invoke(main, ["--lang", "ru", "certs", "issue", str(pki), "--profile", "doctor"])
    assert ru.exit_code == 0, ru.output
    assert ru.output.startswith("серийный номер ") and "сертификат" in ru.output
    key = Path(re.findall(r"ключ\s+(\S+)", ru.output)[0])
    cert = Path(re.findall(r"сертификат\s+(\S+)", ru.output)[0])
    en = runner.invoke(main, ["--lang", "en", "certs", "issue", str(pki), "--profile", "doctor"])
    assert english(en).startswith("serial ") and "\ncert " in en.output and "\nkey " in en.output
    content = tmp_path / "doc.xml"
    content.write_bytes(b"<doc>text</doc>")
    sign = ["sign", str(content), "--key", str(key), "--cert", str(cert), "--out", str(tmp_path / "doc.sig")]
    ru, en = both(runner, sign)
    assert ru.exit_code == en.exit_code == 0, (ru.output, en.output)
    assert ru.output.startswith("откреплённая подпись записана в ")
    assert english(en).startswith("detached signature written to ")
    ru, en = both(runner, [*sign, "--style", "smev"])
    assert ru.exit_code == en.exit_code == 2
    assert "--style, --id и --xades требуют --xml" in ru.output and "need --xml" in english(en)
    # verify: a detached signature without its content, and an XML file given --content
    ru, en = both(runner, ["verify", str(tmp_path / "doc.sig")])
    assert ru.exit_code == en.exit_code == 2
    assert "откреплённая подпись; укажите подписанные данные в --content" in ru.output
    assert "detached signature; give the signed data with --content" in english(en)
    ru, en = both(runner, ["verify", str(content), "--content", str(content)])
    assert "XML-подпись покрывает свой документ" in ru.output and "cover their own document" in english(en)
    ru, en = both(runner, ["verify", str(content), "--at", "yesterday"])
    assert "не дата-время ISO 8601" in ru.output and "not an ISO 8601 date-time" in en.output


def test_doctor(runner: CliRunner) -> None:
    ru, en = both(runner, ["doctor"])
    assert ru.exit_code == en.exit_code == 0, ru.output
    assert ru.output.startswith("бэкенд ГОСТ: ") and "проверка streebog256_m1: в порядке" in ru.output
    assert "запрошен:     auto (по умолчанию)" in ru.output
    assert english(en).startswith("GOST backend: ") and "check streebog256_m1: ok" in en.output
    as_json = runner.invoke(main, ["--lang", "ru", "doctor", "--json"])
    report = json.loads(as_json.output)  # keys and values as before, whatever the language
    assert report["requested"] == "auto (default)" and report["checks"]["streebog256_m1"] == "ok"


def test_documents_and_envelope(runner: CliRunner, tmp_path: Path) -> None:
    sample = tmp_path / "121.xml"
    assert runner.invoke(main, ["documents", "sample", "--kind", "121", "-o", str(sample)]).exit_code == 0
    ru, en = both(runner, ["documents", "validate", str(sample), "--packages", str(tmp_path / "none")])
    assert ru.exit_code == en.exit_code == 2
    assert ru.output.startswith("ошибка: ") and english(en).startswith("error: ")
    ru, en = both(runner, ["envelope", "inspect", str(sample)])
    assert ru.exit_code == en.exit_code == 1
    assert "не конверт ни одного из установленных протоколов" in ru.output
    assert "not an envelope of any installed protocol" in english(en)


def test_bench(runner: CliRunner) -> None:
    ru = runner.invoke(main, ["--lang", "ru", "bench", "verify-xml", "--seconds", "0.1"])
    assert ru.exit_code == 0, ru.output
    assert ru.output.startswith("бэкенд: ") and "средняя нагрузка до " in ru.output
    assert re.search(r"gost / signxml rsa\s+\S+\s+\(цель >= 1: (НЕ )?достигнута\)", ru.output), ru.output
    assert "project_gost_ops_per_s" in ru.output  # the figures keep their --json names
    ru, en = both(runner, ["bench", "delivery", "--processes", "0"])
    assert ru.exit_code == en.exit_code == 2
    assert "не меньше 1" in ru.output and "at least 1" in en.output


def test_journal_commands(runner: CliRunner, tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path)]
    assert runner.invoke(main, ["db", "upgrade", *data]).exit_code == 0
    ru, en = both(runner, ["archive", "show", "nosuch", *data])
    assert ru.exit_code == en.exit_code == 1
    assert "нет подачи nosuch" in ru.output and "no submission nosuch" in english(en)
    ru, en = both(runner, ["archive", "run", "--dry-run", *data])
    assert ru.exit_code == en.exit_code == 0, ru.output
    assert "будут обработаны (пробный прогон)" in ru.output and "UTC would be" in english(en)
    ru, en = both(runner, ["archive", "run", "--older-than", "soon", *data])
    assert "положительное число" in ru.output and "a positive number of d (days)" in en.output
    ru, en = both(runner, ["clients", "revoke", "nobody", *data])
    assert ru.exit_code == en.exit_code == 1
    assert "нет клиента 'nobody'" in ru.output and "no client 'nobody'" in english(en)
    assert runner.invoke(main, ["clients", "add", "mis-x", "--org", "1.2.3", *data]).exit_code == 0
    ru, en = both(runner, ["clients", "add", "mis-x", "--org", "1.2.3", *data])
    assert "клиент 'mis-x' (или клиент с этим entity id) уже есть" in ru.output
    assert "a client named 'mis-x'" in english(en)
    ru, en = both(runner, ["users", "add", "anna", "--role", "viewer", "--password-stdin", *data], input="short\n")
    assert ru.exit_code == en.exit_code == 1
    assert "пароль должен быть не короче" in ru.output and "a password needs at least" in english(en)
    ru, en = both(runner, ["ops", "list", "--filter", "state", *data])
    assert ru.exit_code == en.exit_code == 2
    assert "ожидается КЛЮЧ=ЗНАЧЕНИЕ" in ru.output and "expected KEY=VALUE" in en.output
    assert runner.invoke(main, ["ops", "tokens", "add", "ci", *data]).exit_code == 0
    ru, en = both(runner, ["ops", "tokens", "add", "ci", *data])
    assert "токен оператора 'ci' уже есть" in ru.output and "an operator token named 'ci' exists" in english(en)


def test_an_unreachable_journal_is_one_line_in_the_language(runner: CliRunner) -> None:
    with socket.socket() as s:  # a port nobody listens on: bound, never listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        env = {"GATEWAY_STORAGE__DATABASE_URL": f"postgresql://postgres:secret@127.0.0.1:{port}/test"}
        ru, en = both(runner, ["status"], env=env)
    assert ru.exit_code == en.exit_code == 1
    assert ru.output.startswith("mse-gateway: база данных журнала недоступна: ") and "Traceback" not in ru.output
    assert english(en).startswith("mse-gateway: the journal database cannot be reached: ")
    assert f"127.0.0.1:{port}" in en.output and "secret" not in en.output  # the password is not shown


@pytest.mark.postgres
def test_an_unknown_postgres_database_is_one_line_too(runner: CliRunner, pg_dsn: str) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(pg_dsn).set(database="mseg_no_such_database").render_as_string(hide_password=False)
    ru, en = both(runner, ["db", "upgrade"], env={"GATEWAY_STORAGE__DATABASE_URL": url})
    assert ru.exit_code == en.exit_code == 1, en.output
    assert "база данных журнала недоступна" in ru.output and "mseg_no_such_database" in ru.output
    assert english(en).startswith("mse-gateway: the journal database cannot be reached: ")


def test_simulate(runner: CliRunner, tmp_path: Path) -> None:
    ru, en = both(runner, ["simulate", "--target", "http://127.0.0.1:9", "--data-dir", str(tmp_path / "none")])
    assert ru.exit_code == en.exit_code == 2
    assert "simulate: рабочий каталог" in ru.output and "нет песочницы" in ru.output
    assert "simulate: working directory" in english(en) and "holds no sandbox" in en.output
    # a process of its own: after an in-process simulation, later tests in this process wrote and
    # read files as ASCII (seen with tests/flk/test_languages.py's source walk); cause not traced
    from sandbox_proc import clean_env

    proc = subprocess.run(
        [sys.executable, "-m", "gateway", "--lang", "ru", "simulate", "--count", "3", "--data-dir", str(tmp_path)],
        capture_output=True, env=clean_env(), cwd=tmp_path, timeout=300,
    )  # fmt: skip
    out = proc.stdout.decode("utf-8")
    if proc.returncode != 0:  # the whole stderr: an assertion's repr would cut the traceback short
        pytest.fail(f"simulate exited {proc.returncode}\n{out}\n{proc.stderr.decode('utf-8', 'replace')}")
    assert "этот прогон" in out and "РЭМД 2023" in out
    assert re.search(r"^зарегистрировано\s+3\s+100\.00%", out, re.M), out
    assert "время до итогового исхода (моделируемое)" in out


def test_sandbox_banner_and_busy_port(runner: CliRunner, tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        ru, en = both(runner, ["sandbox", "--port", str(port), "--data-dir", str(tmp_path / "var")])
    assert ru.exit_code == en.exit_code == 1
    assert f"127.0.0.1:{port} (gateway) занят; остановите" in ru.output
    assert f"127.0.0.1:{port} (gateway) is in use; stop what holds it" in english(en)

    from sandbox_proc import running_sandbox

    (tmp_path / "ru").mkdir()
    with running_sandbox(tmp_path / "ru", locale="ru_RU.UTF-8") as sandbox:
        pass
    banner = sandbox.banner
    assert "песочница mse-gateway запущена (Ctrl-C — остановить)" in banner, banner
    for line in ("  шлюз ", "  мониторинг ", "  двойник remd ", "  каталог данных ", "  клиент песочницы "):
        assert line in banner, (line, banner)
    assert re.search(r"^  двойник remd\s+(http://\S+) ", banner, re.M) and f"{sandbox.url}/healthz" in banner
    (tmp_path / "en").mkdir()
    with running_sandbox(tmp_path / "en", locale="en_US.UTF-8") as sandbox:
        pass
    start = sandbox.banner.index("mse-gateway sandbox is running")
    banner = sandbox.banner[start : sandbox.banner.index("Authorization: Bearer")]
    assert not CYRILLIC.search(banner), banner
    assert re.search(r"^  twin remd\s+(http://\S+) ", banner, re.M) and "  monitoring UI " in banner


def test_ops_list_shows_the_outcome_in_the_cli_language(runner: CliRunner, tmp_path: Path) -> None:
    """``ops list --json``'s ``last_message`` is the outcome in the CLI's language when the gateway
    worded it in both (the keys stay as they are)."""
    import asyncio

    from journal.factories import draft

    from gateway.common.secrets import load_or_create_secret
    from gateway.config import load_config
    from gateway.journal.engine import create_engine
    from gateway.journal.store import Changes, Journal
    from gateway.model import State

    data = ["--data-dir", str(tmp_path)]
    assert runner.invoke(main, ["db", "upgrade", *data]).exit_code == 0
    config = load_config(environ={}).with_overrides(storage={"data_dir": str(tmp_path)})

    async def reject() -> None:
        engine = create_engine(config.database_url)
        try:
            journal = Journal(engine, load_or_create_secret(config.secret_key_path))
            sub, _ = await journal.submit(draft("uid-ops-lang"))
            text = {"ru": "Документ не подписан", "en": "The document is not signed"}
            changes = Changes(outcome_code="NO_SIGNATURE", outcome_message=text["ru"], outcome_text=text)
            await journal.transition(sub.id, State.REJECTED, actor="t", code="NO_SIGNATURE", changes=changes)
        finally:
            await engine.dispose()

    asyncio.run(reject())
    ru, en = both(runner, ["ops", "list", "--filter", "state=REJECTED", "--json", *data])
    assert ru.exit_code == en.exit_code == 0, ru.output
    [row_ru] = json.loads(ru.output)["items"]
    [row_en] = json.loads(en.output)["items"]
    assert set(row_ru) == set(row_en) and row_ru["last_code"] == row_en["last_code"] == "NO_SIGNATURE"
    assert (row_ru["last_message"], row_en["last_message"]) == ("Документ не подписан", "The document is not signed")

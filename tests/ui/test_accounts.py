"""Accounts: the `users` CLI, password hashing, the sandbox's demo operator, the catalogue, and the
UI tables against the migrations."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner

import gateway.ui.schema  # noqa: F401  (the UI tables on the shared metadata)
from gateway.cli._common import Context
from gateway.cli.users import users
from gateway.journal.engine import create_engine
from gateway.journal.migrate import compare_options, upgrade
from gateway.journal.schema import metadata
from gateway.ui.demo import ensure_demo_operator_async
from gateway.ui.i18n import CATALOGUE
from gateway.ui.schema import ui_users
from gateway.ui.users import Role, UserStore

from .conftest import make_config


def _cli(tmp_path: Path, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(users, [*args, "--data-dir", str(tmp_path)], input=stdin, obj=Context(None))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_users_cli_add_list_passwd(tmp_path: Path) -> None:
    code, out = _cli(tmp_path, "add", "olga", "--role", "operator", "--password-stdin", stdin="a long password\n")
    assert code == 0, out
    code, out = _cli(tmp_path, "add", "olga", "--password-stdin", stdin="another password\n")
    assert code != 0 and "already exists" in out
    code, out = _cli(tmp_path, "add", "short", "--password-stdin", stdin="short\n")
    assert code != 0 and "at least" in out
    code, out = _cli(tmp_path, "list", "--json")
    assert code == 0
    assert [(u["username"], u["role"]) for u in json.loads(out)] == [("olga", "operator")]
    code, out = _cli(tmp_path, "passwd", "olga", "--password-stdin", stdin="a new long password\n")
    assert code == 0, out
    code, out = _cli(tmp_path, "passwd", "nobody", "--password-stdin", stdin="a new long password\n")
    assert code != 0
    asyncio.run(_check_stored(tmp_path))


async def _check_stored(tmp_path: Path) -> None:
    engine = create_engine(make_config(tmp_path).database_url)
    try:
        store = UserStore(engine)
        assert await store.verify("olga", "a long password") is None
        user = await store.verify("olga", "a new long password")
        assert user is not None and user.role is Role.OPERATOR
        async with engine.connect() as conn:
            stored = (await conn.execute(sa.select(ui_users.c.password_hash))).scalar_one()
        assert stored.startswith("$argon2id$") and "a new long password" not in stored
    finally:
        await engine.dispose()


async def test_demo_operator(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    username, password = await ensure_demo_operator_async(config)
    path = tmp_path / "sandbox-operator.json"
    assert json.loads(path.read_text()) == {"username": username, "password": password, "url": "/ui/login"}
    assert path.stat().st_mode & 0o077 == 0
    again = await ensure_demo_operator_async(config)  # idempotent: same user, new password
    assert again[0] == username and again[1] != password
    engine = create_engine(config.database_url)
    try:
        user = await UserStore(engine).verify(username, again[1])
        assert user is not None and user.role is Role.OPERATOR
    finally:
        await engine.dispose()


def test_catalogue_is_complete() -> None:
    assert CATALOGUE["ru"].keys() == CATALOGUE["en"].keys()
    templates = Path(__file__).resolve().parents[2] / "gateway" / "ui" / "templates"
    import re

    used = set()
    for tpl in templates.glob("*.html"):
        used |= set(re.findall(r't\("([a-z_.]+)"\)', tpl.read_text()))
    assert used and used <= set(CATALOGUE["ru"]), used - set(CATALOGUE["ru"])


def test_every_alert_condition_and_default_rule_has_its_texts() -> None:
    # the alerts page builds these keys at run time ("cond." ~ condition), out of reach of the
    # template scan above: a condition added without its texts showed the bare key
    from typing import get_args

    from gateway.ui.alerts import UNITS
    from gateway.ui.config import AlertRuleConfig, AlertsConfig

    conditions = set(get_args(AlertRuleConfig.model_fields["condition"].annotation))
    assert conditions == set(UNITS)
    for language in ("ru", "en"):
        missing = {f"cond.{c}" for c in conditions} | {f"unit.{u}" for u in UNITS.values()}
        missing |= {f"rule.{r.name}" for r in AlertsConfig().rules}
        assert missing - set(CATALOGUE[language]) == set(), language


async def test_ui_tables_match_the_migration(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'm.sqlite3'}")
    try:
        await upgrade(engine)

        def diff(conn: sa.Connection) -> list[object]:
            ctx = MigrationContext.configure(conn, opts=compare_options(conn.dialect.name))
            return list(compare_metadata(ctx, metadata))

        async with engine.connect() as conn:
            assert await conn.run_sync(diff) == []
        assert {"ui_users", "ui_sessions", "ui_audit", "ui_dispositions", "alert_state"} <= set(metadata.tables)
    finally:
        await engine.dispose()


def test_example_config_validates() -> None:
    import tomllib

    from gateway.ui.config import AlertsConfig, UiConfig

    path = Path(__file__).resolve().parents[2] / "config" / "alerts.example.toml"
    data = tomllib.loads(path.read_text())
    assert UiConfig.model_validate(data["ui"]).metrics_token == ""
    rules = AlertsConfig.model_validate(data["alerts"]).rules
    assert {r.condition for r in rules} == {
        "oldest_unanswered_minutes",
        "dead_items",
        "circuit_open",
        "sla_breaches",
        "flagged",
        "crl_stale",
        "stuck",
        "ksi_overdue",
        "ksi_late_percent",
        "alerting_refusals",
    }

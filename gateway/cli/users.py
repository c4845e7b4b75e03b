"""`users add|passwd|list|role`: local accounts of the monitoring UI."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click

from gateway.cli._common import data_dir_option, load
from gateway.cli.messages import echo, failure, say
from gateway.config import GatewayConfig
from gateway.journal.engine import create_engine
from gateway.journal.migrate import upgrade
from gateway.ui.users import Role, UserExists, UserStore

__all__ = ["users"]

T = TypeVar("T")
_ROLES = click.Choice([r.value for r in Role])


def _run(config: GatewayConfig, action: Callable[[UserStore], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = create_engine(config.database_url)
        try:
            if config.storage.auto_migrate:
                await upgrade(engine)
            return await action(UserStore(engine))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _password(given: str | None) -> str:
    if given is not None:
        return given
    value: str = click.prompt(say("users.prompt"), hide_input=True, confirmation_prompt=say("users.prompt_again"))
    return value


@click.group()
def users() -> None:
    """Manage monitoring UI accounts (roles: viewer, operator, admin)."""


@users.command("add")
@click.argument("username")
@click.option("--role", type=_ROLES, default="viewer", show_default=True, help="What the user may do.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@data_dir_option
@click.pass_context
def add(ctx: click.Context, username: str, role: str, password_stdin: bool, data_dir: Path | None) -> None:
    """Create an account (the password is prompted for, or read with --password-stdin)."""
    config = load(ctx, data_dir=data_dir)
    password = _password(sys.stdin.readline().rstrip("\n") if password_stdin else None)
    try:
        _run(config, lambda store: store.add(username, password, Role(role)))
    except UserExists:
        raise failure("users.exists", name=username) from None
    except ValueError as exc:
        raise _password_refused(exc) from None
    echo("users.created", name=username, role=role)


@users.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@data_dir_option
@click.pass_context
def passwd(ctx: click.Context, username: str, password_stdin: bool, data_dir: Path | None) -> None:
    """Set a new password (ends the user's open sessions)."""
    config = load(ctx, data_dir=data_dir)
    password = _password(sys.stdin.readline().rstrip("\n") if password_stdin else None)
    try:
        found = _run(config, lambda store: store.set_password(username, password))
    except ValueError as exc:
        raise _password_refused(exc) from None
    if not found:
        raise failure("users.unknown", name=username)
    echo("users.password", name=username)


@users.command("role")
@click.argument("username")
@click.argument("role", type=_ROLES)
@data_dir_option
@click.pass_context
def set_role(ctx: click.Context, username: str, role: str, data_dir: Path | None) -> None:
    """Change a user's role."""
    config = load(ctx, data_dir=data_dir)
    if not _run(config, lambda store: store.set_role(username, Role(role))):
        raise failure("users.unknown", name=username)
    echo("users.role", name=username, role=role)


@users.command("disable")
@click.argument("username")
@data_dir_option
@click.pass_context
def disable(ctx: click.Context, username: str, data_dir: Path | None) -> None:
    """Disable an account; its open sessions end at once."""
    config = load(ctx, data_dir=data_dir)
    if not _run(config, lambda store: store.set_disabled(username, True)):
        raise failure("users.unknown", name=username)
    echo("users.disabled", name=username)


@users.command("enable")
@click.argument("username")
@data_dir_option
@click.pass_context
def enable(ctx: click.Context, username: str, data_dir: Path | None) -> None:
    """Enable a disabled account."""
    config = load(ctx, data_dir=data_dir)
    if not _run(config, lambda store: store.set_disabled(username, False)):
        raise failure("users.unknown", name=username)
    echo("users.enabled", name=username)


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@data_dir_option
@click.pass_context
def list_users(ctx: click.Context, as_json: bool, data_dir: Path | None) -> None:
    """List accounts and their roles."""
    config = load(ctx, data_dir=data_dir)
    found = _run(config, lambda store: store.list_users())
    if as_json:
        rows = [
            {
                "username": u.username,
                "role": str(u.role),
                "created_at": u.created_at.isoformat(),
                "disabled": u.disabled,
            }
            for u in found
        ]
        click.echo(json.dumps(rows))
        return
    for u in found:
        suffix = "\t" + say("users.disabled_mark").strip() if u.disabled else ""
        click.echo(f"{u.username}\t{u.role}{suffix}")


def _password_refused(exc: ValueError) -> click.ClickException:
    """The store refuses a short password (the only ValueError it raises): said in the CLI's language."""
    from gateway.ui.users import MIN_PASSWORD_LENGTH

    if "password" in str(exc):
        return failure("users.short_password", n=MIN_PASSWORD_LENGTH)
    return click.ClickException(str(exc))

"""``mse-gateway ops``: the operations console from the command line, on the journal directly.

- ``ops list --filter state=DEAD --filter peer=remd [--json]`` — the list behind ``/ui/list``;
- ``ops resend|resolve|cancel --filter … | --id … --comment "…" [--yes]`` — a bulk action: without
  ``--yes`` only the preview is printed ("37 documents will be resent") and nothing changes;
- ``ops tokens add NAME --role reader|operator`` / ``list`` / ``revoke NAME`` — operator API tokens.

Filters are the list's query parameters (``state``, ``code``, ``mis``, ``region``, ``kind``,
``peer``, ``q``, ``age``, ``from``, ``to``, ``view``, ``category``); repeat ``--filter`` to combine.
Actions are audited under ``cli:<--as>`` (default: the login name), one row per document.
"""

from __future__ import annotations

import asyncio
import getpass
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from multidict import MultiDict

from gateway.api.operator_tokens import OperatorTokenStore, TokenExists, TokenRole
from gateway.cli._common import data_dir_option, load
from gateway.cli.messages import cli_language, echo, failure, say
from gateway.common.secrets import load_or_create_secret
from gateway.config import GatewayConfig
from gateway.errors import ConfigError
from gateway.journal.engine import create_engine
from gateway.journal.migrate import upgrade
from gateway.journal.store import Journal
from gateway.monitoring.stuck import StuckPolicy
from gateway.peers.codes import CodeTable
from gateway.ui import actions, bulk
from gateway.ui.causes import explain
from gateway.ui.lists import COUNT_CAP, MAX_PER_PAGE, ListFilter, fetch_page, row_json
from gateway.ui.queries import read

__all__ = ["ops"]

T = TypeVar("T")


def _run(config: GatewayConfig, work: Callable[[Journal], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = create_engine(config.database_url)
        try:
            if config.storage.auto_migrate:
                await upgrade(engine)
            return await work(Journal(engine, load_or_create_secret(config.secret_key_path)))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _stuck_policy(config: GatewayConfig) -> StuckPolicy:
    """The running gateway's notion of "stuck": configured, usable peers and their thresholds."""
    from gateway.peers.installed import installed_plugins
    from gateway.peers.registry import resolve_peers

    try:
        peers = resolve_peers(config.peers, installed_plugins())
    except ConfigError:
        return StuckPolicy()
    return StuckPolicy({n: p.settings.stuck_after_hours for n, p in peers.items() if p.usable is None})


def _code_tables(config: GatewayConfig) -> dict[str, CodeTable]:
    """The configured peers' code tables, by peer name (none when the peers do not resolve)."""
    from gateway.peers.installed import installed_plugins
    from gateway.peers.registry import resolve_peers

    try:
        peers = resolve_peers(config.peers, installed_plugins())
    except ConfigError:
        return {}
    return {n: p.codes for n, p in peers.items()}


def _filter(pairs: tuple[str, ...], ids: tuple[str, ...], *, page: int = 1, per_page: int = 50) -> ListFilter:
    query: MultiDict[str] = MultiDict()
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(say("ops.bad_filter", pair=repr(pair)), param_hint="--filter")
        for item in value.split(","):
            query.add(key.strip(), item.strip())
    query["page"], query["per_page"] = str(page), str(per_page)
    f = ListFilter.from_query(query)
    return ListFilter(**{**f.__dict__, "ids": tuple(ids)}) if ids else f


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container user without a passwd entry
        return "unknown"


_filter_option = click.option(
    "--filter", "filters", multiple=True, metavar="KEY=VALUE", help="A list filter (repeatable), e.g. state=DEAD."
)


@click.group("ops")
def ops() -> None:
    """Operations: filtered lists and bulk actions on the journal, operator API tokens."""


@ops.command("list")
@_filter_option
@click.option("--page", type=int, default=1, show_default=True)
@click.option("--per-page", type=click.IntRange(1, MAX_PER_PAGE), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--lang",
    type=click.Choice(["ru", "en"]),
    default=None,
    help="Language of the causes' explanations (default: the global --lang, else the locale).",
)
@data_dir_option
@click.pass_context
def list_cmd(
    ctx: click.Context,
    filters: tuple[str, ...],
    page: int,
    per_page: int,
    as_json: bool,
    lang: str | None,
    data_dir: Path | None,
) -> None:
    """List submissions a filter selects, with the total and the causes."""
    language = cli_language(lang)
    config = load(ctx, data_dir=data_dir)
    f = _filter(filters, (), page=page, per_page=per_page)
    policy = _stuck_policy(config)

    async def work(journal: Journal) -> Any:
        async with read(journal.engine) as conn:
            return await fetch_page(conn, f, now=journal.clock.now(), stuck=policy)

    result = _run(config, work)
    tables = _code_tables(config)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "total": result.total,
                    "total_capped": result.capped,
                    "page": f.page,
                    "pages": result.pages,
                    "causes": [
                        {"state": s, "code": c, "count": n, "description": e.description, "action": e.action}
                        for s, c, n in result.causes
                        for e in (explain(c, tables, language),)
                    ],
                    "items": [row_json(r, language) for r in result.rows],
                },
                ensure_ascii=False,
            )
        )
        return
    for r in result.rows:
        click.echo(
            f"{r.id}\t{r.local_uid}\t{r.source_system}\t{r.region or '-'}\t{r.kind}\t{r.destination or '-'}\t"
            f"{r.state}\t{r.attempts}\t{r.outcome_code or '-'}\t{r.updated_at.isoformat()}"
        )
    causes = " + ".join(f"{n} {s}/{c or '-'}" for s, c, n in result.causes)
    total = say("ops.more_than", cap=COUNT_CAP) if result.capped else str(result.total)
    echo("ops.total", total=total, page=f.page, pages=result.pages, causes=f": {causes}" if causes else "")
    for code in dict.fromkeys(c for _, c, _ in result.causes if c):
        e = explain(code, tables, language)
        click.echo(f"  {code}: {e.description or '-'} -> {e.action}")


_VERB = {
    actions.Action.RESEND: "ops.verb.resend",
    actions.Action.RESOLVE: "ops.verb.resolve",
    actions.Action.CANCEL: "ops.verb.cancel",
}


def _action_command(action: actions.Action) -> click.Command:
    @click.command(str(action))
    @_filter_option
    @click.option("--id", "ids", multiple=True, help="A submission id (repeatable); narrows the filter.")
    @click.option("--comment", default=None, help="Why (required to act; kept in every timeline and the audit).")
    @click.option("--yes", is_flag=True, help="Carry it out; without it only the preview is printed.")
    @click.option("--as", "actor", default=None, help="The name the audit trail records (default: login name).")
    @data_dir_option
    @click.pass_context
    def command(
        ctx: click.Context,
        filters: tuple[str, ...],
        ids: tuple[str, ...],
        comment: str | None,
        yes: bool,
        actor: str | None,
        data_dir: Path | None,
    ) -> None:
        if not filters and not ids:
            raise click.UsageError(say("ops.need_filter"))
        config = load(ctx, data_dir=data_dir)
        selection = _filter(filters, ids)
        policy = _stuck_policy(config)
        if yes and not (comment or "").strip():
            raise click.UsageError(say("ops.need_comment"))
        username = f"cli:{actor or _login_name()}"

        async def work(journal: Journal) -> tuple[bulk.Preview, bulk.BulkResult | None]:
            plan = await bulk.preview(journal, action, selection, now=journal.clock.now(), stuck=policy)
            if not yes:
                return plan, None
            done = await bulk.run(journal, action, plan.ids, username=username, comment=(comment or "").strip())
            return plan, done

        plan, done = _run(config, work)
        skipped = ", ".join(f"{n} {s}" for s, n in sorted(plan.not_applicable.items()))
        echo(
            "ops.preview",
            n=plan.applicable,
            verb=say(_VERB[action]),
            matched=plan.matched,
            skipped=say("ops.not_applicable", list=skipped) if skipped else "",
        )
        if plan.truncated:
            echo("ops.too_many", err=True, max=bulk.MAX_BULK)
        if done is None:
            echo("ops.preview_only")
            return
        echo("ops.done", ok=done.ok, refused=done.refused, missing=done.missing)

    command.help = f"{str(action).capitalize()} the submissions a filter or ids select (preview unless --yes)."
    return command


for _action in actions.Action:
    ops.add_command(_action_command(_action))


@ops.group("tokens")
def tokens() -> None:
    """Operator API tokens (reader: list and preview; operator: also act)."""


@tokens.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice([r.value for r in TokenRole]), default="reader", show_default=True)
@data_dir_option
@click.pass_context
def token_add(ctx: click.Context, name: str, role: str, data_dir: Path | None) -> None:
    """Issue a token; it is printed once and only its digest is stored."""
    config = load(ctx, data_dir=data_dir)
    try:
        token = _run(config, lambda j: OperatorTokenStore(j.engine).add(name, TokenRole(role)))
    except TokenExists:
        raise failure("ops.token_exists", name=repr(name)) from None
    click.echo(token)


@tokens.command("list")
@data_dir_option
@click.pass_context
def token_list(ctx: click.Context, data_dir: Path | None) -> None:
    """Tokens, their roles and whether they are revoked."""
    config = load(ctx, data_dir=data_dir)
    for row in _run(config, lambda j: OperatorTokenStore(j.engine).list()):
        state = say("ops.token_live") if row["revoked_at"] is None else say("ops.token_revoked_state")
        click.echo(f"{row['name']}\t{row['role']}\t{state}")


@tokens.command("revoke")
@click.argument("name")
@data_dir_option
@click.pass_context
def token_revoke(ctx: click.Context, name: str, data_dir: Path | None) -> None:
    """Revoke a token at once."""
    config = load(ctx, data_dir=data_dir)
    if not _run(config, lambda j: OperatorTokenStore(j.engine).revoke(name)):
        raise failure("ops.no_token", name=name)
    echo("ops.token_revoked", name=name)

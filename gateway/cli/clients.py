"""`clients add|list|revoke|callback-hosts`: who may hand documents to the gateway, and where the
gateway may call them back."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import click

from gateway.cli._common import data_dir_option, load
from gateway.cli.messages import echo, failure, say
from gateway.errors import GatewayError, NotFound
from gateway.intake.clients import ClientExists
from gateway.intake.opening import open_store

__all__ = ["clients"]


def _failure(exc: GatewayError, name: str) -> click.ClickException:
    """The registry's refusal in the CLI's language (its own message, English, for anything else)."""
    if isinstance(exc, ClientExists):
        return failure("clients.exists", name=repr(name))
    if isinstance(exc, NotFound):
        return failure("clients.unknown", name=repr(name))
    return click.ClickException(exc.message)


@click.group()
def clients() -> None:
    """Manage API clients (MIS, regional GIS): tokens and the organisations they may submit for."""


@clients.command("add")
@click.argument("source_system")
@click.option(
    "--org",
    "orgs",
    multiple=True,
    required=True,
    help="Organisation OID this client may submit for (repeat; '*' for any, e.g. a regional GIS).",
)
@click.option("--soap-entity-id", default=None, help="REMD clientEntityId the client uses on the SOAP front door.")
@click.option(
    "--callback-host",
    "callback_hosts",
    multiple=True,
    help="Host the client may name as callback_url / wsa:ReplyTo (repeat; '*.example.org' for its subdomains).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@data_dir_option
@click.pass_context
def add(
    ctx: click.Context,
    source_system: str,
    orgs: tuple[str, ...],
    soap_entity_id: str | None,
    callback_hosts: tuple[str, ...],
    as_json: bool,
    data_dir: Path | None,
) -> None:
    """Create a client and print its token (shown only once)."""
    config = load(ctx, data_dir=data_dir)

    async def run() -> tuple[str, str]:
        async with open_store(config) as (_, registry):
            client, token = await registry.add(
                source_system, orgs, soap_client_entity_id=soap_entity_id, callback_hosts=callback_hosts
            )
            return client.id, token

    try:
        cid, token = asyncio.run(run())
    except GatewayError as exc:
        raise _failure(exc, source_system) from None
    if as_json:
        click.echo(
            json.dumps(
                {
                    "id": cid,
                    "source_system": source_system,
                    "token": token,
                    "organization_oids": orgs,
                    "callback_hosts": sorted(callback_hosts),
                }
            )
        )
    else:
        echo("clients.created", name=source_system, token=token)


@clients.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@data_dir_option
@click.pass_context
def list_(ctx: click.Context, as_json: bool, data_dir: Path | None) -> None:
    """List clients (tokens are never shown)."""
    config = load(ctx, data_dir=data_dir)

    async def run() -> list[dict[str, object]]:
        async with open_store(config) as (_, registry):
            return [
                {
                    "source_system": c.source_system,
                    "organization_oids": list(c.organization_oids),
                    "soap_client_entity_id": c.soap_client_entity_id,
                    "callback_hosts": list(c.callback_hosts),
                    "created_at": c.created_at.isoformat(),
                    "revoked_at": c.revoked_at.isoformat() if c.revoked_at else None,
                }
                for c in await registry.list()
            ]

    rows = asyncio.run(run())
    if as_json:
        click.echo(json.dumps(rows))
        return
    for r in rows:
        status = say("clients.revoked_state") if r["revoked_at"] else say("clients.active")
        orgs = ", ".join(r["organization_oids"])  # type: ignore[arg-type]
        click.echo(f"{r['source_system']:<30} {status:<8} {orgs}")


@clients.command("revoke")
@click.argument("source_system")
@data_dir_option
@click.pass_context
def revoke(ctx: click.Context, source_system: str, data_dir: Path | None) -> None:
    """Revoke a client's token at once."""
    config = load(ctx, data_dir=data_dir)

    async def run() -> None:
        async with open_store(config) as (_, registry):
            await registry.revoke(source_system)

    try:
        asyncio.run(run())
    except GatewayError as exc:
        raise _failure(exc, source_system) from None
    echo("clients.revoked", name=source_system)


@clients.command("callback-hosts")
@click.argument("source_system")
@click.option("--host", "hosts", multiple=True, help="Host allowed as callback address (repeat); none: clear the list.")
@data_dir_option
@click.pass_context
def callback_hosts_(ctx: click.Context, source_system: str, hosts: tuple[str, ...], data_dir: Path | None) -> None:
    """Replace the hosts a client may name as its callback address (effective at once)."""
    config = load(ctx, data_dir=data_dir)

    async def run() -> tuple[str, ...]:
        async with open_store(config) as (_, registry):
            return (await registry.set_callback_hosts(source_system, hosts)).callback_hosts

    try:
        now = asyncio.run(run())
    except GatewayError as exc:
        raise _failure(exc, source_system) from None
    echo("clients.callbacks", name=source_system, hosts=", ".join(now) or say("none"))

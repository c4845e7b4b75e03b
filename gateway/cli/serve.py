"""`serve` (the gateway alone) and `sandbox` (the gateway with its simulated peers)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from gateway.app import create_app
from gateway.cli._common import data_dir_option, load
from gateway.runner import Served, serve_apps
from gateway.sandbox import prepare_sandbox_client

__all__ = ["sandbox", "serve"]


@click.command()
@click.option("--host", default=None, help="Address to listen on (default from config: 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port to listen on (default from config: 8080).")
@data_dir_option
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, data_dir: Path | None) -> None:
    """Run the gateway in the foreground until Ctrl-C / SIGTERM."""
    config = load(ctx, data_dir=data_dir, host=host, port=port)
    app = create_app(config)
    asyncio.run(
        serve_apps(
            [Served("gateway", app, config.server.host, config.server.port)],
            shutdown_timeout=config.server.shutdown_grace_seconds,
        )
    )


@click.command()
@click.option("--port", type=int, default=None, help="Gateway port (default 8080); peers take the next free ports.")
@data_dir_option
@click.pass_context
def sandbox(ctx: click.Context, port: int | None, data_dir: Path | None) -> None:
    """Run the gateway and its sandbox peers on the embedded SQLite journal, print their URLs,
    and stay in the foreground until Ctrl-C."""
    config = load(ctx, data_dir=data_dir, port=port)
    client = asyncio.run(prepare_sandbox_client(config))
    served = [Served("gateway", create_app(config), config.server.host, config.server.port)]

    def started(urls: dict[str, str]) -> None:
        base = urls["gateway"]
        click.echo("mse-gateway sandbox is running (Ctrl-C to stop)")
        click.echo(f"  gateway        {base}/")
        click.echo(f"  health         {base}/healthz")
        click.echo(f"  readiness      {base}/readyz")
        for name, url in urls.items():
            if name != "gateway":
                click.echo(f"  {name:<14} {url}/")
        click.echo(f"  API docs       {base}/api/v1/docs")
        click.echo(f"  data directory {config.data_dir.resolve()}")
        click.echo(f"  sandbox client {client.source_system}, token in {client.path}")
        click.echo(f"                 Authorization: Bearer {client.token}")

    asyncio.run(serve_apps(served, shutdown_timeout=config.server.shutdown_grace_seconds, on_started=started))

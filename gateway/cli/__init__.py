"""The `mse-gateway` command line. Each command lives in its own module; this one assembles them."""

from __future__ import annotations

from pathlib import Path

import click

from gateway import __version__
from gateway.cli._common import Context
from gateway.cli.clients import clients
from gateway.cli.db import db, status
from gateway.cli.documents import documents
from gateway.cli.serve import sandbox, serve

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="mse-gateway")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="TOML configuration (default: config/gateway.toml if present, else built-in sandbox defaults).",
)
@click.pass_context
def main(ctx: click.Context, config_path: Path | None) -> None:
    """mse-gateway: verifies, checks, delivers and reconciles medico-social expertise documents."""
    ctx.obj = Context(config_path=config_path)


for command in (serve, sandbox, db, status, clients, documents):
    main.add_command(command)

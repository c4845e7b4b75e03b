"""Shared plumbing for CLI commands: loading configuration once, with flag overrides."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from gateway.common.language import Language
from gateway.common.logs import configure_logging
from gateway.config import GatewayConfig, load_config
from gateway.errors import ConfigError

__all__ = ["Context", "data_dir_option", "load"]


@dataclass
class Context:
    config_path: Path | None
    lang: Language | None = None  # the global --lang; None: the locale decides (gateway/cli/messages.py)


def load(ctx: click.Context, *, data_dir: Path | None = None, **server: Any) -> GatewayConfig:
    """The validated configuration with CLI overrides applied; a bad configuration ends the
    process with exit code 2 and a message naming the key."""
    obj: Context = ctx.find_object(Context) or Context(None)
    try:
        config = load_config(obj.config_path)
        config = config.with_overrides(
            server=server, storage={"data_dir": str(data_dir) if data_dir is not None else None}
        )
    except ConfigError as exc:
        from gateway.cli.messages import echo, say  # messages needs Context from here

        echo("error", err=True, message=say("config_invalid", detail=exc.message))
        ctx.exit(2)
    configure_logging(config.logging.level, config.logging.format)
    return config


def data_dir_option(func: Any) -> Any:
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Where the SQLite journal, generated keys and tokens live (default: ./var).",
    )(func)

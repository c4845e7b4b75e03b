"""The `mse-gateway` command line. Each command lives in its own module; this one assembles them.

Commands are imported under ``*_cmd`` aliases so that a command named like its module (``certs``
in ``gateway/cli/certs.py``) does not shadow the module attribute of this package.
"""

from __future__ import annotations

from pathlib import Path

import click

from gateway import __version__
from gateway.cli._common import Context
from gateway.cli.archive import archive as archive_cmd
from gateway.cli.bench import bench as bench_cmd
from gateway.cli.certs import certs as certs_cmd
from gateway.cli.checking import check as check_cmd
from gateway.cli.checking import samples as samples_cmd
from gateway.cli.clients import clients as clients_cmd
from gateway.cli.crypto_doctor import doctor as doctor_cmd
from gateway.cli.db import db as db_cmd
from gateway.cli.db import status as status_cmd
from gateway.cli.documents import documents as documents_cmd
from gateway.cli.envelope import envelope as envelope_cmd
from gateway.cli.messages import LANG_OPTION_HELP, echo, say
from gateway.cli.ops import ops as ops_cmd
from gateway.cli.purge import purge as purge_cmd
from gateway.cli.requests import requests as requests_cmd
from gateway.cli.serve import sandbox as sandbox_cmd
from gateway.cli.serve import serve as serve_cmd
from gateway.cli.signing import sign as sign_cmd
from gateway.cli.signing import verify as verify_cmd
from gateway.cli.simulate import simulate as simulate_cmd
from gateway.cli.users import users as users_cmd
from gateway.common.language import Language

__all__ = ["main"]


class _Main(click.Group):
    """The command group; a journal database that cannot be reached or used (refused connection,
    unknown host, database or role, wrong password) ends any command with exit 1 and one line in
    the CLI's language instead of a traceback. Other database errors still show in full."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            if not _unreachable(exc):
                raise
            detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            echo("error", err=True, message=say("connection_failed", detail=detail, url=_journal_url(ctx)))
            ctx.exit(1)


def _unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database could not be connected to, rather than what a query did."""
    import socket

    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, ConnectionError | socket.gaierror):  # asyncpg raises these unwrapped
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if "unable to open database file" in str(exc.orig):  # SQLite: the file's directory is not there
        return True
    try:
        from asyncpg import exceptions as pg
    except ImportError:  # pragma: no cover - asyncpg is a dependency
        return False
    refused = (pg.InvalidCatalogNameError, pg.InvalidAuthorizationSpecificationError, pg.CannotConnectNowError,
               pg.TooManyConnectionsError, pg.PostgresConnectionError, ConnectionError)  # fmt: skip
    cause: BaseException | None = exc.orig
    while cause is not None:
        if isinstance(cause, refused):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _journal_url(ctx: click.Context) -> str:
    """The configured journal's URL without its password ("?" when the configuration does not load)."""
    from sqlalchemy.engine import make_url

    from gateway.config import load_config
    from gateway.errors import ConfigError

    obj = ctx.find_object(Context)
    try:
        url = load_config(obj.config_path if obj else None).database_url
        return make_url(url).render_as_string(hide_password=True)
    except (ConfigError, ValueError):
        return "?"


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="mse-gateway")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="TOML configuration (default: config/gateway.toml if present, else built-in sandbox defaults).",
)
@click.option("--lang", type=click.Choice(["ru", "en"]), default=None, help=LANG_OPTION_HELP)
@click.pass_context
def main(ctx: click.Context, config_path: Path | None, lang: Language | None) -> None:
    """mse-gateway: verifies, checks, delivers and reconciles medico-social expertise documents."""
    ctx.obj = Context(config_path=config_path, lang=lang)


for command in (
    serve_cmd,
    sandbox_cmd,
    db_cmd,
    status_cmd,
    clients_cmd,
    documents_cmd,
    doctor_cmd,
    sign_cmd,
    verify_cmd,
    certs_cmd,
    bench_cmd,
    samples_cmd,
    check_cmd,
    simulate_cmd,
    users_cmd,
    envelope_cmd,
    ops_cmd,
    purge_cmd,
    archive_cmd,
    requests_cmd,
):
    main.add_command(command)

"""`serve` (the gateway alone) and `sandbox` (the gateway with its simulated peers)."""

from __future__ import annotations

import asyncio
import contextlib
import errno
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import click
from aiohttp import web

from gateway.app import create_app
from gateway.cli._common import data_dir_option, load
from gateway.cli.runner import Served, serve_apps
from gateway.common.clock import Clock, SimulatedClock, SystemClock
from gateway.common.instance_lock import DataDirLocked, InstanceLock
from gateway.common.logs import get_logger
from gateway.config import GatewayConfig
from gateway.errors import ConfigError
from gateway.flk.revocation_policy import check_revocation_at_start
from gateway.peers.installed import installed_plugins
from gateway.peers.registry import resolve_peers, unauthenticated_peers
from gateway.sandbox.setup import prepare_sandbox, sandbox_defaults
from gateway.sandbox.twins import free_port, plan_twins
from gateway.ui.demo import ensure_demo_operator

__all__ = ["sandbox", "serve"]

_log = get_logger(__name__)


@click.command()
@click.option("--host", default=None, help="Address to listen on (default from config: 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port to listen on (default from config: 8080).")
@click.option(
    "--reuse-port",
    is_flag=True,
    default=None,
    help="Share the port with other gateway processes (SO_REUSEPORT), e.g. one per core on PostgreSQL.",
)
@data_dir_option
@click.pass_context
def serve(
    ctx: click.Context, host: str | None, port: int | None, reuse_port: bool | None, data_dir: Path | None
) -> None:
    """Run the gateway in the foreground until Ctrl-C / SIGTERM."""
    config = load(ctx, data_dir=data_dir, host=host, port=port, reuse_port=reuse_port)
    clock = sandbox_clock(config)
    # What is wrong in the configuration first (peers, routes), then what production requires.
    app = build_app(config, clock)
    try:
        check_revocation_at_start(config)
    except ConfigError as exc:
        raise click.ClickException(exc.message) from None
    if config.server.reuse_port and not config.storage.database_url:
        _log.warning("reuse_port with the SQLite journal: no other process may use this data directory")
    refuse_unauthenticated_peers(config)
    with data_dir_lock(config):
        run_served(
            [Served("gateway", app, config.server.host, config.server.port, config.server.reuse_port)],
            shutdown_timeout=config.server.shutdown_grace_seconds,
        )


@contextlib.contextmanager
def data_dir_lock(config: GatewayConfig) -> Iterator[None]:
    """Hold the data directory's instance lock while serving on SQLite (a PostgreSQL journal may
    be shared by several processes). A directory held by a live process ends this one with exit 1
    and a line naming the holder's pid."""
    if config.storage.database_url:
        yield
        return
    lock = InstanceLock(config.data_dir)
    try:
        lock.acquire()
    except DataDirLocked as exc:
        click.echo(f"mse-gateway: {exc}", err=True)
        raise SystemExit(1) from None
    try:
        yield
    finally:
        lock.release()


def run_served(
    served: Sequence[Served],
    *,
    shutdown_timeout: float,
    on_started: Callable[[dict[str, str]], None] | None = None,
) -> None:
    """Serve until a signal; a port that cannot be bound ends the process with exit 1 and a line
    saying which (an explicit port is never silently replaced by another)."""
    try:
        asyncio.run(serve_apps(served, shutdown_timeout=shutdown_timeout, on_started=on_started))
    except OSError as exc:
        if exc.errno not in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise
        # asyncio names the address: "error while attempting to bind on address ('h', p): ..."
        which = next((s for s in served if f", {s.port})" in str(exc)), served[0])
        reason = {errno.EADDRINUSE: "is in use", errno.EACCES: "is not permitted"}.get(
            exc.errno or 0, "cannot be bound"
        )
        click.echo(
            f"mse-gateway: {which.host}:{which.port} ({which.name}) {reason}; "
            f"stop what holds it or choose another --port",
            err=True,
        )
        raise SystemExit(1) from None


def sandbox_clock(config: GatewayConfig) -> Clock:
    """Real time unless the sandbox runs a simulated clock; processes given the same epoch and
    speed (GATEWAY_SANDBOX__CLOCK_SPEED / __CLOCK_EPOCH) agree on the simulated time."""
    sb = config.sandbox
    if sb.clock_speed == 1.0 and not sb.clock_epoch:
        return SystemClock()
    return SimulatedClock(sb.clock_speed, real_epoch=sb.clock_epoch or None)


def refuse_unauthenticated_peers(config: GatewayConfig) -> None:
    """Outside the sandbox, every peer's endpoints must authenticate their callers (or say
    explicitly that they need not): a forged callback must not be able to mark an undelivered
    document as registered."""
    try:
        names = unauthenticated_peers(resolve_peers(config.peers, installed_plugins()))
    except ConfigError as exc:
        click.echo(f"mse-gateway: {exc.message}", err=True)
        raise SystemExit(2) from None
    for name in names:
        click.echo(
            f"mse-gateway: peers.{name}.auth: the endpoints of peer {name!r} would accept anyone's calls; "
            f"configure allow_addresses, client_cert_fingerprints or signer_certificates, "
            f"or set peers.{name}.auth.allow_unauthenticated = true (docs/security.md)",
            err=True,
        )
    if names:
        raise SystemExit(2)


def build_app(config: GatewayConfig, clock: Clock) -> web.Application:
    """The app, or exit 2 with one line naming what is wrong (an unknown protocol, a route to a
    peer that is not configured, a malformed code table)."""
    try:
        return create_app(config, clock=clock)
    except ConfigError as exc:
        click.echo(f"mse-gateway: {exc.message}", err=True)
        raise SystemExit(2) from None


@click.command()
@click.option("--port", type=int, default=None, help="Gateway port (default 8080); twins take the next free ports.")
@click.option("--profile", default=None, help="Twins' fault profile (none, flaky, egisz-2023 or a TOML path).")
@click.option("--speed", type=float, default=None, help="Simulated clock speed (simulated seconds per second).")
@data_dir_option
@click.pass_context
def sandbox(
    ctx: click.Context, port: int | None, profile: str | None, speed: float | None, data_dir: Path | None
) -> None:
    """Run the gateway and a sandbox twin for every configured peer without a URL (by default REMD
    and the regional GIS relay gis-77), print their URLs, and stay in the foreground until Ctrl-C."""
    config = sandbox_defaults(load(ctx, data_dir=data_dir, port=port))
    host = config.server.host
    # An explicit --port is the port or an error; the default moves aside (and says so) so that a
    # second sandbox on its own --data-dir can start beside the first.
    wanted = config.server.port
    gw_port = wanted if port is not None else free_port(host, wanted)
    moved = port is None and gw_port != wanted
    if port is not None and free_port(host, port) != port:  # before anything is written to the data dir
        click.echo(
            f"mse-gateway: {host}:{port} (gateway) is in use; stop what holds it or choose another --port", err=True
        )
        raise SystemExit(1)
    with data_dir_lock(config):  # before anything is written to the data directory
        config = config.with_overrides(
            server={"port": gw_port, "public_url": config.server.public_url or f"http://{host}:{gw_port}"},
            sandbox={"clock_speed": speed, "fault_profile": profile},
        )
        clock = sandbox_clock(config)
        try:
            config, twins = plan_twins(config, clock, host=host, first_port=config.sandbox.twin_port or gw_port + 1)
        except ConfigError as exc:
            click.echo(f"mse-gateway: {exc.message}", err=True)
            raise SystemExit(2) from None
        config = config.with_overrides(sandbox={"vendor_page": True, "twins": {twin.name: twin.url for twin in twins}})
        config, client, signers = asyncio.run(prepare_sandbox(config))
        operator, _password = ensure_demo_operator(config)
        served = [Served("gateway", build_app(config, clock), host, gw_port)]
        served += [Served(f"twin:{twin.name}", twin.app, host, twin.port) for twin in twins]

        def started(urls: dict[str, str]) -> None:
            base = urls["gateway"]
            click.echo("mse-gateway sandbox is running (Ctrl-C to stop)")
            click.echo(f"  gateway        {base}/")
            if moved:
                click.echo(f"                 (port {wanted} was busy; pass --port to insist on one)")
            click.echo(f"  health         {base}/healthz")
            click.echo(f"  readiness      {base}/readyz")
            click.echo(f"  API docs       {base}/api/v1/docs")
            click.echo(
                f"  monitoring UI  {base}/ui/  "
                f"(user {operator}, password in {config.data_dir / 'sandbox-operator.json'})"
            )
            click.echo(f"  metrics        {base}/metrics")
            click.echo(f"  vendor page    {base}/ui/sandbox  (check a submission, test keys, your submissions)")
            for name, settings in config.peers.items():
                if settings.get("front_door", True) and settings.get("enabled", True):
                    click.echo(f"  SOAP front door {base}/{name}/service  (SOAP 1.2; WSDL {base}/{name}/service?wsdl)")
                    click.echo(
                        f"                 clientEntityId {client.client_entity_id} in egis:transportHeader/authInfo, "
                        f"header X-MSE-Token: <the token below>"
                    )
            for twin in twins:
                twin_url = urls[f"twin:{twin.name}"]
                click.echo(f"  twin {twin.name:<9} {twin_url} ({twin.protocol}, profile {twin.fault_profile})")
                click.echo(f"                 calls back {base}/{twin.name}/callback, stats {twin_url}/_sandbox/stats")
            if config.routing.routes_file:
                click.echo(f"  routes         {config.routing.routes_file}")
            if not isinstance(clock, SystemClock):
                click.echo(f"  clock          simulated, x{config.sandbox.clock_speed:g}")
            click.echo(f"  data directory {config.data_dir.resolve()}")
            click.echo(f"  test PKI       {signers.directory} (trusted; sign with `mse-gateway samples`)")
            click.echo(f"  sandbox client {client.source_system}, token in {client.path}")
            click.echo(f"                 Authorization: Bearer {client.token}")

        run_served(served, shutdown_timeout=config.server.shutdown_grace_seconds, on_started=started)

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
from gateway.cli.messages import echo, say
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
        who = say("serve.process", pid=exc.holder) if exc.holder else say("serve.another_process")
        locked = say("serve.locked", directory=exc.path.parent, who=who, lock=exc.path)
        echo("error", err=True, message=locked)
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
        reason = say(
            {errno.EADDRINUSE: "serve.in_use", errno.EACCES: "serve.not_permitted"}.get(
                exc.errno or 0, "serve.unbindable"
            )
        )
        bind = say("serve.bind", host=which.host, port=which.port, name=which.name, reason=reason)
        echo("error", err=True, message=bind)
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
        echo("error", err=True, message=exc.message)
        raise SystemExit(2) from None
    for name in names:
        echo("error", err=True, message=say("serve.unauthenticated", name=name, quoted=repr(name)))
    if names:
        raise SystemExit(2)


def build_app(config: GatewayConfig, clock: Clock) -> web.Application:
    """The app, or exit 2 with one line naming what is wrong (an unknown protocol, a route to a
    peer that is not configured, a malformed code table)."""
    try:
        return create_app(config, clock=clock)
    except ConfigError as exc:
        echo("error", err=True, message=exc.message)
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
        bind = say("serve.bind", host=host, port=port, name="gateway", reason=say("serve.in_use"))
        echo("error", err=True, message=bind)
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
            echo("error", err=True, message=exc.message)
            raise SystemExit(2) from None
        config = config.with_overrides(sandbox={"vendor_page": True, "twins": {twin.name: twin.url for twin in twins}})
        config, client, signers = asyncio.run(prepare_sandbox(config))
        operator, _password = ensure_demo_operator(config)
        served = [Served("gateway", build_app(config, clock), host, gw_port)]
        served += [Served(f"twin:{twin.name}", twin.app, host, twin.port) for twin in twins]

        def started(urls: dict[str, str]) -> None:
            base = urls["gateway"]
            # (label, value) rows; a None label continues the row above. The labels' column is as
            # wide as the longest label in the reader's language.
            rows: list[tuple[str | None, str]] = [(say("sb.gateway"), f"{base}/")]
            if moved:
                rows.append((None, say("sb.moved", port=wanted)))
            rows += [
                (say("sb.health"), f"{base}/healthz"),
                (say("sb.readiness"), f"{base}/readyz"),
                (say("sb.api_docs"), f"{base}/api/v1/docs"),
                (say("sb.ui"), say("sb.ui_value", url=f"{base}/ui/", user=operator,
                                   path=config.data_dir / "sandbox-operator.json")),
                (say("sb.metrics"), f"{base}/metrics"),
                (say("sb.vendor"), say("sb.vendor_value", url=f"{base}/ui/sandbox")),
            ]  # fmt: skip
            for name, settings in config.peers.items():
                if settings.get("front_door", True) and settings.get("enabled", True):
                    service = f"{base}/{name}/service"
                    rows.append((say("sb.soap"), say("sb.soap_value", url=service, wsdl=f"{service}?wsdl")))
                    rows.append((None, say("sb.soap_auth", entity=client.client_entity_id)))
            for twin in twins:
                twin_url = urls[f"twin:{twin.name}"]
                value = say("sb.twin_value", url=twin_url, protocol=twin.protocol, profile=twin.fault_profile)
                rows.append((say("sb.twin", name=twin.name), value))
                calls = say(
                    "sb.twin_calls", callback=f"{base}/{twin.name}/callback", stats=f"{twin_url}/_sandbox/stats"
                )
                rows.append((None, calls))
            if config.routing.routes_file:
                rows.append((say("sb.routes"), str(config.routing.routes_file)))
            if not isinstance(clock, SystemClock):
                rows.append((say("sb.clock"), say("sb.clock_value", speed=f"{config.sandbox.clock_speed:g}")))
            rows.append((say("sb.data_dir"), str(config.data_dir.resolve())))
            rows.append((say("sb.pki"), say("sb.pki_value", path=signers.directory)))
            rows.append((say("sb.client"), say("sb.client_value", name=client.source_system, path=client.path)))
            rows.append((None, f"Authorization: Bearer {client.token}"))
            width = max(14, *(len(label) for label, _ in rows if label is not None))
            click.echo(say("sb.running"))
            for label, value in rows:
                click.echo(f"  {label or '':<{width}} {value}")

        run_served(served, shutdown_timeout=config.server.shutdown_grace_seconds, on_started=started)

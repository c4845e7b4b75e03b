"""`serve` (the gateway alone) and `sandbox` (the gateway with its simulated peers)."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import click

from gateway.app import create_app
from gateway.cli._common import data_dir_option, load
from gateway.clock import Clock, SimulatedClock, SystemClock
from gateway.config import GatewayConfig
from gateway.errors import ConfigError
from gateway.logs import get_logger
from gateway.revocation_policy import check_revocation_at_start
from gateway.runner import Served, serve_apps
from gateway.sandbox import prepare_sandbox
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
    try:
        check_revocation_at_start(config)
    except ConfigError as exc:
        raise click.ClickException(exc.message) from None
    if config.server.reuse_port and not config.storage.database_url:
        _log.warning("reuse_port with the SQLite journal: processes will take turns on one write lock")
    clock = sandbox_clock(config)
    app = create_app(config, clock=clock)
    asyncio.run(
        serve_apps(
            [Served("gateway", app, config.server.host, config.server.port, config.server.reuse_port)],
            shutdown_timeout=config.server.shutdown_grace_seconds,
        )
    )


def sandbox_clock(config: GatewayConfig) -> Clock:
    """Real time unless the sandbox runs a simulated clock; processes given the same epoch and
    speed (GATEWAY_SANDBOX__CLOCK_SPEED / __CLOCK_EPOCH) agree on the simulated time."""
    sb = config.sandbox
    if sb.clock_speed == 1.0 and not sb.clock_epoch:
        return SystemClock()
    return SimulatedClock(sb.clock_speed, real_epoch=sb.clock_epoch or None)


def free_port(host: str, preferred: int) -> int:
    """``preferred`` if it can be bound, else any free port."""
    for candidate in (preferred, 0):
        with socket.socket() as s:
            try:
                s.bind((host, candidate))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise click.ClickException("no free port")


@click.command()
@click.option("--port", type=int, default=None, help="Gateway port (default 8080); peers take the next free ports.")
@click.option("--profile", default=None, help="REMD twin fault profile (none, flaky, egisz-2023 or a TOML path).")
@click.option("--speed", type=float, default=None, help="Simulated clock speed (simulated seconds per second).")
@data_dir_option
@click.pass_context
def sandbox(
    ctx: click.Context, port: int | None, profile: str | None, speed: float | None, data_dir: Path | None
) -> None:
    """Run the gateway and its sandbox peers (the REMD twin) on the embedded SQLite journal, print
    their URLs, and stay in the foreground until Ctrl-C."""
    from adapters.remd.sandbox import FaultProfile, create_twin

    config = load(ctx, data_dir=data_dir, port=port)
    host = config.server.host
    gw_port = free_port(host, config.server.port)
    remd_port = free_port(host, config.sandbox.remd_port or gw_port + 1)
    remd_url = f"http://{host}:{remd_port}"
    config = config.with_overrides(
        server={"port": gw_port},
        sandbox={"clock_speed": speed, "remd_fault_profile": profile},
        peers={"remd": {"url": config.peers.remd.url or remd_url, "public_url": f"http://{host}:{gw_port}"}},
    )
    clock = sandbox_clock(config)
    fault_profile = FaultProfile.load(config.sandbox.remd_fault_profile)
    config, client, signers = asyncio.run(prepare_sandbox(config))
    operator, _password = ensure_demo_operator(config)
    served = [
        Served("gateway", create_app(config, clock=clock), host, gw_port),
        Served("remd-twin", create_twin(fault_profile, clock), host, remd_port),
    ]

    def started(urls: dict[str, str]) -> None:
        base = urls["gateway"]
        click.echo("mse-gateway sandbox is running (Ctrl-C to stop)")
        click.echo(f"  gateway        {base}/")
        click.echo(f"  health         {base}/healthz")
        click.echo(f"  readiness      {base}/readyz")
        click.echo(f"  API docs       {base}/api/v1/docs")
        click.echo(
            f"  monitoring UI  {base}/ui/  (user {operator}, password in {config.data_dir / 'sandbox-operator.json'})"
        )
        click.echo(f"  metrics        {base}/metrics")
        click.echo(f"  REMD front door {base}/remd/service (SOAP 1.2, clientEntityId + X-MSE-Token)")
        twin = urls["remd-twin"]
        click.echo(f"  REMD twin      {twin}/remd/service (profile {fault_profile.name}; {twin}/_sandbox/stats)")
        if not isinstance(clock, SystemClock):
            click.echo(f"  clock          simulated, x{config.sandbox.clock_speed:g}")
        click.echo(f"  data directory {config.data_dir.resolve()}")
        click.echo(f"  test PKI       {signers.directory} (trusted; sign with `mse-gateway samples`)")
        click.echo(f"  sandbox client {client.source_system}, token in {client.path}")
        click.echo(f"                 Authorization: Bearer {client.token}")

    asyncio.run(serve_apps(served, shutdown_timeout=config.server.shutdown_grace_seconds, on_started=started))

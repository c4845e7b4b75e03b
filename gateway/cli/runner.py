"""Run one or more aiohttp applications in the foreground until SIGINT/SIGTERM, then stop them
cleanly (in reverse order, each finishing in-flight work within the grace period)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aiohttp import web

from gateway.common.logs import get_logger

__all__ = ["Served", "serve_apps"]

_log = get_logger(__name__)


@dataclass(frozen=True)
class Served:
    name: str
    app: web.Application
    host: str
    port: int
    reuse_port: bool = False


async def serve_apps(
    apps: Sequence[Served],
    *,
    shutdown_timeout: float = 10.0,
    on_started: Callable[[dict[str, str]], None] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Start every app, call ``on_started`` with ``{name: base_url}``, wait for a signal (or
    ``stop``), then clean up. Ports of 0 are resolved to the ports actually bound."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runners: list[web.AppRunner] = []
    urls: dict[str, str] = {}
    try:
        for served in apps:
            runner = web.AppRunner(served.app, shutdown_timeout=shutdown_timeout, handle_signals=False)
            await runner.setup()
            runners.append(runner)
            site = web.TCPSite(runner, served.host, served.port, reuse_port=served.reuse_port or None)
            await site.start()
            host, port = runner.addresses[0][:2]
            urls[served.name] = f"http://{host}:{port}"
            _log.info("listening", app=served.name, url=urls[served.name])
        if on_started is not None:
            on_started(urls)
        await stop.wait()
        _log.info("stopping")
    finally:
        for runner in reversed(runners):
            await runner.cleanup()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)

"""The aiohttp application factory. Tests, `serve` and `sandbox` all build the app here."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Middleware

from gateway import __version__
from gateway.clock import Clock, SystemClock
from gateway.config import GatewayConfig
from gateway.errors import GatewayError
from gateway.journal.engine import create_engine
from gateway.journal.migrate import current_revision, head_revision, upgrade
from gateway.journal.store import Journal
from gateway.logs import bind_ids, get_logger
from gateway.secrets import load_or_create_secret

__all__ = [
    "CLOCK_KEY",
    "CONFIG_KEY",
    "JOURNAL_KEY",
    "create_app",
    "error_middleware",
    "request_id_middleware",
]

CONFIG_KEY: Final = web.AppKey("config", GatewayConfig)
JOURNAL_KEY: Final = web.AppKey("journal", Journal)
CLOCK_KEY: Final = web.AppKey("clock", Clock)

_log: Final = get_logger(__name__)
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def request_id_middleware(*, header: str = "X-Request-ID") -> Middleware:
    """Bind a request id to every log line of the request and echo it back. A caller's id is
    kept when it looks sane, so a vendor can correlate their logs with ours."""

    @web.middleware
    async def middleware(request: web.Request, handler: _Handler) -> web.StreamResponse:
        incoming = request.headers.get(header, "")
        rid = incoming if 0 < len(incoming) <= 64 and incoming.isascii() and incoming.isprintable() else ""
        rid = rid or uuid.uuid4().hex
        bind_ids(request_id=rid)
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            exc.headers[header] = rid
            raise
        response.headers[header] = rid
        return response

    return middleware


def error_middleware() -> Middleware:
    """Turn GatewayError into a coded JSON answer; anything unexpected becomes a 500 with the
    request id and no internals (the log line carries the traceback, masked)."""

    @web.middleware
    async def middleware(request: web.Request, handler: _Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException:
            raise
        except GatewayError as exc:
            return web.json_response({"error": exc.to_dict()}, status=exc.http_status)
        except Exception:
            _log.exception("unhandled error", path=request.path)
            return web.json_response(
                {"error": {"code": "INTERNAL_ERROR", "message": "internal error; see the gateway log"}},
                status=500,
            )

    return middleware


async def healthz(_: web.Request) -> web.Response:
    """Alive: the process answers. Deliberately touches nothing else."""
    return web.json_response({"status": "ok", "version": __version__})


async def readyz(request: web.Request) -> web.Response:
    """Ready: the journal answers and its schema is at the head revision."""
    journal = request.app[JOURNAL_KEY]
    checks: dict[str, str] = {}
    ok = True
    try:
        await journal.ping()
        checks["database"] = "ok"
        current, head = await current_revision(journal.engine), head_revision()
        checks["schema"] = "ok" if current == head else f"at {current}, expected {head}"
        ok = current == head
    except Exception as exc:
        checks.setdefault("database", f"unreachable: {type(exc).__name__}")
        ok = False
    return web.json_response({"status": "ok" if ok else "unavailable", "checks": checks}, status=200 if ok else 503)


def _journal_ctx(config: GatewayConfig, clock: Clock) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        engine = create_engine(
            config.database_url,
            pool_size=config.storage.pool_size,
            sqlite_busy_timeout_ms=config.storage.sqlite_busy_timeout_ms,
        )
        try:
            if config.storage.auto_migrate:
                await upgrade(engine)
            app[JOURNAL_KEY] = Journal(engine, load_or_create_secret(config.secret_key_path), clock=clock)
            yield
        finally:
            await engine.dispose()

    return ctx


def create_app(config: GatewayConfig, *, clock: Clock | None = None) -> web.Application:
    """Build the gateway application. Resources (database engine, workers) are opened in
    cleanup contexts, in order, and closed in reverse on shutdown."""
    app = web.Application(
        client_max_size=config.server.max_body_bytes,
        middlewares=[request_id_middleware(), error_middleware()],
    )
    app[CONFIG_KEY] = config
    app[CLOCK_KEY] = clock or SystemClock()
    app.cleanup_ctx.append(_journal_ctx(config, app[CLOCK_KEY]))
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app

"""Client authentication for the REST API: ``Authorization: Bearer <token>``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Middleware

from gateway.appkeys import CLIENTS_KEY
from gateway.intake.clients import Client

__all__ = ["CLIENT", "client_auth_middleware", "current_client"]

CLIENT: Final = web.RequestKey("client", Client)
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _unauthorized(message: str) -> web.Response:
    return web.json_response(
        {"error": {"code": "UNAUTHORIZED", "message": message}},
        status=401,
        headers={"WWW-Authenticate": 'Bearer realm="mse-gateway"'},
    )


def client_auth_middleware(
    *, prefix: str = "/api/v1/", public: frozenset[str] = frozenset(), elsewhere: tuple[str, ...] = ()
) -> Middleware:
    """Require a valid client token on every path under ``prefix`` except ``public`` ones and
    those under ``elsewhere`` (prefixes with their own authentication: the operator API)."""

    @web.middleware
    async def middleware(request: web.Request, handler: _Handler) -> web.StreamResponse:
        if not request.path.startswith(prefix) or request.path in public or request.path.startswith(elsewhere):
            return await handler(request)
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _unauthorized("a client token is required: Authorization: Bearer <token>")
        client = await request.app[CLIENTS_KEY].authenticate(token.strip())
        if client is None:
            return _unauthorized("unknown or revoked client token")
        request[CLIENT] = client
        return await handler(request)

    return middleware


def current_client(request: web.Request) -> Client:
    client: Client = request[CLIENT]
    return client

"""The MIS's webhook endpoint for tests: a loopback server that keeps every POST with its headers,
so a test can check what the gateway notified (events, HMAC signatures) and how often."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class MisWebhook:
    received: list[tuple[dict[str, str], bytes]]
    url: str

    def documents(self) -> list[tuple[dict[str, str], dict[str, Any]]]:
        """The ``inbound.document`` notices received, as (headers, parsed body)."""
        out = []
        for headers, body in self.received:
            data = json.loads(body)
            if data.get("event") == "inbound.document":
                out.append((headers, data))
        return out


@contextlib.asynccontextmanager
async def mis_webhook() -> AsyncIterator[MisWebhook]:
    received: list[tuple[dict[str, str], bytes]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((dict(request.headers), await request.read()))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield MisWebhook(received, str(server.make_url("/hook")))
    finally:
        await server.close()

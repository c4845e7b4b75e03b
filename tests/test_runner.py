"""serve_apps: several processes' worth of apps can share one port when asked to (SO_REUSEPORT)."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp import web
from loopback_ports import free_port

from gateway.cli.runner import Served, serve_apps


def _app(name: str) -> web.Application:
    async def hello(_: web.Request) -> web.Response:
        return web.Response(text=name)

    app = web.Application()
    app.router.add_get("/", hello)
    return app


async def _serving(served: Served, stop: asyncio.Event) -> asyncio.Task[None]:
    started = asyncio.Event()
    task = asyncio.create_task(serve_apps([served], stop=stop, on_started=lambda _: started.set()))
    done, _ = await asyncio.wait([task, asyncio.create_task(started.wait())], return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()  # raises the bind error
    return task


async def test_two_servers_share_a_port_with_reusefree_port() -> None:
    port, stop = free_port(), asyncio.Event()
    first = await _serving(Served("a", _app("a"), "127.0.0.1", port, reuse_port=True), stop)
    second = await _serving(Served("b", _app("b"), "127.0.0.1", port, reuse_port=True), stop)
    answers = set()
    async with aiohttp.ClientSession() as http:
        for _ in range(64):  # the kernel spreads new connections over both listeners
            async with http.get(f"http://127.0.0.1:{port}/", headers={"Connection": "close"}) as resp:
                answers.add(await resp.text())
    stop.set()
    await asyncio.gather(first, second)
    assert answers == {"a", "b"}


async def test_without_reuse_port_the_second_bind_fails() -> None:
    port, stop = free_port(), asyncio.Event()
    first = await _serving(Served("a", _app("a"), "127.0.0.1", port), stop)
    with pytest.raises(OSError):
        await _serving(Served("b", _app("b"), "127.0.0.1", port), stop)
    stop.set()
    await first

"""The sandbox sender's resends (``submit_all``): over real HTTP on loopback, against a front door
that is down, says "not now" or refuses for good.

Regression: in a 2,000-request SMEV 3 run a gateway restart under load outlasted the sender's fixed
ten seconds of resends; the documents were simply not sent. The budget is now a time
(``retry_for``, generous by default) and only "not now" answers are resent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiohttp import web
from loopback_ports import free_port

from gateway.sandbox.simulate import SUBMIT_RETRY_FOR, Progress, serve_app, submit_all

DOCS = [{"local_uid": f"uid-{i}", "kind": "121"} for i in range(3)]


def _front_door(answer: Callable[[str, int], int]) -> tuple[web.Application, list[str]]:
    """A front door answering the n-th request (from 0) for a uid with ``answer(uid, n)``;
    records the uids it was sent."""
    seen: list[str] = []

    async def post(request: web.Request) -> web.Response:
        body: dict[str, Any] = await request.json()
        uid = body["local_uid"]
        status = answer(uid, seen.count(uid))
        seen.append(uid)
        return web.json_response({}, status=status)

    app = web.Application()
    app.router.add_post("/api/v1/submissions", post)
    return app, seen


async def test_a_front_door_that_comes_up_late_still_gets_every_document() -> None:
    port = free_port()
    app, seen = _front_door(lambda uid, n: 202)

    async def restart_then_serve() -> None:
        await asyncio.sleep(2.0)  # connection refused meanwhile: the gateway is restarting
        async with serve_app(app, port):
            await asyncio.sleep(15.0)

    server = asyncio.create_task(restart_then_serve())
    try:
        accepted, sent = await submit_all(f"http://127.0.0.1:{port}", "t", iter(DOCS), 3, 3, Progress(), retry_for=30)
    finally:
        server.cancel()
    assert sent == 3
    assert accepted == {"uid-0", "uid-1", "uid-2"}
    assert sorted(seen) == ["uid-0", "uid-1", "uid-2"]  # each sent once it was up


async def test_the_sender_gives_up_after_its_budget() -> None:
    port = free_port()  # nothing listens there during the whole budget
    loop = asyncio.get_running_loop()
    started = loop.time()
    accepted, sent = await submit_all(f"http://127.0.0.1:{port}", "t", iter(DOCS), 3, 3, Progress(), retry_for=1.0)
    assert accepted == set() and sent == 3
    assert loop.time() - started < 10.0
    assert SUBMIT_RETRY_FOR >= 120.0  # the default outlasts a restart on a loaded machine


async def test_not_now_is_resent_and_a_final_refusal_is_not() -> None:
    port = free_port()
    # uid-0: 503 twice (starting), then accepted; uid-1: 409, a final refusal.
    app, seen = _front_door(lambda uid, n: 409 if uid == "uid-1" else (503 if n < 2 else 202))
    async with serve_app(app, port):
        accepted, sent = await submit_all(
            f"http://127.0.0.1:{port}", "t", iter(DOCS[:2]), 2, 2, Progress(), retry_for=30
        )
    assert sent == 2
    assert accepted == {"uid-0"}
    assert seen.count("uid-0") == 3
    assert seen.count("uid-1") == 1  # a conflict is answered once, not resent

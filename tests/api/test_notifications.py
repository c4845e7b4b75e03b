"""Outcome notices: delivered to callback_url, HMAC-signed, retried from the journal until a 2xx,
and still delivered after a gateway restart."""

from __future__ import annotations

import asyncio
import hmac
import json
import socket
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from gateway.appkeys import CLIENTS_KEY
from gateway.intake.clients import sign_notice
from gateway.journal.outbox import Outbox

from .conftest import Gateway, start_gateway, submission
from .test_rest import wait_state


class Receiver:
    """An MIS callback endpoint that fails the first ``failures`` deliveries with HTTP 500."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[tuple[dict[str, str], bytes]] = []
        self.app = web.Application()
        self.app.router.add_post("/cb", self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        self.calls.append((dict(request.headers), await request.read()))
        if len(self.calls) <= self.failures:
            return web.Response(status=500, text="not today")
        return web.Response(status=204)


async def _wait(predicate: Any, timeout: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


async def _callback_key(gw: Gateway) -> bytes:
    registry = gw.client.server.app[CLIENTS_KEY]  # type: ignore[union-attr]
    client = await registry.get("mis-alpha")
    return await registry.callback_key(client.id)


async def test_notice_retried_after_two_failures_and_signed(gateway: Gateway) -> None:
    receiver = Receiver(failures=2)
    async with TestServer(receiver.app) as server:
        url = str(server.make_url("/cb"))
        body = submission(document="<broken", callback_url=url)  # rejected → a final state
        resp = await gateway.client.post("/api/v1/submissions", json=body, headers=gateway.auth)
        sid = (await resp.json())["id"]
        await wait_state(gateway, sid, "REJECTED")
        await _wait(lambda: len(receiver.calls) >= 3)
        await asyncio.sleep(0.3)  # no further deliveries after the 2xx
    assert len(receiver.calls) == 3
    headers, raw = receiver.calls[-1]
    notice = json.loads(raw)
    assert notice["id"] == sid and notice["state"] == "REJECTED" and notice["outcome"]["code"] == "XML_MALFORMED"
    expected = sign_notice(await _callback_key(gateway), headers["X-MSE-Timestamp"], raw)
    assert hmac.compare_digest(headers["X-MSE-Signature"], expected)
    assert [c[1] for c in receiver.calls] == [raw] * 3  # the same notice each time
    assert await Outbox(gateway.journal).states(sid) == [("rest", "delivered", 3)]
    timeline = (await (await gateway.client.get(f"/api/v1/submissions/{sid}", headers=gateway.auth)).json())["timeline"]
    assert [e["kind"] for e in timeline].count("notification") == 3


async def test_pending_notice_survives_a_restart(tmp_path: Path) -> None:
    receiver = Receiver(failures=0)
    server = TestServer(receiver.app)
    await server.start_server()
    url, port = str(server.make_url("/cb")), server.port
    await server.close()  # the MIS is down while the outcome is reached
    # Hold the port without listening (connections are refused, as to a host that is down) so the
    # gateway's own test server cannot be given it meanwhile and answer the notice itself.
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind(("127.0.0.1", port))
    async with start_gateway(tmp_path) as gw:
        body = submission(document="<broken", callback_url=url)
        sid = (await (await gw.client.post("/api/v1/submissions", json=body, headers=gw.auth)).json())["id"]
        await wait_state(gw, sid, "REJECTED")
        outbox = Outbox(gw.journal)
        for _ in range(600):  # generous: CI machines are shared
            if (await outbox.states(sid))[0][2] >= 1:
                break
            await asyncio.sleep(0.05)
        _, state, attempts = (await outbox.states(sid))[0]
        assert state == "pending" and attempts >= 1
    # The MIS comes back on the same address; a new gateway process on the same journal delivers.
    holder.close()
    server = TestServer(receiver.app, port=port)
    await server.start_server()
    try:
        async with start_gateway(tmp_path) as gw:
            await _wait(lambda: len(receiver.calls) == 1)
            await _wait_delivered(gw, sid)
    finally:
        await server.close()


async def _wait_delivered(gw: Gateway, sid: str) -> None:
    outbox = Outbox(gw.journal)
    for _ in range(600):
        if (await outbox.states(sid))[0][1] == "delivered":
            return
        await asyncio.sleep(0.05)
    raise AssertionError(await outbox.states(sid))

"""Client addresses behind a reverse proxy (issue 14 finding 9): X-Forwarded-For is believed only
from [server] trusted_proxies, so per-address login limits hit the guesser, not everyone behind the
proxy; /metrics without a token refuses what a proxy relayed, even from loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from gateway.appkeys import JOURNAL_KEY
from gateway.ui.users import Role, UserStore

from .conftest import PASSWORD, csrf_of, make_config


async def _client(tmp_path: Path, proxies: list[str]) -> AsyncIterator[TestClient[Any, Any]]:
    app = create_app(make_config(tmp_path).with_overrides(server={"trusted_proxies": proxies}))
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        await UserStore(app[JOURNAL_KEY].engine).add("olga", PASSWORD, Role.OPERATOR)
        yield client


@pytest.fixture
async def behind_proxy(tmp_path: Path) -> AsyncIterator[TestClient[Any, Any]]:
    async for c in _client(tmp_path / "proxied", ["127.0.0.1/32"]):
        yield c


@pytest.fixture
async def direct(tmp_path: Path) -> AsyncIterator[TestClient[Any, Any]]:
    async for c in _client(tmp_path / "direct", []):
        yield c


async def _login(client: TestClient[Any, Any], username: str, password: str, xff: str | None) -> int:
    headers = {"X-Forwarded-For": xff} if xff else {}
    csrf = csrf_of(await (await client.get("/ui/login", headers=headers)).text())
    resp = await client.post(
        "/ui/login",
        data={"username": username, "password": password, "csrf": csrf},
        headers=headers,
        allow_redirects=False,
    )
    return resp.status


async def test_a_guessing_address_behind_the_proxy_does_not_slow_the_others(
    behind_proxy: TestClient[Any, Any],
) -> None:
    for i in range(21):  # past 4 x login_max_failures for the guesser's address
        await _login(behind_proxy, f"guess-{i % 5}", "nope-nope-nope", "203.0.113.9")
    assert await _login(behind_proxy, "olga", PASSWORD, "203.0.113.9") == 429  # the guesser is slowed
    assert await _login(behind_proxy, "olga", PASSWORD, "198.51.100.7") == 303  # a colleague is not
    # a client cannot pick its address: the left part of the header is its own, the proxy appends
    assert await _login(behind_proxy, "olga", PASSWORD, "198.51.100.7, 203.0.113.9") == 429


async def test_x_forwarded_for_is_ignored_without_trusted_proxies(direct: TestClient[Any, Any]) -> None:
    for i in range(21):
        await _login(direct, f"guess-{i % 5}", "nope-nope-nope", f"203.0.113.{i}")  # rotating forged addresses
    assert await _login(direct, "olga", PASSWORD, "198.51.100.7") == 429  # all counted on the real peer


async def test_metrics_refuses_relayed_requests_without_a_token(
    behind_proxy: TestClient[Any, Any], direct: TestClient[Any, Any]
) -> None:
    assert (await direct.get("/metrics")).status == 200  # a local scraper
    # a local reverse proxy relaying for someone else: refused even though the peer is loopback
    assert (await direct.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})).status == 403
    assert (await direct.get("/metrics", headers={"Forwarded": "for=203.0.113.9"})).status == 403
    # a configured proxy relays: refused even when it adds no header
    assert (await behind_proxy.get("/metrics")).status == 403

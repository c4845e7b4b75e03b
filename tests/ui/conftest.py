"""A real gateway app (create_app) with the UI, metrics and alerts mounted, over real HTTP, on a
seeded SQLite journal."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from gateway.appkeys import JOURNAL_KEY
from gateway.config import GatewayConfig, load_config
from gateway.journal.store import Journal
from gateway.ui.users import Role, UserStore

from .seed import Seeded, StepClock, seed, start_time

PASSWORD = "correct horse battery"


def make_config(data_dir: Path) -> GatewayConfig:
    return load_config(environ={}).with_overrides(
        storage={"data_dir": str(data_dir)},
        workers={"enabled": False},  # the seeded states must stay as seeded
        peers={"remd": {"enabled": False}},
    )


@dataclass
class UiGateway:
    client: TestClient[Any, Any]
    journal: Journal
    clock: StepClock
    seeded: Seeded
    users: UserStore

    async def login(self, username: str, password: str = PASSWORD) -> None:
        form = await self.client.get("/ui/login")
        csrf = csrf_of(await form.text())
        resp = await self.client.post(
            "/ui/login", data={"username": username, "password": password, "csrf": csrf}, allow_redirects=False
        )
        assert resp.status == 303, await resp.text()

    async def csrf(self, path: str = "/ui/overview") -> str:
        return csrf_of(await (await self.client.get(path)).text())


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no CSRF field on the page"
    return m.group(1)


@pytest.fixture
async def gw(tmp_path: Path) -> AsyncIterator[UiGateway]:
    clock = StepClock(start_time())
    app = create_app(make_config(tmp_path).with_overrides(ui={"page_size": 10}), clock=clock)
    async with TestClient(TestServer(app)) as client:
        journal = app[JOURNAL_KEY]
        seeded = await seed(journal, clock)
        users = UserStore(journal.engine, clock=clock)
        await users.add("olga", PASSWORD, Role.OPERATOR)
        await users.add("victor", PASSWORD, Role.VIEWER)
        await users.add("anna", PASSWORD, Role.ADMIN)
        yield UiGateway(client, journal, clock, seeded, users)
